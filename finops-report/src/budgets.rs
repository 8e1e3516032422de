//! `finops budgets check`: each `[[budgets]]` entry's actual and forecast cost for a month.
//!
//! The forecast is the linear run-rate: actual × days in the month ÷ days with data, where the
//! days with data end at the newest `ChargePeriodEnd` of the month in the FOCUS table (exports
//! lag a day or two; the calendar would under-forecast). A past, complete month's forecast is
//! its actual cost.

use crate::error::Error;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use finops_core::events::EventKind;
use finops_core::naming::quote_literal;
use finops_core::notifications::{self, Pending};
use finops_core::output::{self, Table};
use finops_core::{Context, Period, Warehouse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::rules::TagIndex;
use crate::{BudgetsArgs, CostColumn, Dimension, focus_table};

/// One `[[budgets]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Its name, in output and events.
    pub name: String,
    /// Monthly amount, in `currency` (a string keeps every digit: `"1234.56"`).
    pub amount: Amount,
    /// Billing currency; needed when the matching rows are in more than one.
    pub currency: Option<String>,
    /// Percentages of the amount that raise `budget.threshold_exceeded` (default: 100).
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<u32>,
    /// The FOCUS cost column (default: effective).
    #[serde(default)]
    pub cost: CostColumn,
    /// Which rows count; every field is optional, all must match.
    #[serde(default)]
    pub filter: BudgetFilter,
}

fn default_thresholds() -> Vec<u32> {
    vec![100]
}

/// A number or its text.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Amount {
    /// `"1234.56"`.
    Text(String),
    /// `1000`.
    Int(i64),
    /// `1234.5`.
    Float(f64),
}

impl Amount {
    /// The number as written.
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Text(s) => s.trim().to_owned(),
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
        }
    }
}

/// One value or several.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `"Amazon S3"`.
    One(String),
    /// `["Amazon S3", "Amazon EC2"]`.
    Many(Vec<String>),
}

/// `[budgets.filter]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFilter {
    /// `ServiceName`.
    pub service: Option<OneOrMany>,
    /// `SubAccountId`.
    pub account: Option<OneOrMany>,
    /// `RegionId`.
    pub region: Option<OneOrMany>,
    /// `ChargeCategory`.
    pub charge_category: Option<OneOrMany>,
    /// `ProviderName`.
    pub provider: Option<OneOrMany>,
    /// Tag key → value.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl BudgetFilter {
    /// `TRUE AND …`, every value a quoted literal; tags read as `[tags]` normalises them.
    fn sql(&self, tags: &TagIndex) -> String {
        let mut parts = vec!["TRUE".to_owned()];
        let mut add = |dim: Dimension, values: &[String]| {
            let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
            parts.push(format!("{} IN ({})", dim.sql(), list.join(", ")));
        };
        for (dim, v) in [
            (Dimension::Service, &self.service),
            (Dimension::Account, &self.account),
            (Dimension::Region, &self.region),
            (Dimension::ChargeCategory, &self.charge_category),
            (Dimension::Provider, &self.provider),
        ] {
            match v {
                Some(OneOrMany::One(s)) => add(dim, std::slice::from_ref(s)),
                Some(OneOrMany::Many(list)) => add(dim, list),
                None => {}
            }
        }
        for (k, v) in &self.tags {
            if tags.normalises() {
                let dim = Dimension::Resolved {
                    label: format!("tag:{k}"),
                    sql: tags.value_sql(k),
                };
                add(dim, &[tags.value(v)]);
            } else {
                add(Dimension::Tag(k.clone()), std::slice::from_ref(v));
            }
        }
        parts.join(" AND ")
    }
}

/// One budget's state for the month.
#[derive(Debug, Serialize)]
struct Status {
    budget: String,
    month: String,
    currency: String,
    amount: String,
    actual: String,
    actual_percent: f64,
    forecast: String,
    forecast_percent: f64,
    days_with_data: i64,
    days_in_month: i64,
    /// Thresholds (%) the actual cost reached.
    exceeded: Vec<u32>,
    /// Thresholds (%) the forecast reaches.
    forecast_exceeded: Vec<u32>,
}

/// Prints every budget's status; returns one `budget.threshold_exceeded` event per budget
/// with a threshold (actual or forecast) not notified before for the month (every one with
/// `--renotify`).
pub(crate) fn run(
    wh: &Warehouse,
    ctx: &Context,
    configs: &[BudgetConfig],
    args: &BudgetsArgs,
) -> miette::Result<Vec<Pending>> {
    let focus = focus_table(wh);
    let rules = crate::rules::Rules::load(&ctx.settings)?;
    let tags = TagIndex::load(wh, rules.tags.as_ref())?;
    let month = if let Some(m) = args.month {
        m
    } else {
        let newest: Option<String> = wh
            .conn()
            .query_row(
                &format!(r#"SELECT strftime(max("ChargePeriodStart"), '%Y-%m') FROM {focus}"#),
                [],
                |r| r.get(0),
            )
            .map_err(Error::query("reading the newest month"))?;
        newest
            .and_then(|m| m.parse::<Period>().ok())
            .ok_or_else(|| finops_core::Error::NoFocusRows {
                path: wh.path().into(),
            })?
    };
    let start = quote_literal(&month.first_day());
    let end = quote_literal(&month.next().first_day());
    let (days_with_data, days_in_month): (i64, i64) = wh
        .conn()
        .query_row(
            &format!(
                r#"SELECT coalesce(date_diff('day', CAST({start} AS DATE),
                                   least(max(CAST("ChargePeriodEnd" AS DATE)), CAST({end} AS DATE))), 0),
                          date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))
                   FROM {focus}
                   WHERE "ChargePeriodStart" >= CAST({start} AS TIMESTAMP)
                     AND "ChargePeriodStart" < CAST({end} AS TIMESTAMP)"#
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(Error::query("reading the month's days"))?;
    let mut statuses = Vec::new();
    for b in configs {
        statuses.push(check(
            wh,
            b,
            &tags,
            month,
            &focus,
            (&start, &end),
            (days_with_data, days_in_month),
        )?);
    }
    print(ctx, &statuses);
    let told = if args.renotify {
        std::collections::HashSet::new()
    } else {
        notifications::already(wh, KIND)?
    };
    let mut pending = Vec::new();
    for s in statuses {
        let key = |basis: &str, t: u32| format!("{}|{}|{basis}|{t}", s.budget, s.month);
        let new = |basis: &str, list: &[u32]| -> Vec<u32> {
            list.iter()
                .copied()
                .filter(|t| !told.contains(&key(basis, *t)))
                .collect()
        };
        let new_actual = new("actual", &s.exceeded);
        let new_forecast = new("forecast", &s.forecast_exceeded);
        if new_actual.is_empty() && new_forecast.is_empty() {
            continue;
        }
        let keys = new_actual
            .iter()
            .map(|t| key("actual", *t))
            .chain(new_forecast.iter().map(|t| key("forecast", *t)))
            .collect();
        let mut data = json!(s);
        data["new_exceeded"] = json!(new_actual);
        data["new_forecast_exceeded"] = json!(new_forecast);
        pending.push(Pending {
            event: EventKind::BudgetThresholdExceeded,
            data,
            kind: KIND,
            keys,
        });
    }
    Ok(pending)
}

/// Notification kind in `meta.notifications`.
const KIND: &str = "budget";

fn check(
    wh: &Warehouse,
    b: &BudgetConfig,
    tags: &TagIndex,
    month: Period,
    focus: &str,
    (start, end): (&str, &str),
    (days_with_data, days_in_month): (i64, i64),
) -> miette::Result<Status> {
    let invalid = |why: String| -> miette::Report {
        Error::InvalidBudget {
            name: b.name.clone(),
            why,
        }
        .into()
    };
    let amount: String = wh
        .conn()
        .query_row(
            &format!(
                "SELECT CAST(CAST({} AS DECIMAL(38, 10)) AS VARCHAR)",
                quote_literal(&b.amount.text())
            ),
            [],
            |r| r.get(0),
        )
        .map_err(|_| invalid(format!("amount `{}` is not a number", b.amount.text())))?;
    if b.thresholds.is_empty() || b.thresholds.contains(&0) {
        return Err(invalid(
            "thresholds must be percentages above 0, e.g. [80, 100]".into(),
        ));
    }
    let mut filter = b.filter.sql(tags);
    if let Some(c) = &b.currency {
        let _ = write!(filter, r#" AND "BillingCurrency" = {}"#, quote_literal(c));
    }
    let sums: Vec<(String, String)> = wh
        .pairs(
            &format!(
                r#"SELECT "BillingCurrency", CAST(sum("{cost}") AS VARCHAR)
                   FROM {focus}
                   WHERE "ChargePeriodStart" >= CAST({start} AS TIMESTAMP)
                     AND "ChargePeriodStart" < CAST({end} AS TIMESTAMP) AND {filter}
                   GROUP BY ALL ORDER BY ALL"#,
                cost = b.cost.column()
            ),
            "summing the budget's cost",
        )
        .map_err(miette::Report::new)?;
    let (currency, actual) = match sums.as_slice() {
        [] => (b.currency.clone().unwrap_or_default(), "0".to_owned()),
        [one] => one.clone(),
        many => {
            let names: Vec<&str> = many.iter().map(|(c, _)| c.as_str()).collect();
            return Err(invalid(format!(
                "its rows are in several currencies ({}); set `currency`",
                names.join(", ")
            )));
        }
    };
    // Exact comparisons and run-rate in DuckDB decimals; percentages as doubles for display.
    let mut sorted = b.thresholds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let thresholds: Vec<String> = sorted.iter().map(u32::to_string).collect();
    let sql = format!(
        r"WITH v AS (
            SELECT CAST({actual} AS DECIMAL(38, 10)) AS actual,
                   CAST({amount} AS DECIMAL(38, 10)) AS amount,
                   CASE WHEN {days} >= {dim} THEN CAST({actual} AS DECIMAL(38, 10))
                        WHEN {days} > 0 THEN round(CAST({actual} AS DECIMAL(38, 10)) * {dim} / {days}, 2)
                        ELSE 0 END AS forecast)
          SELECT CAST(actual AS VARCHAR), CAST(forecast AS VARCHAR),
                 CAST(100 * actual / nullif(amount, 0) AS DOUBLE),
                 CAST(100 * forecast / nullif(amount, 0) AS DOUBLE),
                 [t FOR t IN [{list}] IF actual >= amount * t / 100],
                 [t FOR t IN [{list}] IF forecast >= amount * t / 100]
          FROM v",
        actual = quote_literal(&actual),
        amount = quote_literal(&amount),
        days = days_with_data,
        dim = days_in_month,
        list = thresholds.join(", "),
    );
    let row = wh
        .conn()
        .query_row(&sql, [], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<f64>>(2)?,
                r.get::<_, Option<f64>>(3)?,
                list_of(r.get_ref(4)?),
                list_of(r.get_ref(5)?),
            ))
        })
        .map_err(Error::query(format!("checking budget `{}`", b.name)))?;
    Ok(Status {
        budget: b.name.clone(),
        month: month.to_string(),
        currency,
        amount: trim(&amount),
        actual: trim(&row.0),
        actual_percent: round1(row.2.unwrap_or(0.0)),
        forecast: trim(&row.1),
        forecast_percent: round1(row.3.unwrap_or(0.0)),
        days_with_data,
        days_in_month,
        exceeded: row.4,
        forecast_exceeded: row.5,
    })
}

fn list_of(v: duckdb::types::ValueRef<'_>) -> Vec<u32> {
    match v.to_owned() {
        duckdb::types::Value::List(items) => items
            .into_iter()
            .filter_map(|i| match i {
                duckdb::types::Value::Int(n) => u32::try_from(n).ok(),
                duckdb::types::Value::BigInt(n) => u32::try_from(n).ok(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `12.5000000000` → `12.5`.
fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

fn print(ctx: &Context, statuses: &[Status]) {
    if ctx.ui.format == output::Format::Json {
        output::print_json(&json!(statuses));
        return;
    }
    let mut t = Table::new(vec![
        "budget", "month", "currency", "amount", "actual", "%", "forecast", "%", "status",
    ]);
    for s in statuses {
        let status = match (s.exceeded.last(), s.forecast_exceeded.last()) {
            (Some(a), _) => format!("{a}% reached"),
            (None, Some(f)) => format!("forecast over {f}%"),
            (None, None) => "ok".to_owned(),
        };
        t.push(vec![
            json!(s.budget),
            json!(s.month),
            json!(s.currency),
            json!(s.amount),
            json!(s.actual),
            json!(format!("{:.1}", s.actual_percent)),
            json!(s.forecast),
            json!(format!("{:.1}", s.forecast_percent)),
            json!(status),
        ]);
    }
    output::print_table(ctx.ui.format, &t);
    output::print_text(&format!(
        "\nforecast: linear run-rate over {} of {} days with data",
        statuses.first().map_or(0, |s| s.days_with_data),
        statuses.first().map_or(0, |s| s.days_in_month)
    ));
}
