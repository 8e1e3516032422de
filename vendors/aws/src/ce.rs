//! AWS Cost Explorer (`GetCostAndUsage`) as an [`Export`](finops_core::vendor::Export): one "delivery" per
//! calendar month of the range asked for, fetched page by page (`NextPageToken`) with the
//! SDK's retries for throttling, written to a CSV file in the staging directory and loaded
//! into `aws.cost_explorer` like any export: one transaction per month, replacing that
//! month's rows of this query only (the table holds every query, told apart by `query`).
//!
//! Cost Explorer has no delivery versions, so every run reloads the months asked for: a
//! re-run over the same range replaces, never duplicates. Each request costs $0.01.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_costexplorer::types::{
    DateInterval, Granularity, GroupDefinition, GroupDefinitionType,
};
use finops_core::Period;
use finops_core::naming::{TableRef, validate_export_name};
use finops_core::output::Ui;
use finops_core::state::ExportKey;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged};

use crate::config::AwsConfig;
use crate::cur::SCHEMA;
use crate::error::{Error, Result};
use crate::read::{self, ColumnType};

/// The table every Cost Explorer query loads into.
pub const TABLE: &str = "cost_explorer";

/// What to ask Cost Explorer.
#[derive(Clone, Debug)]
pub struct Query {
    /// `DAILY` or `MONTHLY`.
    pub granularity: Granularity,
    /// Up to two (type, key) pairs: (`DIMENSION`, `SERVICE`), (`TAG`, `Team`)…
    pub group_by: Vec<(GroupDefinitionType, String)>,
    /// `UnblendedCost`, `AmortizedCost`, `UsageQuantity`…
    pub metrics: Vec<String>,
}

impl Query {
    /// `DIMENSION:SERVICE,TAG:Team`, as stored in the `group_by` column.
    pub fn group_by_text(&self) -> String {
        self.group_by
            .iter()
            .map(|(t, k)| format!("{}:{k}", t.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A name for the query when none is given: `daily-service-tag_team`.
    pub fn default_name(&self) -> String {
        let mut parts = vec![self.granularity.as_str().to_ascii_lowercase()];
        for (t, k) in &self.group_by {
            let k = k
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            parts.push(match t {
                GroupDefinitionType::Dimension => k,
                other => format!("{}_{k}", other.as_str().to_ascii_lowercase()),
            });
        }
        parts.join("-")
    }
}

/// Parses a `--group-by` value: `SERVICE`, `DIMENSION:LINKED_ACCOUNT`, `TAG:Team`,
/// `COST_CATEGORY:Department`.
pub fn parse_group_by(s: &str) -> std::result::Result<(GroupDefinitionType, String), String> {
    let (ty, key) = s.split_once(':').unwrap_or(("DIMENSION", s));
    let ty = match ty.to_ascii_uppercase().as_str() {
        "DIMENSION" => GroupDefinitionType::Dimension,
        "TAG" => GroupDefinitionType::Tag,
        "COST_CATEGORY" => GroupDefinitionType::CostCategory,
        other => {
            return Err(format!(
                "`{other}` is not a group type; use DIMENSION:KEY, TAG:KEY or COST_CATEGORY:KEY"
            ));
        }
    };
    if key.is_empty() {
        return Err("the group key is empty".into());
    }
    let key = if ty == GroupDefinitionType::Dimension {
        key.to_ascii_uppercase()
    } else {
        key.to_owned()
    };
    Ok((ty, key))
}

/// One Cost Explorer query over a range of months.
pub struct CostExplorerQuery {
    client: aws_sdk_costexplorer::Client,
    query: Query,
    months: Vec<Period>,
    key: ExportKey,
    run_id: String,
}

impl CostExplorerQuery {
    /// A source for `query`, named `name`, over `months`.
    pub async fn new(
        cfg: &AwsConfig,
        name: String,
        query: Query,
        months: Vec<Period>,
    ) -> finops_core::Result<Self> {
        validate_export_name(&name)?;
        let sdk = crate::store::sdk_config(cfg).await;
        // Cost Explorer lives in us-east-1 whatever the account's regions.
        let mut b = aws_sdk_costexplorer::config::Builder::from(&sdk)
            .retry_config(crate::store::retry_config())
            .region(aws_config::Region::new(
                cfg.region.clone().unwrap_or_else(|| "us-east-1".into()),
            ));
        if let Some(ep) = &cfg.endpoint_url {
            b = b.endpoint_url(ep);
        }
        let run_id = format!(
            "fetched {}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        );
        Ok(Self {
            client: aws_sdk_costexplorer::Client::from_conf(b.build()),
            key: ExportKey {
                vendor: "aws".into(),
                export: name,
                kind: "cost-explorer".into(),
            },
            query,
            months,
            run_id,
        })
    }

    /// Fetches one month, every page; returns the CSV rows.
    async fn fetch(&self, period: Period) -> Result<Vec<[String; 10]>> {
        let (start, end) = (period.first_day(), period.next().first_day());
        let interval = DateInterval::builder()
            .start(&start)
            .end(&end)
            .build()
            .map_err(|e| ce_error(&e.to_string(), None))?;
        let mut rows = Vec::new();
        let mut token: Option<String> = None;
        let group_by = self.query.group_by_text();
        let granularity = self.query.granularity.as_str().to_owned();
        loop {
            let mut req = self
                .client
                .get_cost_and_usage()
                .time_period(interval.clone())
                .granularity(self.query.granularity.clone())
                .set_next_page_token(token.clone());
            for m in &self.query.metrics {
                req = req.metrics(m);
            }
            for (t, k) in &self.query.group_by {
                req = req.group_by(GroupDefinition::builder().r#type(t.clone()).key(k).build());
            }
            let resp = req.send().await.map_err(|e| {
                use aws_sdk_costexplorer::error::ProvideErrorMetadata;
                let mut code = e.code().map(str::to_owned);
                let message = e
                    .message()
                    .map_or_else(|| finops_core::store::source_chain(&e), str::to_owned);
                if code.is_none() && message.contains("credential") {
                    code = Some("NoCredentials".to_owned());
                }
                ce_error(&message, code)
            })?;
            for r in resp.results_by_time() {
                let (ts, te) = r.time_period().map_or((start.clone(), end.clone()), |p| {
                    (p.start().to_owned(), p.end().to_owned())
                });
                let mut push = |keys: &[String],
                                metrics: Option<
                    &std::collections::HashMap<String, aws_sdk_costexplorer::types::MetricValue>,
                >| {
                    let sorted: BTreeMap<_, _> = metrics.into_iter().flatten().collect();
                    for (metric, v) in sorted {
                        rows.push([
                            self.key.export.clone(),
                            ts.clone(),
                            te.clone(),
                            granularity.clone(),
                            group_by.clone(),
                            keys.first().cloned().unwrap_or_default(),
                            keys.get(1).cloned().unwrap_or_default(),
                            metric.clone(),
                            v.amount().unwrap_or_default().to_owned(),
                            v.unit().unwrap_or_default().to_owned(),
                        ]);
                    }
                };
                if self.query.group_by.is_empty() {
                    push(&[], r.total());
                } else {
                    for g in r.groups() {
                        push(g.keys(), g.metrics());
                    }
                }
                if r.estimated() {
                    tracing::info!(
                        "{} {ts}: Cost Explorer marks these figures as estimated",
                        self.key.export
                    );
                }
            }
            token = resp
                .next_page_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(rows)
    }
}

fn ce_error(message: &str, code: Option<String>) -> Error {
    Error::CostExplorer {
        code,
        message: message.to_owned(),
    }
}

/// The columns of `aws.cost_explorer`, in CSV order.
const COLUMNS: [(&str, ColumnType); 10] = [
    ("query", ColumnType::Text),
    ("time_start", ColumnType::Timestamp),
    ("time_end", ColumnType::Timestamp),
    ("granularity", ColumnType::Text),
    ("group_by", ColumnType::Text),
    ("group_1", ColumnType::Text),
    ("group_2", ColumnType::Text),
    ("metric", ColumnType::Text),
    ("amount", ColumnType::Decimal),
    ("unit", ColumnType::Text),
];

impl Export for CostExplorerQuery {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        TableRef::new(SCHEMA, TABLE)
    }

    fn cost_expression(&self) -> Option<String> {
        Some("sum(amount) FILTER (WHERE metric = 'UnblendedCost')".into())
    }

    fn scope(&self) -> Option<(String, String)> {
        Some(("query".into(), self.key.export.clone()))
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        let deliveries = self
            .months
            .iter()
            .map(|p| Delivery {
                period: *p,
                version_id: self.run_id.clone(),
                files: Vec::new(),
                status: DeliveryStatus::Ready,
                detail: std::sync::Arc::new(()),
            })
            .collect();
        Box::pin(async move { Ok(deliveries) })
    }

    fn stage<'a>(
        &'a self,
        d: &'a Delivery,
        dir: &'a Path,
        ui: &'a Ui,
    ) -> BoxFuture<'a, miette::Result<Staged>> {
        Box::pin(self.stage_files(d, dir, ui))
    }
}

impl CostExplorerQuery {
    async fn stage_files(&self, d: &Delivery, dir: &Path, _ui: &Ui) -> miette::Result<Staged> {
        let rows = self.fetch(d.period).await?;
        let path = dir.join("cost-explorer.csv");
        let io = |source| Error::from(finops_core::Error::io("writing", &path)(source));
        let mut w = csv::Writer::from_path(&path).map_err(|e| io(std::io::Error::other(e)))?;
        w.write_record(COLUMNS.iter().map(|(n, _)| *n))
            .map_err(|e| io(std::io::Error::other(e)))?;
        for r in &rows {
            w.write_record(r)
                .map_err(|e| io(std::io::Error::other(e)))?;
        }
        w.flush().map_err(io)?;
        drop(w);
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        tracing::info!(
            "{} {}: {} values from Cost Explorer",
            self.key.export,
            d.period,
            rows.len()
        );
        let columns: Vec<(String, ColumnType)> =
            COLUMNS.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect();
        let raw = read::csv_select(std::slice::from_ref(&path), &columns, false)?;
        Ok(Staged::of_raw(raw, None, bytes, vec![path]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_values() {
        assert_eq!(
            parse_group_by("SERVICE").unwrap(),
            (GroupDefinitionType::Dimension, "SERVICE".into())
        );
        assert_eq!(
            parse_group_by("dimension:linked_account").unwrap(),
            (GroupDefinitionType::Dimension, "LINKED_ACCOUNT".into())
        );
        assert_eq!(
            parse_group_by("TAG:Team").unwrap(),
            (GroupDefinitionType::Tag, "Team".into())
        );
        assert!(parse_group_by("FOO:x").is_err());
        assert!(parse_group_by("TAG:").is_err());
        let q = Query {
            granularity: Granularity::Daily,
            group_by: vec![
                (GroupDefinitionType::Dimension, "SERVICE".into()),
                (GroupDefinitionType::Tag, "Cost Center".into()),
            ],
            metrics: vec!["UnblendedCost".into()],
        };
        assert_eq!(q.default_name(), "daily-service-tag_cost_center");
        assert_eq!(q.group_by_text(), "DIMENSION:SERVICE,TAG:Cost Center");
    }
}
