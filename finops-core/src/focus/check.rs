//! `finops focus validate`: FOCUS conformance checks run in DuckDB over `focus.cost_and_usage`.
//!
//! Per-column rules (presence, type, nullability, allowed values, ASCII strings, JSON objects,
//! non-negative unit prices) come from [`super::columns`]; the cross-column rules of the
//! specification (the cost products, pricing nullability by charge category, paired columns,
//! commitment status) are listed here. Rule ids name the column and what is checked.
//!
//! Where focus-validator 2.2.1's model 1.2.0.1 loses a rule's condition (CapacityReservationStatus,
//! CommitmentDiscountStatus, InvoiceId nullability), these rules follow the specification's
//! text instead; see docs/focus.md.

use serde::Serialize;

use super::Version;
use super::columns::{self, DataType};
use crate::error::{Error, Result};
use crate::naming::{quote_ident, quote_literal};
use crate::warehouse::Warehouse;

/// The outcome of one rule.
#[derive(Debug, Serialize)]
pub struct RuleResult {
    /// Rule id (`BilledCost-not-null`).
    pub id: String,
    /// The requirement, in the specification's words.
    pub must: String,
    /// Rows (or columns) violating it.
    pub violations: u64,
    /// Up to three violating rows, as JSON.
    pub examples: Vec<String>,
}

struct Rule {
    id: String,
    must: String,
    /// SQL predicate true for a violating row.
    violation: String,
    /// Columns the rule reads (all must be present for it to run).
    needs: Vec<&'static str>,
}

fn rule(
    id: impl Into<String>,
    must: impl Into<String>,
    violation: impl Into<String>,
    needs: &[&'static str],
) -> Rule {
    Rule {
        id: id.into(),
        must: must.into(),
        violation: violation.into(),
        needs: needs.to_vec(),
    }
}

fn q(c: &str) -> String {
    quote_ident(c)
}

/// The row rules for `version`.
fn row_rules(version: Version) -> Vec<Rule> {
    let mut rules = Vec::new();
    for c in columns::of(version) {
        let col = q(c.name);
        if !c.nullable {
            rules.push(rule(
                format!("{}-not-null", c.name),
                format!("{} MUST NOT be null", c.name),
                format!("{col} IS NULL"),
                &[c.name],
            ));
        }
        if let Some(allowed) = c.allowed {
            let list: Vec<String> = allowed.iter().map(|v| quote_literal(v)).collect();
            rules.push(rule(
                format!("{}-allowed-values", c.name),
                format!("{} MUST be one of {}", c.name, allowed.join(", ")),
                format!("{col} IS NOT NULL AND {col} NOT IN ({})", list.join(", ")),
                &[c.name],
            ));
        }
        match c.data_type {
            DataType::String | DataType::Json => rules.push(rule(
                format!("{}-ascii", c.name),
                format!("{} MUST contain only ASCII characters (FOCUS string handling, as validators check it)", c.name),
                format!("{col} IS NOT NULL AND NOT regexp_matches({col}, '^[\\x00-\\x7F]*$')"),
                &[c.name],
            )),
            DataType::UnitPrice => rules.push(rule(
                format!("{}-non-negative", c.name),
                format!("{} MUST be a non-negative decimal value", c.name),
                format!("{col} < 0"),
                &[c.name],
            )),
            _ => {}
        }
        if c.data_type == DataType::Json {
            rules.push(rule(
                format!("{}-json-object", c.name),
                format!("{} MUST be a serialized JSON object", c.name),
                format!(
                    "{col} IS NOT NULL AND (NOT json_valid({col}) OR json_type({col}) <> 'OBJECT')"
                ),
                &[c.name],
            ));
        }
    }
    for cur in ["BillingCurrency", "PricingCurrency"] {
        rules.push(rule(
            format!("{cur}-format"),
            format!("{cur} MUST be a three-letter ISO 4217 code"),
            format!(
                "{} IS NOT NULL AND NOT regexp_matches({}, '^[A-Z]{{3}}$')",
                q(cur),
                q(cur)
            ),
            &[if cur == "BillingCurrency" {
                "BillingCurrency"
            } else {
                "PricingCurrency"
            }],
        ));
    }
    for (cost, price) in [
        ("ListCost", "ListUnitPrice"),
        ("ContractedCost", "ContractedUnitPrice"),
    ] {
        rules.push(rule(
            format!("{cost}-product"),
            format!("{cost} MUST equal {price} × PricingQuantity when both are not null (non-correction rows)"),
            format!(
                "\"ChargeClass\" IS NULL AND {p} IS NOT NULL AND \"PricingQuantity\" IS NOT NULL AND {c} <> {p} * \"PricingQuantity\"",
                p = q(price),
                c = q(cost)
            ),
            &[if cost == "ListCost" { "ListCost" } else { "ContractedCost" }, if price == "ListUnitPrice" { "ListUnitPrice" } else { "ContractedUnitPrice" }, "PricingQuantity", "ChargeClass"],
        ));
    }
    rules.push(rule(
        "ChargeFrequency-purchase",
        "ChargeFrequency MUST NOT be \"Usage-Based\" when ChargeCategory is \"Purchase\"",
        "\"ChargeCategory\" = 'Purchase' AND \"ChargeFrequency\" = 'Usage-Based'",
        &["ChargeCategory", "ChargeFrequency"],
    ));
    rules.push(rule(
        "BilledCost-third-party",
        "BilledCost MUST be 0 when the charge is paid to a third party (ProviderName differs from InvoiceIssuerName)",
        "\"ProviderName\" <> \"InvoiceIssuerName\" AND \"BilledCost\" <> 0",
        &["ProviderName", "InvoiceIssuerName", "BilledCost"],
    ));
    for c in [
        "PricingQuantity",
        "PricingUnit",
        "ListUnitPrice",
        "ContractedUnitPrice",
        "SkuId",
        "SkuPriceId",
        "PricingCategory",
    ] {
        rules.push(rule(
            format!("{c}-tax-null"),
            format!("{c} MUST be null when ChargeCategory is \"Tax\""),
            format!("\"ChargeCategory\" = 'Tax' AND {} IS NOT NULL", q(c)),
            &[
                "ChargeCategory",
                columns::get(c).map_or("ChargeCategory", |col| col.name),
            ],
        ));
        rules.push(rule(
            format!("{c}-priced-not-null"),
            format!("{c} MUST NOT be null when ChargeCategory is \"Usage\" or \"Purchase\" and ChargeClass is not \"Correction\""),
            format!("\"ChargeCategory\" IN ('Usage', 'Purchase') AND \"ChargeClass\" IS NULL AND {} IS NULL", q(c)),
            &["ChargeCategory", "ChargeClass", columns::get(c).map_or("ChargeCategory", |col| col.name)],
        ));
    }
    // a is null exactly when b is null
    for (a, b) in [
        ("PricingUnit", "PricingQuantity"),
        ("ConsumedUnit", "ConsumedQuantity"),
        ("RegionName", "RegionId"),
        ("ResourceType", "ResourceId"),
        ("BillingAccountType", "BillingAccountId"),
        ("SubAccountType", "SubAccountId"),
        ("CommitmentDiscountCategory", "CommitmentDiscountId"),
        ("CommitmentDiscountType", "CommitmentDiscountId"),
        ("CommitmentDiscountUnit", "CommitmentDiscountQuantity"),
        ("SkuPriceId", "SkuId"),
        ("CapacityReservationStatus", "CapacityReservationId"),
    ] {
        rules.push(rule(
            format!("{a}-null-iff-{b}"),
            format!("{a} MUST be null exactly when {b} is null"),
            format!("({} IS NULL) <> ({} IS NULL)", q(a), q(b)),
            &[static_name(a), static_name(b)],
        ));
    }
    // a must be null when b is null
    for (a, b) in [
        ("CommitmentDiscountStatus", "CommitmentDiscountId"),
        ("CommitmentDiscountName", "CommitmentDiscountId"),
        ("SubAccountName", "SubAccountId"),
        ("SkuPriceDetails", "SkuPriceId"),
        ("SkuMeter", "SkuId"),
        ("AllocatedResourceName", "AllocatedResourceId"),
        ("AllocatedMethodDetails", "AllocatedMethodId"),
    ] {
        rules.push(rule(
            format!("{a}-null-when-{b}-null"),
            format!("{a} MUST be null when {b} is null"),
            format!("{} IS NULL AND {} IS NOT NULL", q(b), q(a)),
            &[static_name(a), static_name(b)],
        ));
    }
    rules.push(rule(
        "CommitmentDiscountStatus-usage",
        "CommitmentDiscountStatus MUST NOT be null when CommitmentDiscountId is not null and ChargeCategory is \"Usage\"",
        "\"CommitmentDiscountId\" IS NOT NULL AND \"ChargeCategory\" = 'Usage' AND \"CommitmentDiscountStatus\" IS NULL",
        &["CommitmentDiscountId", "ChargeCategory", "CommitmentDiscountStatus"],
    ));
    rules.push(rule(
        "CapacityReservationStatus-usage",
        "CapacityReservationStatus MUST NOT be null when CapacityReservationId is not null and ChargeCategory is \"Usage\"",
        "\"CapacityReservationId\" IS NOT NULL AND \"ChargeCategory\" = 'Usage' AND \"CapacityReservationStatus\" IS NULL",
        &["CapacityReservationId", "ChargeCategory", "CapacityReservationStatus"],
    ));
    rules.push(rule(
        "ConsumedQuantity-usage",
        "ConsumedQuantity MUST NOT be null for Usage rows that are not corrections or unused commitments",
        "\"ChargeCategory\" = 'Usage' AND \"ChargeClass\" IS NULL AND \"CommitmentDiscountStatus\" IS DISTINCT FROM 'Unused' AND \"ConsumedQuantity\" IS NULL",
        &["ChargeCategory", "ChargeClass", "CommitmentDiscountStatus", "ConsumedQuantity"],
    ));
    rules.push(rule(
        "ConsumedQuantity-not-usage",
        "ConsumedQuantity MUST be null when ChargeCategory is not \"Usage\"",
        "\"ChargeCategory\" <> 'Usage' AND \"ConsumedQuantity\" IS NOT NULL",
        &["ChargeCategory", "ConsumedQuantity"],
    ));
    rules.push(rule(
        "ServiceSubcategory-parent",
        "ServiceSubcategory MUST belong to its ServiceCategory",
        "\"ServiceSubcategory\" LIKE 'Other (%)' AND \"ServiceSubcategory\" <> 'Other (' || \"ServiceCategory\" || ')'",
        &["ServiceSubcategory", "ServiceCategory"],
    ));
    rules.push(rule(
        "ChargePeriod-order",
        "ChargePeriodEnd MUST NOT be before ChargePeriodStart",
        "\"ChargePeriodEnd\" < \"ChargePeriodStart\"",
        &["ChargePeriodStart", "ChargePeriodEnd"],
    ));
    rules
}

fn static_name(name: &str) -> &'static str {
    columns::get(name).map_or("ChargeCategory", |c| c.name)
}

fn type_ok(data_type: DataType, sql: &str) -> bool {
    match data_type {
        DataType::String => sql == "VARCHAR",
        DataType::Json => sql == "VARCHAR" || sql == "JSON",
        DataType::DateTime => sql.starts_with("TIMESTAMP") || sql == "DATE",
        DataType::Cost | DataType::UnitPrice | DataType::Quantity => {
            sql.starts_with("DECIMAL") || sql == "DOUBLE" || sql == "FLOAT"
        }
    }
}

/// Runs every rule of `version` over the FOCUS table. The table must exist.
pub fn check(wh: &Warehouse, version: Version) -> Result<Vec<RuleResult>> {
    let table = super::table();
    let qualified = wh.qualified(&table);
    let action = "checking FOCUS conformance";
    let present = wh.columns(&table.schema, &table.name)?;
    let type_of = |name: &str| {
        present
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    };
    let mut results = Vec::new();
    for c in columns::of(version) {
        let (violations, must) = match type_of(c.name) {
            None => (1, format!("Column {} MUST be present", c.name)),
            Some(_) => (0, format!("Column {} MUST be present", c.name)),
        };
        results.push(RuleResult {
            id: format!("{}-present", c.name),
            must,
            violations,
            examples: Vec::new(),
        });
        if let Some(t) = type_of(c.name) {
            results.push(RuleResult {
                id: format!("{}-type", c.name),
                must: format!("{} MUST be of type {:?}", c.name, c.data_type),
                violations: u64::from(!type_ok(c.data_type, t)),
                examples: if type_ok(c.data_type, t) {
                    Vec::new()
                } else {
                    vec![format!("\"{t}\"")]
                },
            });
        }
    }
    for r in row_rules(version) {
        if r.needs.iter().any(|n| type_of(n).is_none()) {
            continue;
        }
        let violations: i64 = wh
            .conn()
            .query_row(
                &format!("SELECT count(*) FROM {qualified} WHERE {}", r.violation),
                [],
                |row| row.get(0),
            )
            .map_err(Error::db(format!("checking {}", r.id)))?;
        let mut examples = Vec::new();
        if violations > 0 {
            let cols: Vec<String> = ["x_source", "x_billing_period"]
                .iter()
                .map(|c| q(c))
                .chain(r.needs.iter().map(|c| q(c)))
                .collect();
            let mut stmt = wh
                .conn()
                .prepare(&format!(
                    "SELECT CAST(to_json(t) AS VARCHAR) FROM (SELECT {} FROM {qualified} WHERE {} LIMIT 3) t",
                    cols.join(", "),
                    r.violation
                ))
                .map_err(Error::db(action))?;
            let rows = stmt
                .query_map([], |row| row.get(0))
                .map_err(Error::db(action))?;
            examples = rows
                .collect::<duckdb::Result<_>>()
                .map_err(Error::db(action))?;
        }
        results.push(RuleResult {
            id: r.id,
            must: r.must,
            violations: u64::try_from(violations).unwrap_or(0),
            examples,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_reference_known_columns() {
        for r in row_rules(Version::V1_3) {
            for n in &r.needs {
                assert!(
                    columns::get(n).is_some() || n.starts_with("x_"),
                    "{} needs unknown {n}",
                    r.id
                );
            }
        }
        assert!(row_rules(Version::V1_3).len() > row_rules(Version::V1_2).len());
    }
}
