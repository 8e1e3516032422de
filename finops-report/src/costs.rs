//! `finops report costs`: cost per group and period, top-N, change from the previous period.

// Eager group-by sums: see Cargo.toml.
#![allow(deprecated)]

use crate::error::Error;
use std::collections::{HashMap, HashSet};

use duckdb::polars::prelude::*;
use finops_core::naming::quote_literal;
use finops_core::output::{ExitStatus, Format, Table};
use finops_core::{Context, Warehouse};
use serde_json::{Value, json};

use crate::frame::{self, polars_error};
use crate::{CostsArgs, Dimension, Granularity, Grouping, OTHER, focus_table, html, write_out};

/// The report, long form: one row per group and period, every period of the range present.
pub(crate) struct CostReport {
    /// Dimension labels, then `currency`.
    pub keys: Vec<String>,
    /// Period labels in order (`2024-01` or `2024-01-31`).
    pub periods: Vec<String>,
    /// Columns: keys…, `period` (label), `cost`, `change` (decimals).
    pub df: DataFrame,
    /// The FOCUS column summed.
    pub cost_column: &'static str,
}

pub(crate) fn run(
    wh: &Warehouse,
    ctx: &Context,
    args: &CostsArgs,
    rules: &crate::rules::Rules,
    file_format: Option<&str>,
) -> miette::Result<ExitStatus> {
    let by = if args.by.is_empty() {
        vec![Dimension::Service]
    } else {
        args.by.clone()
    };
    let source = if args.allocated {
        allocated_source(wh, rules, args)?
    } else {
        focus_table(wh)
    };
    let report = build(wh, &by, args, &source)?;
    if report.periods.is_empty() {
        return Err(Error::Empty {
            range: args.period.map_or_else(
                || "the warehouse".to_owned(),
                |p| format!("{}..{}", p.first, p.last),
            ),
        }
        .into());
    }
    let text = match (file_format, ctx.ui.format) {
        (Some("csv"), _) => report.csv()?,
        (Some("html"), _) => html::render(&report, &report.pivot()?)?,
        (_, Format::Json) => serde_json::to_string_pretty(&report.json(&by, args))
            .map_err(Error::encode("the report"))?,
        _ => report.pivot()?.render(),
    };
    write_out(args.out.as_deref(), &text)?;
    Ok(ExitStatus::Success)
}

/// The FOCUS rows with their allocated costs: every column of FOCUS but the two allocated
/// costs, then those and the dimensions of `focus.allocated_cost`. Refused when the
/// allocation is not current: its numbers would be wrong.
fn allocated_source(
    wh: &Warehouse,
    rules: &crate::rules::Rules,
    args: &CostsArgs,
) -> miette::Result<String> {
    if rules.is_empty() {
        return Err(finops_core::Error::InvalidArguments {
            message: "--allocated needs [[dimensions]] and [[allocations]] in finops.toml".into(),
            help: "see docs/allocation.md".into(),
        }
        .into());
    }
    if !matches!(
        args.cost,
        crate::CostColumn::Effective | crate::CostColumn::Billed
    ) {
        return Err(finops_core::Error::InvalidArguments {
            message: format!(
                "--allocated splits BilledCost and EffectiveCost only, not {}",
                args.cost.column()
            ),
            help: "use --cost effective (the default) or --cost billed".into(),
        }
        .into());
    }
    let stale = crate::allocate::stale_periods(wh, rules)?;
    if !stale.is_empty() {
        return Err(Error::AllocationStale {
            periods: stale
                .iter()
                .map(|p| p.get(..7).unwrap_or(p).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    Ok(format!(
        "(SELECT f.* EXCLUDE (\"BilledCost\", \"EffectiveCost\"), a.* EXCLUDE (x_source, x_billing_period, \"x_RowId\", \"BillingCurrency\", \"ChargePeriodStart\")
          FROM {} a JOIN {} f USING (x_source, x_billing_period, \"x_RowId\"))",
        wh.qualified(&crate::allocate::table()),
        focus_table(wh)
    ))
}

fn build(
    wh: &Warehouse,
    by: &[Dimension],
    args: &CostsArgs,
    source: &str,
) -> miette::Result<CostReport> {
    let unit = match args.granularity {
        Granularity::Month => "month",
        Granularity::Day => "day",
    };
    crate::warn_unknown_tags(wh, by)?;
    let grouping = Grouping::new(by);
    let (select_dims, group) = (&grouping.select, grouping.keys(None));
    let dims = &grouping.dims;
    let cost = args.cost.column();
    let (filter, range) = match args.period {
        Some(p) => {
            let (start, end) = p.bounds();
            (
                format!(
                    r#"WHERE "ChargePeriodStart" >= CAST({s} AS TIMESTAMP) AND "ChargePeriodStart" < CAST({e} AS TIMESTAMP)"#,
                    s = quote_literal(&start),
                    e = quote_literal(&end)
                ),
                format!(
                    "CAST({} AS DATE), CAST({} AS DATE)",
                    quote_literal(&start),
                    quote_literal(&end)
                ),
            )
        }
        None => (
            String::new(),
            format!(
                "(SELECT min(period) FROM agg), (SELECT max(period) FROM agg) + INTERVAL 1 {unit}"
            ),
        ),
    };
    // DuckDB aggregates the FOCUS table (exact DECIMAL(38,20) sums) and fills the grid of
    // groups × periods with zeros, so that every group has every period.
    let sql = format!(
        r#"WITH agg AS (
             SELECT {select_dims}"BillingCurrency" AS currency,
                    CAST(date_trunc('{unit}', "ChargePeriodStart") AS DATE) AS period,
                    sum("{cost}") AS cost
             FROM {source} {filter}
             GROUP BY ALL),
           groups AS (SELECT DISTINCT {group} FROM agg),
           periods AS (SELECT CAST(range AS DATE) AS period
                       FROM range({range}, INTERVAL 1 {unit}))
         SELECT g.*, p.period, CAST(coalesce(a.cost, 0) AS DECIMAL(38, 20)) AS cost
         FROM groups g CROSS JOIN periods p LEFT JOIN agg a USING ({group}, period)
         ORDER BY {group}, period"#,
    );
    let mut df = frame::query(wh, &sql, "summing FOCUS costs")?;
    let labels: Vec<String> = by.iter().map(Dimension::label).collect();
    let mut keys = labels.clone();
    keys.push("currency".into());
    if df.height() == 0 {
        return Ok(CostReport {
            keys,
            periods: Vec::new(),
            df,
            cost_column: cost,
        });
    }
    for (dim, label) in dims.iter().zip(&labels) {
        df.rename(dim, label.as_str().into())
            .map_err(polars_error("naming columns"))?;
    }
    let period_label = |d: String| match args.granularity {
        Granularity::Month => d[..7].to_owned(),
        Granularity::Day => d,
    };
    let periods_col = df
        .column("period")
        .map_err(polars_error("reading periods"))?;
    let labels_of_rows: Vec<String> = (0..df.height())
        .map(|i| period_label(frame::text(periods_col, i).unwrap_or_default()))
        .collect();
    df.with_column(Column::new("period".into(), &labels_of_rows))
        .map_err(polars_error("labelling periods"))?;
    let mut periods: Vec<String> = Vec::new();
    for p in labels_of_rows {
        if !periods.contains(&p) {
            periods.push(p);
        }
    }
    if let Some(n) = args.top {
        df = lump_others(&df, &keys, n)?;
    }
    let df = order_and_change(df, &keys, &periods)?;
    Ok(CostReport {
        keys,
        periods,
        df,
        cost_column: cost,
    })
}

/// The key of row `i`: its dimension values and currency.
fn key_of(df: &DataFrame, keys: &[String], i: usize) -> miette::Result<Vec<String>> {
    keys.iter()
        .map(|k| {
            let col = df.column(k).map_err(polars_error("reading keys"))?;
            Ok(frame::text(col, i).unwrap_or_default())
        })
        .collect()
}

/// Total cost of each group, largest first within each currency.
fn ranked_groups(df: &DataFrame, keys: &[String]) -> miette::Result<Vec<Vec<String>>> {
    let totals = df
        .group_by(keys.iter().map(String::as_str))
        .and_then(|g| g.select(["cost"]).sum())
        .and_then(|t| {
            t.sort(
                ["currency", "cost_sum"],
                SortMultipleOptions::default().with_order_descending_multi([false, true]),
            )
        })
        .map_err(polars_error("ranking groups"))?;
    (0..totals.height())
        .map(|i| key_of(&totals, keys, i))
        .collect()
}

/// Keeps the `n` largest groups of each currency and sums the rest into `(other)`.
fn lump_others(df: &DataFrame, keys: &[String], n: usize) -> miette::Result<DataFrame> {
    let mut kept: HashSet<Vec<String>> = HashSet::new();
    let mut per_currency: HashMap<String, usize> = HashMap::new();
    for key in ranked_groups(df, keys)? {
        let seen = per_currency.entry(key[key.len() - 1].clone()).or_default();
        if *seen < n {
            *seen += 1;
            kept.insert(key);
        }
    }
    let dims = &keys[..keys.len() - 1];
    let mut columns: Vec<Vec<String>> = vec![Vec::with_capacity(df.height()); dims.len()];
    for i in 0..df.height() {
        let key = key_of(df, keys, i)?;
        let keep = kept.contains(&key);
        for (c, v) in columns.iter_mut().zip(key) {
            c.push(if keep { v } else { OTHER.to_owned() });
        }
    }
    let mut lumped = df.clone();
    for (name, values) in dims.iter().zip(columns) {
        lumped
            .with_column(Column::new(name.as_str().into(), values))
            .map_err(polars_error("grouping the rest"))?;
    }
    let mut by: Vec<&str> = keys.iter().map(String::as_str).collect();
    by.push("period");
    let mut summed = lumped
        .group_by_stable(by)
        .and_then(|g| g.select(["cost"]).sum())
        .map_err(polars_error("summing the rest"))?;
    summed
        .rename("cost_sum", "cost".into())
        .map_err(polars_error("summing the rest"))?;
    Ok(summed)
}

/// Orders groups by currency, then total (largest first, `(other)` last), then periods; adds
/// `change`: cost minus the same group's cost in the previous period (null for the first).
fn order_and_change(
    df: DataFrame,
    keys: &[String],
    periods: &[String],
) -> miette::Result<DataFrame> {
    let ranked = ranked_groups(&df, keys)?;
    let rank: HashMap<Vec<String>, u32> = ranked
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let other = k[..k.len() - 1].iter().all(|v| v == OTHER);
            let r = u32::try_from(i).unwrap_or(u32::MAX);
            (k, if other { u32::MAX } else { r })
        })
        .collect();
    let period_index: HashMap<&str, u32> = periods
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let mut ranks = Vec::with_capacity(df.height());
    let mut order = Vec::with_capacity(df.height());
    let period_col = df
        .column("period")
        .map_err(polars_error("reading periods"))?;
    for i in 0..df.height() {
        let key = key_of(&df, keys, i)?;
        ranks.push(rank.get(&key).copied().unwrap_or(u32::MAX));
        let p = frame::text(period_col, i).unwrap_or_default();
        order.push(period_index.get(p.as_str()).copied().unwrap_or(u32::MAX));
    }
    let mut df = df;
    df.with_column(Column::new("_rank".into(), ranks))
        .and_then(|d| d.with_column(Column::new("_order".into(), order)))
        .map_err(polars_error("ordering"))?;
    let mut sort_by: Vec<&str> = vec!["currency", "_rank"];
    sort_by.extend(keys[..keys.len() - 1].iter().map(String::as_str));
    sort_by.push("_order");
    let df = df
        .sort(sort_by, SortMultipleOptions::default())
        .map_err(polars_error("ordering"))?;
    // Every group has every period (the grid is complete), so the previous row is the
    // previous period of the same group except on each group's first period.
    let cost = df.column("cost").map_err(polars_error("change"))?;
    let previous = cost.shift(1);
    let has_previous = df
        .column("_order")
        .and_then(|c| c.as_materialized_series().not_equal(0))
        .map_err(polars_error("change"))?;
    let change = (cost - &previous)
        .and_then(|c| {
            let nulls = Column::full_null("change".into(), c.len(), c.dtype());
            c.as_materialized_series()
                .zip_with(&has_previous, nulls.as_materialized_series())
                .map(|s| s.with_name("change".into()))
        })
        .map_err(polars_error("change"))?;
    let mut df = df;
    df.with_column(change.into_column())
        .map_err(polars_error("change"))?;
    df.drop_many(["_rank", "_order"]);
    Ok(df)
}

impl CostReport {
    fn rows(&self) -> impl Iterator<Item = miette::Result<Vec<Option<String>>>> + '_ {
        let mut names: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        names.extend(["period", "cost", "change"]);
        (0..self.df.height()).map(move |i| {
            names
                .iter()
                .map(|n| {
                    let col = self
                        .df
                        .column(n)
                        .map_err(polars_error("reading the report"))?;
                    Ok(frame::text(col, i))
                })
                .collect()
        })
    }

    fn csv(&self) -> miette::Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        header.extend(["period", "cost", "change"]);
        let csv_error = |e: csv::Error| Error::encode("CSV")(e);
        w.write_record(&header).map_err(csv_error)?;
        for row in self.rows() {
            let row = row?;
            w.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))
                .map_err(csv_error)?;
        }
        let bytes = w.into_inner().map_err(Error::encode("CSV"))?;
        Ok(String::from_utf8_lossy(&bytes).trim_end().to_owned())
    }

    fn json(&self, by: &[Dimension], args: &CostsArgs) -> Value {
        let mut header: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        header.extend(["period", "cost", "change"]);
        let rows: Vec<Value> = self
            .rows()
            .filter_map(Result::ok)
            .map(|r| {
                Value::Object(
                    header
                        .iter()
                        .map(|h| (*h).to_owned())
                        .zip(r.into_iter().map(|v| json!(v)))
                        .collect(),
                )
            })
            .collect();
        json!({
            "cost_column": self.cost_column,
            "granularity": match args.granularity { Granularity::Month => "month", Granularity::Day => "day" },
            "by": by.iter().map(Dimension::label).collect::<Vec<_>>(),
            "periods": self.periods,
            "totals": self.totals().unwrap_or_default().into_iter()
                .map(|(c, t)| json!({"currency": c, "cost": t})).collect::<Vec<_>>(),
            "rows": rows,
        })
    }

    /// Total per currency, exact.
    pub(crate) fn totals(&self) -> miette::Result<Vec<(String, String)>> {
        let t = self
            .df
            .group_by_stable(["currency"])
            .and_then(|g| g.select(["cost"]).sum())
            .map_err(polars_error("totals"))?;
        let cur = t.column("currency").map_err(polars_error("totals"))?;
        let sum = t.column("cost_sum").map_err(polars_error("totals"))?;
        Ok((0..t.height())
            .map(|i| {
                (
                    frame::text(cur, i).unwrap_or_default(),
                    frame::text(sum, i).unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Groups as rows, periods as columns (polars pivot), then the group's total and its
    /// change over the last period; one `(total)` row per currency.
    pub(crate) fn pivot(&self) -> miette::Result<Table> {
        let index: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let wide = polars_ops::pivot::pivot_stable(
            &self.df,
            ["period"],
            Some(index.clone()),
            Some(["cost"]),
            false,
            None,
            None,
        )
        .map_err(polars_error("pivoting"))?;
        let last_change = self
            .df
            .filter(
                &self
                    .df
                    .column("period")
                    .and_then(|c| {
                        c.as_materialized_series()
                            .equal(self.periods.last().map_or("", String::as_str))
                    })
                    .map_err(polars_error("pivoting"))?,
            )
            .map_err(polars_error("pivoting"))?;
        let totals = self
            .df
            .group_by_stable(index.clone())
            .and_then(|g| g.select(["cost"]).sum())
            .map_err(polars_error("pivoting"))?;
        let mut headers: Vec<String> = self.keys.clone();
        headers.extend(self.periods.iter().cloned());
        headers.push("total".into());
        headers.push("change".into());
        let totals = index_by(&totals, &self.keys, "cost_sum")?;
        let last_change = index_by(&last_change, &self.keys, "change")?;
        let mut table = Table::new(headers);
        for i in 0..wide.height() {
            let key = key_of(&wide, &self.keys, i)?;
            let mut row: Vec<Value> = key.iter().map(|k| json!(k)).collect();
            for p in &self.periods {
                let col = wide.column(p).map_err(polars_error("pivoting"))?;
                row.push(json!(frame::text(col, i)));
            }
            row.push(json!(totals.get(&key).cloned().flatten()));
            row.push(json!(last_change.get(&key).cloned().flatten()));
            table.push(row);
        }
        for (currency, total) in self.totals()? {
            let mut row: Vec<Value> = vec![json!("(total)")];
            row.extend((1..self.keys.len() - 1).map(|_| json!("")));
            row.push(json!(currency));
            let in_currency = self
                .df
                .filter(
                    &self
                        .df
                        .column("currency")
                        .and_then(|c| c.as_materialized_series().equal(currency.as_str()))
                        .map_err(polars_error("totals"))?,
                )
                .and_then(|d| d.group_by_stable(["period"])?.select(["cost"]).sum())
                .map_err(polars_error("totals"))?;
            let by_period = index_by(&in_currency, &["period".to_owned()], "cost_sum")?;
            for p in &self.periods {
                row.push(json!(
                    by_period.get(std::slice::from_ref(p)).cloned().flatten()
                ));
            }
            row.push(json!(total));
            row.push(Value::Null);
            table.push(row);
        }
        Ok(table)
    }
}

/// The text of `column` for each row of `df`, by the row's `keys`.
fn index_by(
    df: &DataFrame,
    keys: &[String],
    column: &str,
) -> miette::Result<HashMap<Vec<String>, Option<String>>> {
    let col = df.column(column).map_err(polars_error("indexing"))?;
    (0..df.height())
        .map(|i| Ok((key_of(df, keys, i)?, frame::text(col, i))))
        .collect()
}
