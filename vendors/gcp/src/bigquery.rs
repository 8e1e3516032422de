//! A billing export table read directly from BigQuery: its REST API (`jobs.query`,
//! `getQueryResults`) through the HTTP client the build already has (`ureq`), with the bearer
//! token of Google's credential chain (`object_store`'s: a service-account key, application
//! default credentials, the GCE/GKE metadata server).
//!
//! One query lists the invoice months (row count and newest `export_time` of each: the
//! month's version); one query per month that changed reads its rows. Every query is first
//! run as a dry run: one that would scan more than `gcp.max_bytes_billed` is refused before
//! it costs anything, and the real run carries the same ceiling (`maximumBytesBilled`). The
//! rows come back as text (numbers exactly as BigQuery prints them); they are written as
//! newline-delimited JSON in the staging folder and read like an `EXPORT DATA` file, so both
//! paths share one reader and one mapping.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use finops_core::Period;
use finops_core::naming::TableRef;
use finops_core::output::Ui;
use finops_core::state::ExportKey;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged};
use serde_json::{Value, json};

use crate::config::GcpConfig;
use crate::schema::Schema;

/// On-demand price of BigQuery analysis, US dollars per TiB scanned (list price, 2024), for
/// the log line that says what a query cost.
const USD_PER_TIB: f64 = 6.25;

/// Rows per result page.
const PAGE_ROWS: u32 = 20_000;

/// A BigQuery client: the API base, the job project, a token.
#[derive(Clone)]
pub(crate) struct Client {
    agent: ureq::Agent,
    endpoint: String,
    job_project: String,
    token: String,
    max_bytes: u64,
}

/// What to do when BigQuery refuses the credentials.
const DENIED_HELP: &str = "the account needs roles/bigquery.dataViewer on the export's dataset and roles/bigquery.jobUser on the job project (gcp.job_project); set gcp.credentials to a service-account key, or run `gcloud auth application-default login`";
/// What to do when the table is not there.
const NOT_FOUND_HELP: &str = "check gcp.table (--table PROJECT.DATASET.TABLE): Cloud Billing writes gcp_billing_export_v1_<ACCOUNT> (standard), gcp_billing_export_resource_v1_<ACCOUNT> (detailed) and gcp_billing_export_focus_<ACCOUNT> (FOCUS) into the dataset chosen in Billing > Billing export";

impl Client {
    /// A client for `cfg`, authenticated.
    pub(crate) async fn new(cfg: &GcpConfig, job_project: &str) -> finops_core::Result<Self> {
        let endpoint = cfg
            .bigquery_endpoint
            .clone()
            .unwrap_or_else(|| "https://bigquery.googleapis.com".into())
            .trim_end_matches('/')
            .to_owned();
        let gcs = crate::store::builder(cfg, "finops-bigquery")?
            .build()
            .map_err(|e| finops_core::Error::ConfigInvalid {
                message: format!("cannot configure Google Cloud credentials: {e}"),
            })?;
        let token = gcs
            .credentials()
            .get_credential()
            .await
            .map_err(|e| finops_core::Error::Remote {
                service: "BigQuery",
                operation: "authenticate",
                location: endpoint.clone(),
                code: Some("Unauthenticated".into()),
                message: e.to_string().lines().next().unwrap_or_default().to_owned(),
                help: DENIED_HELP.into(),
            })?
            .bearer
            .clone();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(600)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            agent,
            endpoint,
            job_project: job_project.to_owned(),
            token,
            max_bytes: cfg.max_bytes_billed,
        })
    }

    /// One call; an HTTP error or an error in the reply is [`finops_core::Error::Remote`]
    /// naming `location`.
    fn call(
        &self,
        operation: &'static str,
        location: &str,
        url: &str,
        body: Option<&Value>,
    ) -> finops_core::Result<Value> {
        let auth = format!("Bearer {}", self.token);
        let remote = |code: Option<String>, message: String| {
            remote_error(operation, location, code, message, self.max_bytes)
        };
        let response = if let Some(b) = body {
            let mut req = self
                .agent
                .post(url)
                .header("Content-Type", "application/json");
            if !self.token.is_empty() {
                req = req.header("Authorization", &auth);
            }
            req.send(b.to_string().as_bytes())
        } else {
            let mut req = self.agent.get(url);
            if !self.token.is_empty() {
                req = req.header("Authorization", &auth);
            }
            req.call()
        };
        let mut response = response.map_err(|e| remote(None, e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| remote(None, e.to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        // An error reply (`{"error": {...}}`), or a job that failed (`errors`, `status.errorResult`).
        let error = value
            .get("error")
            .or_else(|| value.pointer("/status/errorResult"))
            .or_else(|| value.get("errors").and_then(|e| e.get(0)))
            .cloned();
        if status >= 400 || error.is_some() {
            let e = error.unwrap_or(Value::Null);
            let reason = e
                .pointer("/errors/0/reason")
                .or_else(|| e.get("reason"))
                .and_then(Value::as_str)
                .map_or_else(|| status.to_string(), str::to_owned);
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| format!("HTTP {status}"), str::to_owned);
            return Err(remote(Some(reason), message));
        }
        Ok(value)
    }

    /// The top-level column names of a table (free: table metadata, no query).
    pub(crate) fn columns(&self, table: &Table) -> finops_core::Result<Vec<String>> {
        let url = format!(
            "{}/bigquery/v2/projects/{}/datasets/{}/tables/{}",
            self.endpoint, table.project, table.dataset, table.id
        );
        let t = self.call("get table", &table.name(), &url, None)?;
        Ok(t.pointer("/schema/fields")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Runs `sql` (`what` names it in the log and errors): a dry run first, refused when it
    /// would scan more than the ceiling; then the query, every row of every page passed to
    /// `row` as a JSON object. Returns the rows and the bytes billed.
    pub(crate) fn query(
        &self,
        sql: &str,
        what: &str,
        mut row: impl FnMut(Value) -> finops_core::Result<()>,
    ) -> finops_core::Result<(u64, u64)> {
        let url = format!(
            "{}/bigquery/v2/projects/{}/queries",
            self.endpoint, self.job_project
        );
        let mut request = json!({
            "query": sql,
            "useLegacySql": false,
            "dryRun": true,
        });
        let dry = self.call("query (dry run)", what, &url, Some(&request))?;
        ceiling(number(&dry, "totalBytesProcessed"), self.max_bytes, what)?;
        request = json!({
            "query": sql,
            "useLegacySql": false,
            "maximumBytesBilled": self.max_bytes.to_string(),
            "maxResults": PAGE_ROWS,
            "timeoutMs": 60_000,
            "formatOptions": {"useInt64Timestamp": true},
        });
        let mut page = self.call("query", what, &url, Some(&request))?;
        let job = page
            .pointer("/jobReference/jobId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let location = page
            .pointer("/jobReference/location")
            .and_then(Value::as_str)
            .map(|l| format!("&location={l}"))
            .unwrap_or_default();
        let more = |token: Option<&str>| {
            format!(
                "{url}/{job}?maxResults={PAGE_ROWS}&timeoutMs=60000&formatOptions.useInt64Timestamp=true{location}{}",
                token.map(|t| format!("&pageToken={t}")).unwrap_or_default()
            )
        };
        while page.get("jobComplete") == Some(&Value::Bool(false)) {
            page = self.call("get query results", what, &more(None), None)?;
        }
        let fields = page
            .pointer("/schema/fields")
            .cloned()
            .unwrap_or(Value::Null);
        let total = number(&page, "totalRows");
        let billed = page.get("totalBytesBilled").map_or_else(
            || number(&page, "totalBytesProcessed"),
            |_| number(&page, "totalBytesBilled"),
        );
        let mut rows = 0u64;
        loop {
            for r in page
                .get("rows")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                row(record(r, &fields))?;
                rows += 1;
            }
            let Some(token) = page
                .get("pageToken")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                break;
            };
            page = self.call("get query results", what, &more(Some(&token)), None)?;
        }
        if rows != total {
            return Err(finops_core::Error::DeliveryUnreadable {
                message: format!("{what}: BigQuery announced {total} rows and sent {rows}"),
                help: "run the import again; the month is retried".into(),
            });
        }
        tracing::info!(
            "BigQuery: {what}: {rows} row(s), {billed} bytes billed (about ${:.4} at ${USD_PER_TIB}/TiB on demand)",
            usd(billed)
        );
        Ok((rows, billed))
    }
}

/// A failed BigQuery call, with what to do about it by the service's reason.
fn remote_error(
    operation: &'static str,
    location: &str,
    code: Option<String>,
    message: String,
    max_bytes: u64,
) -> finops_core::Error {
    let help = match code.as_deref() {
        Some("notFound" | "404") => NOT_FOUND_HELP.to_owned(),
        Some("accessDenied" | "forbidden" | "unauthorized" | "401" | "403") => {
            DENIED_HELP.to_owned()
        }
        Some("bytesBilledLimitExceeded") => format!(
            "raise gcp.max_bytes_billed (--max-bytes-billed, now {max_bytes} bytes) if the cost is acceptable"
        ),
        _ => "check gcp.bigquery_endpoint, the network and the credentials".to_owned(),
    };
    finops_core::Error::Remote {
        service: "BigQuery",
        operation,
        location: location.to_owned(),
        code,
        message,
        help,
    }
}

/// A query whose dry run says it would scan `estimate` bytes may run only within the ceiling:
/// refused before it runs, so nothing is billed.
fn ceiling(estimate: u64, max_bytes: u64, what: &str) -> finops_core::Result<()> {
    if estimate <= max_bytes {
        return Ok(());
    }
    Err(finops_core::Error::Remote {
        service: "BigQuery",
        operation: "query",
        location: what.to_owned(),
        code: Some("bytesBilledLimitExceeded".into()),
        message: format!(
            "the query would scan {estimate} bytes, more than gcp.max_bytes_billed ({max_bytes} bytes); it was not run, nothing was billed"
        ),
        help: format!(
            "raise gcp.max_bytes_billed (--max-bytes-billed) if about ${:.2} is acceptable for it",
            usd(estimate)
        ),
    })
}

#[allow(clippy::cast_precision_loss)] // an estimate for the log
fn usd(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 40) as f64 * USD_PER_TIB
}

/// A count BigQuery sends as a string (`"totalRows": "5"`).
fn number(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

/// One row of BigQuery's `{"f": [{"v": …}]}` reply as a JSON object shaped like the schema
/// `fields`: records as objects, repeated fields as arrays, timestamps (int64 microseconds)
/// as `YYYY-MM-DD HH:MM:SS.ffffff UTC`, booleans as booleans, every other value as the text
/// BigQuery sent (numbers exactly as printed).
pub fn record(row: &Value, fields: &Value) -> Value {
    let cells = row.get("f").and_then(Value::as_array);
    let mut out = serde_json::Map::new();
    for (i, field) in fields.as_array().into_iter().flatten().enumerate() {
        let name = field
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let v = cells
            .and_then(|c| c.get(i))
            .and_then(|c| c.get("v"))
            .unwrap_or(&Value::Null);
        out.insert(name.to_owned(), cell(v, field, true));
    }
    Value::Object(out)
}

fn cell(v: &Value, field: &Value, repeated_here: bool) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    if repeated_here && field.get("mode").and_then(Value::as_str) == Some("REPEATED") {
        return Value::Array(
            v.as_array()
                .into_iter()
                .flatten()
                .map(|e| cell(e.get("v").unwrap_or(&Value::Null), field, false))
                .collect(),
        );
    }
    match field
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "RECORD" | "STRUCT" => record(v, field.get("fields").unwrap_or(&Value::Null)),
        "TIMESTAMP" => v
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .map_or_else(|| v.clone(), |us| Value::String(timestamp(us))),
        "BOOLEAN" | "BOOL" => match v.as_str() {
            Some("true") => Value::Bool(true),
            Some("false") => Value::Bool(false),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS.ffffff UTC` (the civil date by
/// Howard Hinnant's `civil_from_days`).
pub fn timestamp(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{micros:06} UTC",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

/// A table, checked (`PROJECT.DATASET.TABLE`).
#[derive(Clone, Debug)]
pub(crate) struct Table {
    project: String,
    dataset: String,
    id: String,
}

impl Table {
    fn name(&self) -> String {
        format!("{}.{}.{}", self.project, self.dataset, self.id)
    }

    /// The table in standard SQL: every part checked by [`crate::config::parse_table`], then
    /// quoted with backticks.
    fn sql(&self) -> String {
        format!("`{}`", self.name())
    }
}

/// The export of `gcp.table`.
pub(crate) async fn resolve(cfg: &GcpConfig, table: &str) -> miette::Result<Vec<Box<dyn Export>>> {
    let (project, dataset, table_id) = crate::config::parse_table(table)
        .map_err(|message| finops_core::Error::ConfigInvalid { message })?;
    let table = Table {
        project,
        dataset,
        id: table_id,
    };
    let job_project = cfg
        .job_project
        .clone()
        .unwrap_or_else(|| table.project.clone());
    let client = Client::new(cfg, &job_project).await?;
    let columns = {
        let (c, t) = (client.clone(), table.clone());
        blocking(move || c.columns(&t)).await?
    };
    let Some(schema) = Schema::detect(&columns) else {
        return Err(finops_core::Error::DeliveryUnreadable {
            message: format!(
                "{} is not a Cloud Billing export table: its columns are {}",
                table.name(),
                finops_core::error::found_list(&columns)
            ),
            help: NOT_FOUND_HELP.into(),
        }
        .into());
    };
    finops_core::naming::validate_export_name(&table.id)?;
    Ok(vec![Box::new(TableExport {
        key: ExportKey {
            vendor: "gcp".into(),
            export: table.id.clone(),
            kind: crate::exports::kind_of(schema).into(),
        },
        client: Arc::new(client),
        table,
        schema,
    })])
}

/// Runs a blocking BigQuery call off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> finops_core::Result<T> + Send + 'static,
) -> finops_core::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| finops_core::Error::io("calling BigQuery", ".")(std::io::Error::other(e)))?
}

/// A billing export table in BigQuery.
struct TableExport {
    key: ExportKey,
    client: Arc<Client>,
    table: Table,
    schema: Schema,
}

impl TableExport {
    /// The SQL expression of a row's invoice month (`YYYYMM`).
    fn month_expr(&self) -> &'static str {
        match self.schema {
            Schema::Focus => "FORMAT_TIMESTAMP('%Y%m', BillingPeriodStart, 'America/Los_Angeles')",
            Schema::Standard | Schema::Detailed => "invoice.month",
        }
    }

    fn export_time(&self) -> &'static str {
        match self.schema {
            Schema::Focus => "x_ExportTime",
            Schema::Standard | Schema::Detailed => "export_time",
        }
    }
}

impl Export for TableExport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        crate::exports::raw_table(self.schema, &self.table.id)
    }

    fn cost_expression(&self) -> Option<String> {
        Some(crate::exports::cost_expression(self.schema))
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        let sql = format!(
            "SELECT {m} AS month, COUNT(*) AS n, MAX({t}) AS t FROM {table} GROUP BY month ORDER BY month",
            m = self.month_expr(),
            t = self.export_time(),
            table = self.table.sql()
        );
        let (client, what) = (
            Arc::clone(&self.client),
            format!("invoice months of {}", self.table.name()),
        );
        Box::pin(async move {
            let months = blocking(move || {
                let mut out = Vec::new();
                client.query(&sql, &what, |r| {
                    out.push(r);
                    Ok(())
                })?;
                Ok(out)
            })
            .await?;
            let mut deliveries = Vec::new();
            for m in months {
                let Some(period) = m["month"]
                    .as_str()
                    .filter(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| Period::from_yyyymmdd(&format!("{s}01")))
                else {
                    tracing::warn!(
                        "{}: skipping rows without an invoice month: {m}",
                        self.table.name()
                    );
                    continue;
                };
                deliveries.push(Delivery::of_files(
                    period,
                    format!(
                        "rows={};export_time={}",
                        m["n"].as_str().unwrap_or("?"),
                        m["t"].as_str().unwrap_or("?")
                    ),
                    [],
                    DeliveryStatus::Ready,
                ));
            }
            Ok(deliveries)
        })
    }

    fn stage<'a>(
        &'a self,
        d: &'a Delivery,
        dir: &'a Path,
        _ui: &'a Ui,
    ) -> BoxFuture<'a, miette::Result<Staged>> {
        Box::pin(async move {
            let day = d.period.yyyymmdd();
            let month = &day[..6];
            let sql = format!(
                "SELECT * FROM {} WHERE {} = '{month}'",
                self.table.sql(),
                self.month_expr()
            );
            let name = format!("{}-{month}.json", self.table.id);
            let path: PathBuf = dir.join(&name);
            let what = format!("{} invoice month {month}", self.table.name());
            let (client, file) = (Arc::clone(&self.client), path.clone());
            let bytes = blocking(move || {
                let f = std::fs::File::create(&file)
                    .map_err(finops_core::Error::io("writing", &file))?;
                let mut w = std::io::BufWriter::new(f);
                client.query(&sql, &what, |r| {
                    serde_json::to_writer(&mut w, &r)
                        .map_err(|e| finops_core::Error::io("writing", &file)(e.into()))?;
                    w.write_all(b"\n")
                        .map_err(finops_core::Error::io("writing", &file))
                })?;
                w.flush()
                    .map_err(finops_core::Error::io("writing", &file))?;
                Ok(std::fs::metadata(&file).map_or(0, |m| m.len()))
            })
            .await?;
            let location = format!("{} ({month})", self.table.name());
            let read = crate::exports::read_files(
                std::slice::from_ref(&path),
                std::slice::from_ref(&name),
                &location,
            )?;
            Ok(crate::exports::staged(read, self.schema, bytes, vec![path]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_ceiling_refuses_before_anything_runs() {
        assert!(ceiling(10, 10, "q").is_ok());
        let e = ceiling(3 << 40, 1 << 30, "invoice month 202610").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("3298534883328 bytes"), "{text}");
        assert!(text.contains("nothing was billed"), "{text}");
        assert!(format!("{:?}", miette::Report::new(e)).contains("about $18.75"));
    }

    #[test]
    fn refusals_say_what_to_do() {
        let help = |code: &str| match remote_error("query", "t", Some(code.into()), "m".into(), 7) {
            finops_core::Error::Remote { help, .. } => help,
            other => panic!("{other:?}"),
        };
        assert!(help("accessDenied").contains("roles/bigquery.dataViewer"));
        assert!(help("403").contains("roles/bigquery.jobUser"));
        assert!(help("notFound").contains("gcp_billing_export_resource_v1_<ACCOUNT>"));
        assert!(help("bytesBilledLimitExceeded").contains("now 7 bytes"));
        assert!(help("backendError").contains("network"));
    }

    #[test]
    fn timestamps_are_civil_utc() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00.000000 UTC");
        assert_eq!(
            timestamp(1_790_838_000_000_000),
            "2026-10-01 07:00:00.000000 UTC"
        );
        assert_eq!(
            timestamp(951_782_400_000_001),
            "2000-02-29 00:00:00.000001 UTC"
        );
        assert_eq!(timestamp(-1), "1969-12-31 23:59:59.999999 UTC");
    }

    #[test]
    fn rows_keep_their_shape_and_their_text() {
        let fields = json!([
            {"name": "cost", "type": "FLOAT"},
            {"name": "t", "type": "TIMESTAMP"},
            {"name": "invoice", "type": "RECORD", "fields": [{"name": "month", "type": "STRING"}]},
            {"name": "credits", "type": "RECORD", "mode": "REPEATED",
             "fields": [{"name": "amount", "type": "FLOAT"}, {"name": "inherited", "type": "BOOLEAN"}]},
            {"name": "labels", "type": "STRING", "mode": "REPEATED"}
        ]);
        let row = json!({"f": [
            {"v": "0.30000000000000004"},
            {"v": "1790838000000000"},
            {"v": {"f": [{"v": "202610"}]}},
            {"v": [{"v": {"f": [{"v": "-1e-07"}, {"v": "true"}]}}]},
            {"v": [{"v": "a"}, {"v": null}]}
        ]});
        assert_eq!(
            record(&row, &fields),
            json!({
                "cost": "0.30000000000000004",
                "t": "2026-10-01 07:00:00.000000 UTC",
                "invoice": {"month": "202610"},
                "credits": [{"amount": "-1e-07", "inherited": true}],
                "labels": ["a", null]
            })
        );
    }
}
