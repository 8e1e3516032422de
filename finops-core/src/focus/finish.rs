//! The last step of every FOCUS mapping, owned by core: the stored types and the cost
//! products.
//!
//! A mapping (a vendor's SQL, the upgrade of a delivered FOCUS file) writes its numbers at
//! the precision it has them, raw tables' `DECIMAL(38, 18)`. This step
//! 1. rounds unit prices and quantities half to even to `DECIMAL(38, 10)` and costs to
//!    `DECIMAL(38, 20)`, recording every rounding ([`crate::precision`]);
//! 2. derives `ListCost = ListUnitPrice × PricingQuantity` and `ContractedCost =
//!    ContractedUnitPrice × PricingQuantity` from the *stored* values, on every row where
//!    FOCUS requires the product (ChargeClass not `Correction`, both factors present), so the
//!    invariants hold exactly whatever the source's rounding; the mapping's own figure
//!    (the source's list cost, when it has one) is kept where the product does not apply,
//!    and its distance from the product is recorded (kind `derived-cost`);
//! 3. casts every other column to its FOCUS type.
//!
//! Mappings therefore never multiply prices by quantities, nor cast a number to a narrower
//! scale: a `CAST` rounds half away from zero without a record.

use super::columns::{COLUMNS, DataType};
use crate::error::{Error, Result};
use crate::naming::quote_ident;
use crate::precision::{HIDDEN_PREFIX, NumberKind, RoundingColumn, round_half_even};

/// The finishing `SELECT` over a mapping's output, and its hidden rounding columns.
#[derive(Debug)]
pub struct Finished {
    /// `SELECT … FROM (<mapped>)`: FOCUS columns in order, the mapping's `x_` columns, then
    /// the hidden rounding columns.
    pub sql: String,
    /// The hidden rounding columns.
    pub roundings: Vec<RoundingColumn>,
}

/// The products FOCUS requires, as (cost, unit price).
const PRODUCTS: [(&str, &str); 2] = [
    ("ListCost", "ListUnitPrice"),
    ("ContractedCost", "ContractedUnitPrice"),
];

/// The scale a FOCUS decimal column keeps.
fn scale_of(ty: DataType) -> u32 {
    match ty {
        DataType::Cost => 20,
        _ => 10,
    }
}

/// The scale of a DuckDB type: `Some(s)` for `DECIMAL(p, s)`, `Some(0)` for integers,
/// `None` for anything else.
fn numeric_scale(ty: &str) -> Option<u32> {
    if let Some(inner) = ty
        .strip_prefix("DECIMAL(")
        .and_then(|t| t.strip_suffix(')'))
    {
        return inner.split(',').nth(1)?.trim().parse().ok();
    }
    matches!(
        ty,
        "TINYINT"
            | "SMALLINT"
            | "INTEGER"
            | "BIGINT"
            | "HUGEINT"
            | "UTINYINT"
            | "USMALLINT"
            | "UINTEGER"
            | "UBIGINT"
    )
    .then_some(0)
}

/// The finishing `SELECT` over `mapped` (an SQL relation: a view name or a parenthesised
/// `SELECT`) whose columns are `columns` (name, DuckDB type). A FOCUS decimal column the
/// mapping wrote as text or floating point is a mapping error, not rounded.
pub fn finish(mapped: &str, columns: &[(String, String)]) -> Result<Finished> {
    let type_of = |name: &str| {
        columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    };
    let src = |name: &str| format!("{HIDDEN_PREFIX}src_{name}");
    let hidden = |name: &str| format!("{HIDDEN_PREFIX}rounding_{name}");
    let mut inner = Vec::new();
    let mut sources = Vec::new();
    let mut roundings = Vec::new();
    let mut outer_roundings = Vec::new();
    for c in COLUMNS {
        let col = quote_ident(c.name);
        let target = c.data_type.sql();
        let Some(ty) = type_of(c.name) else {
            inner.push(format!("CAST(NULL AS {target}) AS {col}"));
            continue;
        };
        if !c.data_type.is_decimal() {
            inner.push(format!("CAST({col} AS {target}) AS {col}"));
            continue;
        }
        let scale = scale_of(c.data_type);
        let Some(from) = numeric_scale(ty) else {
            return Err(Error::FocusMapping {
                column: c.name.to_owned(),
                detail: format!("it is {ty}; a mapping writes FOCUS numbers as decimals"),
            });
        };
        let product = PRODUCTS.iter().any(|(cost, _)| *cost == c.name);
        if from <= scale && !product {
            inner.push(format!("CAST({col} AS {target}) AS {col}"));
            continue;
        }
        let stored = if from <= scale {
            format!("CAST({col} AS {target})")
        } else {
            round_half_even(&col, scale)
        };
        inner.push(format!("{stored} AS {col}"));
        inner.push(format!("{col} AS {}", quote_ident(&src(c.name))));
        sources.push(quote_ident(&src(c.name)));
        let kind = match c.data_type {
            _ if product => NumberKind::DerivedCost,
            DataType::Cost => NumberKind::Money,
            DataType::UnitPrice => NumberKind::UnitPrice,
            _ => NumberKind::Quantity,
        };
        let final_value = if product {
            product_expr(c.name)
        } else {
            col.clone()
        };
        outer_roundings.push(format!(
            "NULLIF(CAST({} - {final_value} AS DOUBLE), 0) AS {}",
            quote_ident(&src(c.name)),
            quote_ident(&hidden(c.name))
        ));
        roundings.push(RoundingColumn {
            column: c.name.to_owned(),
            hidden: hidden(c.name),
            kind,
            scale,
            list: false,
        });
    }
    for (name, _) in columns {
        if name.len() > 2 && name[..2].eq_ignore_ascii_case("x_") {
            inner.push(quote_ident(name));
        }
    }
    let replace: Vec<String> = PRODUCTS
        .iter()
        .map(|(cost, _)| format!("{} AS {}", product_expr(cost), quote_ident(cost)))
        .collect();
    let exclude = if sources.is_empty() {
        String::new()
    } else {
        format!(" EXCLUDE ({})", sources.join(", "))
    };
    let mut outer = vec![format!("*{exclude} REPLACE ({})", replace.join(", "))];
    outer.extend(outer_roundings);
    Ok(Finished {
        sql: format!(
            "SELECT {} FROM (SELECT {} FROM {mapped})",
            outer.join(", "),
            inner.join(", ")
        ),
        roundings,
    })
}

/// Makes the temporary view `finops_focus_mapped` run `focus_sql` (a mapping over the view
/// `finops_period`) on `conn`, and returns the finishing `SELECT` over it.
pub fn prepare(conn: &duckdb::Connection, focus_sql: &str) -> Result<Finished> {
    let action = "preparing the FOCUS mapping";
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP VIEW finops_focus_mapped AS {focus_sql}"
    ))
    .map_err(Error::db(action))?;
    let mut stmt = conn
        .prepare("SELECT column_name, column_type FROM (DESCRIBE finops_focus_mapped)")
        .map_err(Error::db(action))?;
    let columns = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(Error::db(action))?
        .collect::<duckdb::Result<Vec<(String, String)>>>()
        .map_err(Error::db(action))?;
    finish("finops_focus_mapped", &columns)
}

/// `ListCost` where FOCUS requires the product: from the stored (rounded) factors.
fn product_expr(cost: &str) -> String {
    let price = PRODUCTS
        .iter()
        .find(|(c, _)| *c == cost)
        .map_or("ListUnitPrice", |(_, p)| p);
    format!(
        "CASE WHEN \"ChargeClass\" IS NULL AND {p} IS NOT NULL AND \"PricingQuantity\" IS NOT NULL \
         THEN CAST({p} * \"PricingQuantity\" AS DECIMAL(38, 20)) ELSE {c} END",
        p = quote_ident(price),
        c = quote_ident(cost)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_rounded_and_products_derived_from_them() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE m AS SELECT * FROM (VALUES
               (NULL, CAST('1.686400000000000100' AS DECIMAL(38, 18)), CAST('0.000000000150000000' AS DECIMAL(38, 18)), CAST('9.99' AS DECIMAL(38, 18)), CAST('0.5' AS DECIMAL(38, 18)), 'x'),
               ('Correction', CAST('2' AS DECIMAL(38, 18)), CAST('3' AS DECIMAL(38, 18)), CAST('-4' AS DECIMAL(38, 18)), CAST('0.5' AS DECIMAL(38, 18)), 'y'),
               (NULL, NULL, NULL, CAST('7.25' AS DECIMAL(38, 18)), CAST('7.25' AS DECIMAL(38, 18)), 'z')
             ) t(\"ChargeClass\", \"ListUnitPrice\", \"PricingQuantity\", \"ListCost\", \"BilledCost\", \"x_Tag\")",
        )
        .unwrap();
        let columns: Vec<(String, String)> = conn
            .prepare("SELECT column_name, column_type FROM (DESCRIBE m)")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        let f = finish("m", &columns).unwrap();
        conn.execute_batch(&format!("CREATE TABLE f AS {}", f.sql))
            .unwrap();
        let rows: Vec<(Option<String>, Option<String>, String, String)> = conn
            .prepare("SELECT CAST(\"ListUnitPrice\" AS VARCHAR), CAST(\"PricingQuantity\" AS VARCHAR), CAST(\"ListCost\" AS VARCHAR), \"x_Tag\" FROM f ORDER BY \"x_Tag\"")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (
                    Some("1.6864000000".into()),
                    Some("0.0000000002".into()),
                    "0.00000000033728000000".into(),
                    "x".into()
                ),
                (
                    Some("2.0000000000".into()),
                    Some("3.0000000000".into()),
                    "-4.00000000000000000000".into(),
                    "y".into()
                ),
                (None, None, "7.25000000000000000000".into(), "z".into()),
            ]
        );
        let r = crate::precision::read_roundings(&conn, "f", "focus", &f.roundings).unwrap();
        let got: Vec<(&str, u64, NumberKind)> = r
            .iter()
            .map(|r| (r.column.as_str(), r.values, r.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("ListCost", 1, NumberKind::DerivedCost),
                ("ListUnitPrice", 1, NumberKind::UnitPrice),
                ("PricingQuantity", 1, NumberKind::Quantity),
            ]
        );
    }

    #[test]
    fn a_double_in_a_number_column_is_a_mapping_error() {
        let err = finish("m", &[("BilledCost".into(), "DOUBLE".into())]).unwrap_err();
        assert!(err.to_string().contains("BilledCost"), "{err}");
    }
}
