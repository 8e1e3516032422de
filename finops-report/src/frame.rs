//! DuckDB → polars, and polars values → exact text.

use crate::error::Error;
use duckdb::polars::prelude::*;
use finops_core::Warehouse;

/// Runs `sql` and collects its Arrow batches into one polars frame. An empty result has the
/// query's columns and no rows.
pub(crate) fn query(wh: &Warehouse, sql: &str, action: &str) -> miette::Result<DataFrame> {
    let db = |e: duckdb::Error| Error::query(action)(e);
    tracing::debug!("report query: {sql}");
    let mut stmt = wh.conn().prepare(sql).map_err(db)?;
    let frames: Vec<DataFrame> = stmt.query_polars([]).map_err(db)?.collect();
    let mut frames = frames.into_iter();
    let Some(mut df) = frames.next() else {
        return Ok(DataFrame::empty());
    };
    for more in frames {
        df.vstack_mut(&more).map_err(polars_error(action))?;
    }
    df.as_single_chunk_par();
    Ok(df)
}

/// Every row of `sql` (with `params`) through `f`, for small results read row by row; an
/// error names `action`.
pub(crate) fn rows<T, P: duckdb::Params>(
    wh: &Warehouse,
    sql: &str,
    params: P,
    action: &str,
    f: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> miette::Result<Vec<T>> {
    let mut stmt = wh.conn().prepare(sql).map_err(Error::query(action))?;
    let rows = stmt
        .query_map(params, f)
        .map_err(Error::query(action))?
        .collect::<duckdb::Result<Vec<T>>>()
        .map_err(Error::query(action))?;
    Ok(rows)
}

/// Maps a polars error into a diagnostic naming what was being done.
pub(crate) fn polars_error(action: &str) -> impl Fn(PolarsError) -> miette::Report + '_ {
    move |e| Error::query(action)(e).into()
}

/// The text of cell `i` of `col`: decimals with every significant digit and no trailing
/// zeros, dates as `YYYY-MM-DD` (polars' own formatting), `None` for null.
pub(crate) fn text(col: &Column, i: usize) -> Option<String> {
    match col.get(i).ok()? {
        AnyValue::Null => None,
        AnyValue::Decimal(v, scale) => Some(decimal_text(v, scale)),
        AnyValue::String(s) => Some(s.to_owned()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

/// `1234500` at scale 4 → `123.45`: exact, trailing zeros dropped.
pub(crate) fn decimal_text(v: i128, scale: usize) -> String {
    let negative = v < 0;
    let digits = v.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    let frac = frac.trim_end_matches('0');
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_every_digit() {
        assert_eq!(decimal_text(16_823_086_974_000, 13), "1.6823086974");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(1_200, 2), "12");
        assert_eq!(decimal_text(0, 20), "0");
        assert_eq!(
            decimal_text(i128::MAX, 20),
            "1701411834604692317.31687303715884105727"
        );
    }

    #[test]
    fn dates() {
        let days = Column::new("d".into(), [0i32, 19_723, 19_782])
            .cast(&DataType::Date)
            .unwrap();
        assert_eq!(text(&days, 0).as_deref(), Some("1970-01-01"));
        assert_eq!(text(&days, 1).as_deref(), Some("2024-01-01"));
        assert_eq!(text(&days, 2).as_deref(), Some("2024-02-29"));
    }
}
