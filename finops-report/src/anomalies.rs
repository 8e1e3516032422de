//! `finops report anomalies`: each series' daily cost against its own recent history.
//!
//! A series is one value of the `--by` dimensions in one currency. DuckDB sums the FOCUS rows
//! per series and day and fills the days without rows with 0 (so that a stop in spending is
//! seen); a series starts on its first day with cost, and its first `--window` days are not
//! judged (an export imported today, or a new service, is not an anomaly). In polars, for every day, the
//! expected cost is the median of the series' previous `--window` days and the spread is their
//! median absolute deviation (MAD), scaled by 1.4826 to be comparable to a standard deviation.
//! A day is an anomaly when it is more than `--threshold` scaled MADs from the median and
//! the difference is at least `--min-change`. When the MAD is 0 (half the window or more on
//! the median: a flat series, or one idle most days), a day is an anomaly only when it is at
//! least `--min-change` beyond the highest or lowest day of the window: a step on a flat
//! series is found, an occasional charge of a usual size is not.

use crate::error::Error;
use duckdb::polars::prelude::*;
use std::collections::HashSet;

use finops_core::events::EventKind;
use finops_core::naming::quote_literal;
use finops_core::notifications::{self, Pending};
use finops_core::output::{Format, Table};
use finops_core::{Context, Warehouse};
use serde::Serialize;
use serde_json::json;

use crate::frame::{self, polars_error};
use crate::{AnomaliesArgs, Dimension, Grouping, focus_table, write_out};

/// 1 / Φ⁻¹(3/4): a MAD times this estimates the standard deviation of normal data.
const MAD_SCALE: f64 = 1.4826;

/// One anomalous day.
#[derive(Debug, Serialize)]
pub(crate) struct Anomaly {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The series: dimension label → value.
    pub series: serde_json::Map<String, serde_json::Value>,
    /// Billing currency.
    pub currency: String,
    /// The day's cost, exact.
    pub actual: String,
    /// Median of the previous days, to the cent.
    pub expected: String,
    /// `actual − expected`, to the cent.
    pub difference: String,
    /// Scaled MADs from the median (`null` when the history is flat).
    pub score: Option<f64>,
    /// `up` or `down`.
    pub direction: &'static str,
}

/// Prints the anomalies; returns the `anomaly.detected` event for those not notified before
/// (all of them with `--renotify`), if any.
pub(crate) fn run(
    wh: &Warehouse,
    ctx: &Context,
    args: &AnomaliesArgs,
    file_format: Option<&str>,
) -> miette::Result<Option<Pending>> {
    if file_format == Some("html") {
        return Err(Error::NoSuchForm {
            report: "anomalies",
            format: "HTML",
            forms: "table, json or csv",
        }
        .into());
    }
    if args.window < 3 {
        return Err(Error::WindowTooShort {
            window: args.window,
        }
        .into());
    }
    let by = if args.by.is_empty() {
        vec![Dimension::Service, Dimension::Account]
    } else {
        args.by.clone()
    };
    let (first, last) = report_days(wh, args)?;
    let found = detect(wh, &by, args, &first, &last)?;
    let labels: Vec<String> = by.iter().map(Dimension::label).collect();
    let text = match (file_format, ctx.ui.format) {
        (Some("csv"), _) => csv(&found, &labels)?,
        (_, Format::Json) => serde_json::to_string_pretty(&json!({
            "from": first, "to": last, "window": args.window, "threshold": args.threshold,
            "anomalies": found,
        }))
        .map_err(Error::encode("the anomalies"))?,
        _ if found.is_empty() => format!("no anomalies from {first} to {last}"),
        _ => table(&found, &labels).render(),
    };
    write_out(args.out.as_deref(), &text)?;
    let told = if args.renotify {
        HashSet::new()
    } else {
        notifications::already(wh, KIND)?
    };
    let key = |a: &Anomaly| {
        format!(
            "{}|{}|{}|{}",
            a.date,
            serde_json::Value::Object(a.series.clone()),
            a.currency,
            args.cost.column()
        )
    };
    let (keys, new): (Vec<String>, Vec<&Anomaly>) = found
        .iter()
        .map(|a| (key(a), a))
        .filter(|(k, _)| !told.contains(k))
        .unzip();
    if new.is_empty() {
        return Ok(None);
    }
    Ok(Some(Pending {
        event: EventKind::AnomalyDetected,
        data: json!({
            "from": first, "to": last, "window": args.window, "threshold": args.threshold,
            "min_change": args.min_change, "cost_column": args.cost.column(),
            "anomalies": new,
        }),
        kind: KIND,
        keys,
    }))
}

/// Notification kind in `meta.notifications`.
const KIND: &str = "anomaly";

/// The days to report on: `--period`'s months, or the last `--days` days with data.
fn report_days(wh: &Warehouse, args: &AnomaliesArgs) -> miette::Result<(String, String)> {
    let focus = focus_table(wh);
    let newest: Option<String> = wh
        .conn()
        .query_row(
            &format!(
                r#"SELECT CAST(max(CAST("ChargePeriodStart" AS DATE)) AS VARCHAR) FROM {focus}"#
            ),
            [],
            |r| r.get(0),
        )
        .map_err(Error::query("reading the newest charge date"))?;
    let Some(newest) = newest else {
        return Err(finops_core::Error::NoFocusRows {
            path: wh.path().into(),
        }
        .into());
    };
    let days = |sql: String| -> miette::Result<(String, String)> {
        wh.conn()
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| Error::query("computing the report's days")(e).into())
    };
    match args.period {
        Some(p) => {
            let (start, end) = p.bounds();
            days(format!(
                "SELECT CAST(CAST({s} AS DATE) AS VARCHAR), CAST(least(CAST({e} AS DATE) - 1, CAST({n} AS DATE)) AS VARCHAR)",
                s = quote_literal(&start),
                e = quote_literal(&end),
                n = quote_literal(&newest)
            ))
        }
        None => days(format!(
            "SELECT CAST(CAST({n} AS DATE) - {d} AS VARCHAR), {n}",
            n = quote_literal(&newest),
            d = args.days.saturating_sub(1)
        )),
    }
}

fn detect(
    wh: &Warehouse,
    by: &[Dimension],
    args: &AnomaliesArgs,
    first: &str,
    last: &str,
) -> miette::Result<Vec<Anomaly>> {
    crate::warn_unknown_tags(wh, by)?;
    let grouping = Grouping::new(by);
    let (select_dims, group) = (&grouping.select, grouping.keys(None));
    let dims = &grouping.dims;
    // History starts `window` days before the first reported day, or on the series' first day
    // with cost: days before it are unknown, not zero (a newly imported export is not a spike).
    let sql = format!(
        r#"WITH daily AS (
             SELECT {select_dims}"BillingCurrency" AS currency,
                    CAST("ChargePeriodStart" AS DATE) AS day, sum("{cost}") AS cost
             FROM {focus}
             WHERE "ChargePeriodStart" >= CAST({first} AS DATE) - {window}
               AND "ChargePeriodStart" < CAST({last} AS DATE) + 1 {usage}
             GROUP BY ALL),
           series AS (SELECT {group}, min(day) AS since FROM daily GROUP BY ALL),
           days AS (SELECT CAST(range AS DATE) AS day
                    FROM range(CAST({first} AS DATE) - {window}, CAST({last} AS DATE) + 1,
                               INTERVAL 1 day))
         SELECT s.* EXCLUDE (since), d.day, CAST(coalesce(a.cost, 0) AS DECIMAL(38, 20)) AS cost,
                CAST(count(*) OVER (PARTITION BY {group_s}) AS BIGINT) AS series_days
         FROM series s JOIN days d ON d.day >= s.since LEFT JOIN daily a USING ({group}, day)
         ORDER BY {group_s}, day"#,
        group_s = grouping.keys(Some("s")),
        cost = args.cost.column(),
        usage = if args.all_charges {
            ""
        } else {
            r#"AND "ChargeCategory" = 'Usage'"#
        },
        focus = focus_table(wh),
        first = quote_literal(first),
        last = quote_literal(last),
        window = args.window,
    );
    let df = frame::query(wh, &sql, "summing daily costs")?;
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let labels: Vec<String> = by.iter().map(Dimension::label).collect();
    // Rows are ordered by series, then day, with every day from the series' first: each
    // series is one slice of `series_days` rows.
    let lengths = df
        .column("series_days")
        .and_then(|c| c.i64().cloned())
        .map_err(polars_error("splitting series"))?;
    let mut found = Vec::new();
    let mut offset = 0;
    while offset < df.height() {
        let len = lengths
            .get(offset)
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(1)
            .max(1);
        let part = df.slice(i64::try_from(offset).unwrap_or(i64::MAX), len);
        found.extend(series_anomalies(&part, dims, &labels, args, first)?);
        offset += len;
    }
    found.sort_by(|a, b| a.date.cmp(&b.date).then(a.currency.cmp(&b.currency)));
    Ok(found)
}

/// The anomalies of one series (its rows in day order, history first).
fn series_anomalies(
    part: &DataFrame,
    dims: &[String],
    labels: &[String],
    args: &AnomaliesArgs,
    first: &str,
) -> miette::Result<Vec<Anomaly>> {
    let err = polars_error("rolling statistics");
    let cost = part.column("cost").map_err(&err)?;
    let values = cost
        .cast(&DataType::Float64)
        .map_err(&err)?
        .as_materialized_series()
        .f64()
        .map_err(&err)?
        .clone();
    // Statistics of the `window` days ending on each day, shifted by one: each day is
    // compared with the days before it, never with itself.
    let median = values
        .rolling_map_float(args.window, |w| w.median())
        .map_err(&err)?
        .shift(1);
    let mad = values
        .rolling_map_float(args.window, |w| {
            let m = w.median()?;
            w.apply_values(|x| (x - m).abs()).median()
        })
        .map_err(&err)?
        .shift(1);
    // With a MAD of 0 (a flat or mostly idle history), the window's range is the yardstick.
    let low = values
        .rolling_map_float(args.window, |w| w.min())
        .map_err(&err)?
        .shift(1);
    let high = values
        .rolling_map_float(args.window, |w| w.max())
        .map_err(&err)?
        .shift(1);
    let days = part.column("day").map_err(&err)?;
    let currency = frame::text(part.column("currency").map_err(&err)?, 0).unwrap_or_default();
    let mut series = serde_json::Map::new();
    for (d, label) in dims.iter().zip(labels) {
        let v = frame::text(part.column(d).map_err(&err)?, 0);
        series.insert(label.clone(), json!(v));
    }
    let mut found = Vec::new();
    for i in 0..part.height() {
        let date = frame::text(days, i).unwrap_or_default();
        if date.as_str() < first {
            continue;
        }
        let (Some(actual), Some(expected), Some(mad), Some(low), Some(high)) = (
            values.get(i),
            median.get(i),
            mad.get(i),
            low.get(i),
            high.get(i),
        ) else {
            continue;
        };
        let difference = actual - expected;
        let spread = MAD_SCALE * mad;
        if difference.abs() < args.min_change {
            continue;
        }
        let score = (spread > 0.0).then(|| difference / spread);
        let unusual = match score {
            Some(s) => s.abs() > args.threshold,
            // Half the window or more sits exactly on the median (a flat series, or one
            // idle most days): an anomaly only beyond everything the window saw.
            None => actual >= high + args.min_change || actual <= low - args.min_change,
        };
        if !unusual {
            continue;
        }
        found.push(Anomaly {
            date,
            series: series.clone(),
            currency: currency.clone(),
            actual: frame::text(cost, i).unwrap_or_default(),
            expected: format!("{expected:.2}"),
            difference: format!("{difference:.2}"),
            score: score.map(|s| (s * 10.0).round() / 10.0),
            direction: if difference > 0.0 { "up" } else { "down" },
        });
    }
    Ok(found)
}

fn table(found: &[Anomaly], labels: &[String]) -> Table {
    let mut headers = vec!["date".to_owned()];
    headers.extend(labels.iter().cloned());
    headers.extend(["currency", "actual", "expected", "difference", "score"].map(String::from));
    let mut t = Table::new(headers);
    for a in found {
        let mut row = vec![json!(a.date)];
        row.extend(
            labels
                .iter()
                .map(|l| a.series.get(l).cloned().unwrap_or_default()),
        );
        row.extend([
            json!(a.currency),
            json!(a.actual),
            json!(a.expected),
            json!(a.difference),
            a.score
                .map_or_else(|| json!("flat history"), |s| json!(format!("{s:+.1}"))),
        ]);
        t.push(row);
    }
    t
}

fn csv(found: &[Anomaly], labels: &[String]) -> miette::Result<String> {
    let csv_error = |e: csv::Error| Error::encode("CSV")(e);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["date".to_owned()];
    header.extend(labels.iter().cloned());
    header.extend(
        [
            "currency",
            "actual",
            "expected",
            "difference",
            "score",
            "direction",
        ]
        .map(String::from),
    );
    w.write_record(&header).map_err(csv_error)?;
    for a in found {
        let mut row = vec![a.date.clone()];
        row.extend(labels.iter().map(|l| {
            a.series
                .get(l)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        }));
        row.extend([
            a.currency.clone(),
            a.actual.clone(),
            a.expected.clone(),
            a.difference.clone(),
            a.score.map(|s| s.to_string()).unwrap_or_default(),
            a.direction.to_owned(),
        ]);
        w.write_record(&row).map_err(csv_error)?;
    }
    let bytes = w.into_inner().map_err(Error::encode("CSV"))?;
    Ok(String::from_utf8_lossy(&bytes).trim_end().to_owned())
}
