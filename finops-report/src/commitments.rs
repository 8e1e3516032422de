//! `finops report commitments`: for every commitment discount in FOCUS (reservations,
//! savings plans, committed use discounts, Azure reservations) per billing period and
//! currency: used and unused cost, utilisation and savings against list; and per period the
//! coverage of usage by commitments. The dbt marts `commitment_utilisation` and
//! `commitment_coverage` compute the same figures and are tested against this report.

use finops_core::naming::quote_literal;
use finops_core::output::{ExitStatus, Format, Table};
use finops_core::state::trim_decimal;
use finops_core::{Context, Warehouse};
use serde_json::{Value, json};

use crate::error::Error;
use crate::{PeriodRange, focus_table, write_out};

/// `finops report commitments`.
#[derive(Debug, clap::Args)]
pub struct CommitmentsArgs {
    /// Months to report, YYYY-MM or YYYY-MM..YYYY-MM (default: every month with data)
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    pub period: Option<PeriodRange>,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// Per commitment, period and currency. Usage rows only, corrections excluded: a purchase
/// is the commitment's price, its Used and Unused usage rows are how it was spent.
pub(crate) const UTILISATION_SQL: &str = "
SELECT CAST(x_billing_period AS VARCHAR) AS billing_period,
       \"CommitmentDiscountId\" AS commitment_discount_id,
       any_value(\"CommitmentDiscountType\") AS commitment_discount_type,
       any_value(\"CommitmentDiscountCategory\") AS commitment_discount_category,
       \"BillingCurrency\" AS currency,
       coalesce(sum(\"EffectiveCost\") FILTER (WHERE \"CommitmentDiscountStatus\" = 'Used'), 0) AS used_cost,
       coalesce(sum(\"EffectiveCost\") FILTER (WHERE \"CommitmentDiscountStatus\" = 'Unused'), 0) AS unused_cost,
       sum(\"ListCost\") - sum(\"EffectiveCost\") AS savings
FROM {focus}
WHERE \"CommitmentDiscountId\" IS NOT NULL AND \"ChargeCategory\" = 'Usage' AND \"ChargeClass\" IS NULL {filter}
GROUP BY x_billing_period, \"CommitmentDiscountId\", \"BillingCurrency\"
ORDER BY 1, 2, 5";

/// Per period and currency: usage cost a commitment covered against usage at on-demand
/// rates.
pub(crate) const COVERAGE_SQL: &str = "
SELECT CAST(x_billing_period AS VARCHAR) AS billing_period,
       \"BillingCurrency\" AS currency,
       coalesce(sum(\"EffectiveCost\") FILTER (WHERE \"CommitmentDiscountStatus\" = 'Used'), 0) AS covered_cost,
       coalesce(sum(\"EffectiveCost\") FILTER (WHERE \"CommitmentDiscountId\" IS NULL), 0) AS on_demand_cost
FROM {focus}
WHERE \"ChargeCategory\" = 'Usage' AND \"ChargeClass\" IS NULL {filter}
GROUP BY x_billing_period, \"BillingCurrency\"
ORDER BY 1, 2";

pub(crate) fn run(
    wh: &Warehouse,
    ctx: &Context,
    args: &CommitmentsArgs,
    file_format: Option<&str>,
) -> miette::Result<ExitStatus> {
    if let Some(f) = file_format {
        return Err(Error::table_or_json_only("commitments", f).into());
    }
    let filter = args.period.map_or_else(String::new, |p| {
        let (start, end) = p.bounds();
        format!(
            "AND x_billing_period >= CAST({} AS DATE) AND x_billing_period < CAST({} AS DATE)",
            quote_literal(&start),
            quote_literal(&end)
        )
    });
    let focus = focus_table(wh);
    let sql = |q: &str| q.replace("{focus}", &focus).replace("{filter}", &filter);
    let mut util = Table::new(vec![
        "period",
        "commitment",
        "type",
        "category",
        "currency",
        "used_cost",
        "unused_cost",
        "utilisation_percent",
        "savings",
    ]);
    let rows = strings(wh, &sql(UTILISATION_SQL), 8)?;
    for r in rows {
        let (used, unused) = (number(&r[5]), number(&r[6]));
        util.push(vec![
            json!(r[0].get(..7).unwrap_or(&r[0])),
            json!(r[1]),
            json!(r[2]),
            json!(r[3]),
            json!(r[4]),
            json!(trim_decimal(&r[5])),
            json!(trim_decimal(&r[6])),
            percent(used, used + unused),
            json!(trim_decimal(&r[7])),
        ]);
    }
    let mut cover = Table::new(vec![
        "period",
        "currency",
        "covered_cost",
        "on_demand_cost",
        "coverage_percent",
    ]);
    for r in strings(wh, &sql(COVERAGE_SQL), 4)? {
        let (covered, on_demand) = (number(&r[2]), number(&r[3]));
        cover.push(vec![
            json!(r[0].get(..7).unwrap_or(&r[0])),
            json!(r[1]),
            json!(trim_decimal(&r[2])),
            json!(trim_decimal(&r[3])),
            percent(covered, covered + on_demand),
        ]);
    }
    let text = if ctx.ui.format == Format::Json {
        serde_json::to_string_pretty(&json!({
            "commitments": util.to_json(),
            "coverage": cover.to_json(),
        }))
        .map_err(Error::encode("the report"))?
    } else if util.rows.is_empty() {
        format!(
            "No commitment discounts in the FOCUS table.\n\nCoverage of usage\n{}",
            cover.render()
        )
    } else {
        format!(
            "Commitments\n{}\n\nCoverage of usage\n{}",
            util.render(),
            cover.render()
        )
    };
    write_out(args.out.as_deref(), &text)?;
    Ok(ExitStatus::Success)
}

/// Every row of `sql` as `n` texts (NULL as empty; money as exact decimal text).
fn strings(wh: &Warehouse, sql: &str, n: usize) -> miette::Result<Vec<Vec<String>>> {
    let wrapped = format!(
        "SELECT {} FROM ({sql})",
        (0..n)
            .map(|i| format!("coalesce(CAST(#{} AS VARCHAR), '')", i + 1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = crate::frame::rows(wh, &wrapped, [], "reading commitments", |r| {
        (0..n).map(|i| r.get::<_, String>(i)).collect()
    })?;
    Ok(rows)
}

fn number(s: &str) -> f64 {
    s.parse().unwrap_or(0.0)
}

/// A share in percent, two decimals (a ratio, not money).
fn percent(part: f64, whole: f64) -> Value {
    if whole == 0.0 {
        Value::Null
    } else {
        json!((part / whole * 10_000.0).round() / 100.0)
    }
}
