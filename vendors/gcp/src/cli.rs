//! The Google Cloud vendor as core sees it ([`Gcp`]): its location arguments and how its
//! exports are found. `import`, `list-exports` and `show-state` are core's
//! ([`finops_core::vendor_commands`]).

use std::sync::Arc;

use finops_core::Context;
use finops_core::config::{KeySpec, Settings};
use finops_core::vendor::{BoxFuture, Export, Vendor};

use crate::config::GcpConfig;
use crate::exports::{self, BillingExport};
use crate::store::Source;

/// The Google Cloud vendor.
pub struct Gcp;

/// The Google Cloud vendor, for the CLI's registry.
pub static GCP: Gcp = Gcp;

const IMPORT_HELP: &str = "Import Cloud Billing exports (standard, detailed and FOCUS) into the warehouse.

With --table, reads the billing export table in BigQuery directly: one query lists the invoice months (rows and newest export_time: a month's version), one query per changed month reads it; each query is dry-run first and refused when it would bill more than --max-bytes-billed, and what each one billed is logged.

Otherwise reads the files BigQuery's EXPORT DATA writes from a billing export table: one folder per invoice month, <folder>/invoice_month=YYYYMM/*.parquet or *.json[.gz] (billing_period=YYYY-MM is accepted too), in Cloud Storage (gs://BUCKET/PREFIX) or in a local copy. Each folder holding such month folders is one export, loaded into its own raw table (gcp.billing_<name> or gcp.focus_<name>) and its own x_source in FOCUS. Which export a folder holds (standard, detailed, FOCUS) is told from its columns. A month is loaded again, replacing the old rows in one transaction, when its files change; a month whose files come from two EXPORT DATA runs is refused (the README's Google Cloud section shows the commands to schedule).

Examples:
  finops gcp import --table my-project.billing.gcp_billing_export_resource_v1_0123AB_4567CD_89EF01
  finops gcp import --path gs://my-billing-exports/gcp
  finops gcp import --path ./gcp-export --dry-run
  GOOGLE_APPLICATION_CREDENTIALS=key.json finops gcp list-exports --path gs://my-billing-exports/gcp";

impl Vendor for Gcp {
    fn name(&self) -> &'static str {
        "gcp"
    }

    fn about(&self) -> &'static str {
        "Google Cloud: billing exports written to Cloud Storage or a local folder"
    }

    fn display_name(&self) -> &'static str {
        "Google Cloud"
    }

    fn import_help(&self) -> &'static str {
        IMPORT_HELP
    }

    fn keys(&self) -> &'static [KeySpec] {
        crate::config::KEYS
    }

    fn export_key(&self) -> &'static str {
        "gcp.export"
    }

    fn labels(&self) -> (&'static str, &'static str) {
        ("export", "schema")
    }

    fn check_config(&self, settings: &Settings) -> finops_core::Result<()> {
        let cfg: GcpConfig = settings.section("gcp")?;
        if cfg.path.is_some() {
            cfg.location()?;
        }
        if let Some(t) = &cfg.table {
            crate::config::parse_table(t)
                .map_err(|message| finops_core::Error::ConfigInvalid { message })?;
        }
        Ok(())
    }

    fn exports<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> BoxFuture<'a, miette::Result<Vec<Box<dyn Export>>>> {
        Box::pin(async move {
            let cfg: GcpConfig = ctx.settings.section("gcp")?;
            resolve(&cfg).await
        })
    }
}

/// The exports to work on: the one named by `gcp.export`, or every one found. Which schema
/// each holds is read from one file of its newest month.
async fn resolve(cfg: &GcpConfig) -> miette::Result<Vec<Box<dyn Export>>> {
    if let Some(table) = cfg.table.as_deref().filter(|t| !t.trim().is_empty()) {
        if cfg.path.is_some() {
            return Err(finops_core::Error::ConfigInvalid {
                message: "gcp.table (--table) and gcp.path (--path) are both set: read either the BigQuery table or the files exported from it".into(),
            }
            .into());
        }
        return crate::bigquery::resolve(cfg, table).await;
    }
    let source = Arc::new(Source::from_config(cfg)?);
    let listing = source.list().await?;
    let root_name = match cfg.location()? {
        crate::config::Location::Local(dir) => dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "billing".into()),
        crate::config::Location::Gcs { bucket, prefix } => prefix
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(&bucket)
            .to_owned(),
    };
    let found = exports::discover(&listing, &root_name);
    if found.is_empty() {
        let mut top: Vec<String> = listing
            .keys()
            .filter_map(|k| k.split('/').next())
            .map(str::to_owned)
            .collect();
        top.dedup();
        return Err(crate::error::no_exports(source.store.describe(""), top).into());
    }
    let names: Vec<String> = found.iter().map(|f| f.name.clone()).collect();
    if let Some(want) = &cfg.export {
        finops_core::naming::validate_export_name(want)?;
        if !names.contains(want) {
            return Err(crate::error::unknown_export(
                want.clone(),
                source.store.describe(""),
                names,
            )
            .into());
        }
    }
    let concurrency = usize::from(cfg.concurrency.max(1));
    let several = found.len() > 1;
    let mut out: Vec<Box<dyn Export>> = Vec::new();
    for mut f in found {
        if cfg.export.as_ref().is_some_and(|w| *w != f.name) {
            continue;
        }
        let schema = if f.months.is_empty() {
            match months_from_data(&source, &mut f).await {
                Ok(schema) => schema,
                // Stray JSON beside real exports is not an export.
                Err(e) if several && cfg.export.is_none() => {
                    tracing::warn!("skipping {}: {e}", source.store.describe(&f.folder));
                    continue;
                }
                Err(e) => return Err(e),
            }
        } else {
            peek_schema(&source, &f).await?
        };
        out.push(Box::new(BillingExport::new(
            Arc::clone(&source),
            f,
            schema,
            concurrency,
        )?));
    }
    Ok(out)
}

/// Files outside month folders: every one is read (downloaded to a temporary folder when
/// remote) for the invoice months it holds; each month's delivery is then all of them.
async fn months_from_data(
    source: &Source,
    f: &mut exports::Found,
) -> miette::Result<crate::schema::Schema> {
    let rels: Vec<String> = f.loose.keys().cloned().collect();
    let location = source.store.describe(&f.folder);
    let (_tmp, read) = read_now(source, &rels, &location).await?;
    let months = exports::months_in(&read)?;
    tracing::info!(
        "{location}: {} file(s) outside invoice_month= folders, holding {} invoice month(s)",
        rels.len(),
        months.len()
    );
    f.months = months.into_iter().map(|p| (p, f.loose.clone())).collect();
    f.by_data = true;
    Ok(read.schema)
}

/// The schema of an export: read from the smallest file of its newest month (downloaded to
/// a temporary folder when remote).
async fn peek_schema(source: &Source, f: &exports::Found) -> miette::Result<crate::schema::Schema> {
    let (_, month) = f.months.iter().next_back().expect("an export has a month");
    let (rel, _) = month
        .iter()
        .min_by_key(|(_, m)| m.size)
        .expect("a month has a file");
    let (_tmp, read) = read_now(
        source,
        std::slice::from_ref(rel),
        &source.store.describe(rel),
    )
    .await?;
    Ok(read.schema)
}

/// Reads `rels` while the exports are being found (downloaded to a temporary folder when
/// remote, which lives as long as the returned guard: the `Read`'s SQL names its files).
async fn read_now(
    source: &Source,
    rels: &[String],
    location: &str,
) -> miette::Result<(tempfile::TempDir, exports::Read)> {
    let tmp = tempfile::tempdir().map_err(finops_core::Error::io(
        "creating a temporary folder in",
        std::env::temp_dir(),
    ))?;
    let bar = finops_core::output::ProgressBar::hidden();
    let fetched =
        finops_core::store::fetch_all(source.store.as_ref(), rels, tmp.path(), 4, &bar).await?;
    let files: Vec<std::path::PathBuf> = fetched.into_iter().map(|(p, _)| p).collect();
    let read = exports::read_files(&files, rels, location)?;
    Ok((tmp, read))
}
