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
use crate::precision::{HIDDEN_PREFIX, NumberKind, RoundingColumn, decimal_type, round_half_even};

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

/// Columns that usually hold the same value as an earlier one, as (column, twin): the price
/// in the pricing currency when no currency is converted, the contracted price where there
/// is no discount, the consumed quantity where it is the priced one. Where the two are
/// equal the column takes its twin's rounded value, so a row rounds one value instead of
/// two: DuckDB divides a 38-digit decimal bit by bit (about 0.4 µs a value), and rounding
/// was most of the time spent computing a period's numbers (1 M CUR 2.0 rows: seven
/// rounded columns 1.69 s, with twins 0.76 s; the same values to the last digit).
const TWINS: [(&str, &str); 5] = [
    ("ContractedUnitPrice", "ListUnitPrice"),
    ("PricingCurrencyListUnitPrice", "ListUnitPrice"),
    ("PricingCurrencyContractedUnitPrice", "ContractedUnitPrice"),
    ("ConsumedQuantity", "PricingQuantity"),
    ("CommitmentDiscountQuantity", "PricingQuantity"),
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
    if ty.starts_with("DECIMAL(") {
        return decimal_type(ty).map(|(_, scale)| scale);
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
    // The stored expression of each rounded column so far, for its twins.
    let mut rounded: Vec<(&str, String)> = Vec::new();
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
        let mut stored = if from <= scale {
            format!("CAST({col} AS {target})")
        } else {
            round_half_even(&col, scale)
        };
        let twin = TWINS
            .iter()
            .find(|(name, _)| *name == c.name)
            .and_then(|(_, twin)| rounded.iter().find(|(n, _)| n == twin));
        if let Some((twin, twin_stored)) = twin {
            stored = format!(
                "CASE WHEN {col} = {} THEN {twin_stored} ELSE {stored} END",
                quote_ident(twin)
            );
        }
        if !product {
            rounded.push((c.name, stored.clone()));
        }
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
        // Cast to DOUBLE (another software division) only where something was rounded.
        let delivered = quote_ident(&src(c.name));
        outer_roundings.push(format!(
            "CASE WHEN {delivered} <> {final_value} THEN CAST({delivered} - {final_value} AS DOUBLE) END AS {}",
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

    /// The finishing step over the table `m`.
    fn finish_m(conn: &duckdb::Connection) -> Finished {
        let columns: Vec<(String, String)> = conn
            .prepare("SELECT column_name, column_type FROM (DESCRIBE m)")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        finish("m", &columns).unwrap()
    }

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
        let f = finish_m(&conn);
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
    fn a_twin_equal_to_its_column_takes_its_rounded_value_and_its_own_record() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        // Rows: twins equal (a tie: half to even), twins different, the twin alone.
        conn.execute_batch(
            "CREATE TABLE m AS SELECT * FROM (VALUES
               (CAST('0.00000000025' AS DECIMAL(38, 18)), CAST('0.00000000025' AS DECIMAL(38, 18)), CAST('0.00000000025' AS DECIMAL(38, 18)), 'a'),
               (CAST('1.00000000015' AS DECIMAL(38, 18)), CAST('2.000000000149' AS DECIMAL(38, 18)), CAST('1' AS DECIMAL(38, 18)), 'b'),
               (NULL, CAST('3.00000000005' AS DECIMAL(38, 18)), NULL, 'c')
             ) t(\"ListUnitPrice\", \"ContractedUnitPrice\", \"PricingCurrencyContractedUnitPrice\", \"x_Row\")",
        )
        .unwrap();
        let f = finish_m(&conn);
        assert!(
            f.sql
                .contains("CASE WHEN \"ContractedUnitPrice\" = \"ListUnitPrice\""),
            "{}",
            f.sql
        );
        conn.execute_batch(&format!("CREATE TABLE f AS {}", f.sql))
            .unwrap();
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> = conn
            .prepare("SELECT CAST(\"ListUnitPrice\" AS VARCHAR), CAST(\"ContractedUnitPrice\" AS VARCHAR), CAST(\"PricingCurrencyContractedUnitPrice\" AS VARCHAR) FROM f ORDER BY \"x_Row\"")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            rows,
            [
                (s("0.0000000002"), s("0.0000000002"), s("0.0000000002")),
                (s("1.0000000002"), s("2.0000000001"), s("1.0000000000")),
                (None, s("3.0000000000"), None),
            ]
        );
        let r = crate::precision::read_roundings(&conn, "f", "focus", &f.roundings).unwrap();
        let got: Vec<(&str, u64)> = r.iter().map(|r| (r.column.as_str(), r.values)).collect();
        assert_eq!(
            got,
            [
                ("ListUnitPrice", 2),
                ("ContractedUnitPrice", 3),
                ("PricingCurrencyContractedUnitPrice", 1),
            ]
        );
    }

    #[test]
    fn a_double_in_a_number_column_is_a_mapping_error() {
        let err = finish("m", &[("BilledCost".into(), "DOUBLE".into())]).unwrap_err();
        assert!(err.to_string().contains("BilledCost"), "{err}");
    }
}
