//! DuckDB → polars, and polars values → exact text.

use duckdb::polars::prelude::*;
use finops_core::Warehouse;

/// Runs `sql` and collects its Arrow batches into one polars frame. An empty result has the
/// query's columns and no rows.
pub(crate) fn query(wh: &Warehouse, sql: &str, action: &str) -> miette::Result<DataFrame> {
    let db = |e: duckdb::Error| miette::miette!(code = "finops::report::query", "{action}: {e}");
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

/// Maps a polars error into a diagnostic naming what was being done.
pub(crate) fn polars_error(action: &str) -> impl Fn(PolarsError) -> miette::Report + '_ {
    move |e| miette::miette!(code = "finops::report::polars", "{action}: {e}")
}

/// The text of cell `i` of `col`: decimals with every significant digit and no trailing
/// zeros, dates as `YYYY-MM-DD`, `None` for null.
pub(crate) fn text(col: &Column, i: usize) -> Option<String> {
    match col.get(i).ok()? {
        AnyValue::Null => None,
        AnyValue::Decimal(v, scale) => Some(decimal_text(v, scale)),
        AnyValue::String(s) => Some(s.to_owned()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        AnyValue::Date(days) => Some(date_text(days)),
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

/// Days since 1970-01-01 → `YYYY-MM-DD` (proleptic Gregorian, Howard Hinnant's algorithm).
pub(crate) fn date_text(days: i32) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
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
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_723), "2024-01-01");
        assert_eq!(date_text(19_782), "2024-02-29");
    }
}
