//! `finops report tags`: tag coverage. Per tag key (as `[tags]` normalises it), the share of
//! cost that carries it, by provider, account or service; the keys normalisation merged;
//! the largest resources without the key. `--min-coverage` makes it a check (exit 1).

use finops_core::naming::quote_literal;
use finops_core::output::{ExitStatus, Format, Table};
use finops_core::state::trim_decimal;
use finops_core::{Context, Warehouse};
use serde_json::{Value, json};

use crate::error::Error;
use crate::rules::{Rules, TagIndex};
use crate::{CostColumn, PeriodRange, focus_table, write_out};

/// `finops report tags`.
#[derive(Debug, clap::Args)]
pub struct TagsArgs {
    /// Only these tag keys (repeatable; default every key in the data)
    #[arg(long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// Coverage per provider, account or service as well
    #[arg(long, value_enum)]
    pub by: Option<CoverageBy>,
    /// Months to report, YYYY-MM or YYYY-MM..YYYY-MM (default: every month with data)
    #[arg(long, value_name = "YYYY-MM[..YYYY-MM]")]
    pub period: Option<PeriodRange>,
    /// The FOCUS cost column
    #[arg(long, value_enum, default_value_t)]
    pub cost: CostColumn,
    /// Count every charge (by default only ChargeCategory Usage: taxes, fees and credits
    /// carry no tags)
    #[arg(long)]
    pub all_charges: bool,
    /// How many of the largest resources without each --key to list
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Exit 1 when a --key's coverage (of any group and currency) is below PCT percent
    #[arg(long, value_name = "PCT", requires = "keys")]
    pub min_coverage: Option<f64>,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// A grouping of the coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CoverageBy {
    /// ProviderName
    Provider,
    /// SubAccountId
    Account,
    /// ServiceName
    Service,
}

impl CoverageBy {
    fn column(self) -> &'static str {
        match self {
            Self::Provider => "ProviderName",
            Self::Account => "SubAccountId",
            Self::Service => "ServiceName",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Account => "account",
            Self::Service => "service",
        }
    }
}

pub(crate) fn run(
    wh: &Warehouse,
    ctx: &Context,
    args: &TagsArgs,
    rules: &Rules,
    file_format: Option<&str>,
) -> miette::Result<ExitStatus> {
    if let Some(f) = file_format {
        return Err(Error::table_or_json_only("tags", f).into());
    }
    let mut index = TagIndex::load(wh, rules.tags.as_ref())?;
    if !index.normalises() {
        index = TagIndex::unnormalised(crate::rules::tag_key_counts(wh)?);
    }
    let keys: Vec<String> = if args.keys.is_empty() {
        index.merged().keys().map(|k| index.display(k)).collect()
    } else {
        args.keys.clone()
    };
    let focus = focus_table(wh);
    let cost = format!("\"{}\"", args.cost.column());
    let mut filter = vec!["TRUE".to_owned()];
    if !args.all_charges {
        filter.push("\"ChargeCategory\" = 'Usage'".into());
    }
    if let Some(p) = args.period {
        let (start, end) = p.bounds();
        filter.push(format!(
            "\"ChargePeriodStart\" >= CAST({} AS TIMESTAMP) AND \"ChargePeriodStart\" < CAST({} AS TIMESTAMP)",
            quote_literal(&start),
            quote_literal(&end)
        ));
    }
    let filter = filter.join(" AND ");
    let (group_select, group_label) = args.by.map_or_else(
        || ("'(all)'".to_owned(), "scope"),
        |b| {
            (
                format!("coalesce(CAST(\"{}\" AS VARCHAR), '(none)')", b.column()),
                b.label(),
            )
        },
    );
    let mut coverage = Table::new(vec![
        "key",
        group_label,
        "currency",
        "tagged_cost",
        "total_cost",
        "coverage_percent",
    ]);
    let mut below = Vec::new();
    for key in &keys {
        let has = format!("({}) IS NOT NULL", index.value_sql(key));
        let sql = format!(
            "SELECT {group_select} AS g, coalesce(\"BillingCurrency\", '(none)') AS c,
                    CAST(coalesce(sum({cost}) FILTER (WHERE {has}), 0) AS VARCHAR),
                    CAST(coalesce(sum({cost}), 0) AS VARCHAR),
                    CASE WHEN sum({cost}) = 0 THEN NULL
                         ELSE round(100 * CAST(coalesce(sum({cost}) FILTER (WHERE {has}), 0) AS DOUBLE) / CAST(sum({cost}) AS DOUBLE), 2) END
             FROM {focus} WHERE {filter} GROUP BY ALL ORDER BY 1, 2"
        );
        let rows: Vec<(String, String, String, String, Option<f64>)> =
            crate::frame::rows(wh, &sql, [], "measuring tag coverage", |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        let shown = index.display(&index.canonical(key));
        for (g, c, tagged, total, pct) in rows {
            if let (Some(min), Some(p)) = (args.min_coverage, pct)
                && p < min
            {
                below.push(format!("{shown} {g} {c}: {p}%"));
            }
            coverage.push(vec![
                json!(shown),
                json!(g),
                json!(c),
                json!(trim_decimal(&tagged)),
                json!(trim_decimal(&total)),
                pct.map_or(Value::Null, |p| json!(p)),
            ]);
        }
    }
    let mut merged = Table::new(vec!["key", "spellings"]);
    if index.normalises() {
        for (canonical, spellings) in index.merged() {
            if spellings.len() > 1 {
                merged.push(vec![
                    json!(index.display(&canonical)),
                    json!(spellings.join(", ")),
                ]);
            }
        }
    }
    let mut untagged = Table::new(vec!["key", "resource", "currency", "cost"]);
    let missing_keys: Vec<String> = if args.keys.is_empty() {
        Vec::new()
    } else {
        args.keys.clone()
    };
    for key in &missing_keys {
        let sql = format!(
            "SELECT CAST(\"ResourceId\" AS VARCHAR), coalesce(\"BillingCurrency\", '(none)'), CAST(sum({cost}) AS VARCHAR) AS s
             FROM {focus} WHERE {filter} AND \"ResourceId\" IS NOT NULL AND ({}) IS NULL
             GROUP BY ALL ORDER BY sum({cost}) DESC, 1 LIMIT {}",
            index.value_sql(key),
            args.top
        );
        let rows: Vec<(String, String, String)> =
            crate::frame::rows(wh, &sql, [], "finding untagged resources", |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        for (res, c, s) in rows {
            untagged.push(vec![
                json!(key),
                json!(res),
                json!(c),
                json!(trim_decimal(&s)),
            ]);
        }
    }
    let text = if ctx.ui.format == Format::Json {
        serde_json::to_string_pretty(&json!({
            "coverage": coverage.to_json(),
            "merged": merged.to_json(),
            "untagged": untagged.to_json(),
            "min_coverage": args.min_coverage,
            "below": below,
        }))
        .map_err(Error::encode("the report"))?
    } else {
        let mut t = format!("Tag coverage ({} cost", args.cost.column());
        t.push_str(if args.all_charges {
            ", every charge)\n"
        } else {
            ", usage charges)\n"
        });
        t.push_str(&coverage.render());
        if !merged.rows.is_empty() {
            t.push_str("\n\nKeys [tags] merged\n");
            t.push_str(&merged.render());
        }
        if !untagged.rows.is_empty() {
            t.push_str("\n\nLargest resources without the key\n");
            t.push_str(&untagged.render());
        }
        t
    };
    write_out(args.out.as_deref(), &text)?;
    if below.is_empty() {
        Ok(ExitStatus::Success)
    } else {
        tracing::error!(
            "tag coverage below {}%: {}",
            args.min_coverage.unwrap_or_default(),
            below.join("; ")
        );
        Ok(ExitStatus::Failure)
    }
}
