//! The Oracle Cloud vendor as core sees it ([`Oracle`]). `import`, `list-exports` and
//! `show-state` are core's ([`finops_core::vendor_commands`]).

use std::sync::Arc;

use finops_core::Context;
use finops_core::config::{KeySpec, Settings};
use finops_core::vendor::{BoxFuture, Export, Vendor};

use crate::config::OracleConfig;
use crate::exports::{self, Kind, ReportExport};

/// The Oracle Cloud vendor.
pub struct Oracle;

/// The Oracle Cloud vendor, for the CLI's registry.
pub static ORACLE: Oracle = Oracle;

const IMPORT_HELP: &str = "Import a tenancy's FOCUS reports and cost reports into the warehouse.

Oracle writes them into its own Object Storage: namespace bling, a bucket named after the tenancy OCID, in the home region only; FOCUS reports under `FOCUS Reports/YYYY/MM/DD/`, cost reports under `reports/cost-csv/`. finops reads that bucket through Object Storage's API, signed with the API key of a profile in ~/.oci/config (--profile, --oci-config; the profile's tenancy and region are the defaults), or as the OCI compute instance it runs on (--auth instance_principal), or through its S3-compatible endpoint with a customer secret key (oracle.access_key_id, oracle.secret_access_key), or a local copy (--path). The two streams are two exports (focus-reports, cost-reports) with their own raw tables (oracle.focus_reports, oracle.cost_reports) and x_source in FOCUS. Report files never change: a month is rebuilt whole, in one transaction, when a file of it arrives (a later day, a correction, a split part); a cost report file's months are read from its rows.

Examples:
  finops oracle import
  finops oracle import --profile BILLING --tenancy ocid1.tenancy.oc1..aaaa… --region us-ashburn-1
  finops oracle import --auth instance_principal
  FINOPS_ORACLE_ACCESS_KEY_ID=… FINOPS_ORACLE_SECRET_ACCESS_KEY=… finops oracle import --tenancy ocid1.tenancy.oc1..aaaa… --region us-ashburn-1
  oci os object bulk-download --namespace bling --bucket-name ocid1.tenancy.oc1..aaaa… --download-dir ./oci
  finops oracle import --path ./oci";

impl Vendor for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn about(&self) -> &'static str {
        "Oracle Cloud: FOCUS reports and cost reports from Object Storage or a local copy"
    }

    fn display_name(&self) -> &'static str {
        "Oracle Cloud"
    }

    fn import_help(&self) -> &'static str {
        IMPORT_HELP
    }

    fn keys(&self) -> &'static [KeySpec] {
        crate::config::KEYS
    }

    fn export_key(&self) -> &'static str {
        "oracle.export"
    }

    fn labels(&self) -> (&'static str, &'static str) {
        ("export", "reports")
    }

    fn check_config(&self, settings: &Settings) -> finops_core::Result<()> {
        let cfg: OracleConfig = settings.section("oracle")?;
        if let Some(e) = &cfg.export {
            unknown(e)?;
        }
        crate::store::Auth::of(&cfg)?;
        Ok(())
    }

    fn exports<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> BoxFuture<'a, miette::Result<Vec<Box<dyn Export>>>> {
        Box::pin(async move {
            let cfg: OracleConfig = ctx.settings.section("oracle")?;
            resolve(&cfg).await
        })
    }
}

/// The kind `oracle.export` names, or the error naming both.
fn unknown(e: &str) -> finops_core::Result<Kind> {
    Kind::parse(e).ok_or_else(|| finops_core::Error::ConfigInvalid {
        message: format!(
            "oracle.export `{e}` is neither focus (FOCUS Reports/) nor cost (reports/cost-csv/)"
        ),
    })
}

/// The report streams found (only `oracle.export`'s when set).
async fn resolve(cfg: &OracleConfig) -> miette::Result<Vec<Box<dyn Export>>> {
    let want = cfg.export.as_deref().map(unknown).transpose()?;
    let store = crate::store::from_config(cfg)?;
    let listing = store.list_files("").await?;
    let concurrency = usize::from(cfg.concurrency.max(1));
    let mut out: Vec<Box<dyn Export>> = Vec::new();
    let focus = exports::focus_months(&listing);
    if !focus.is_empty() && want.is_none_or(|k| k == Kind::Focus) {
        out.push(Box::new(ReportExport::new(
            Arc::clone(&store),
            Kind::Focus,
            focus,
            concurrency,
        )));
    }
    let cost = exports::cost_files(&listing);
    if !cost.is_empty() && want.is_none_or(|k| k == Kind::Cost) {
        let tmp = tempfile::tempdir().map_err(finops_core::Error::io(
            "creating a temporary folder in",
            std::env::temp_dir(),
        ))?;
        let months = exports::cost_months(store.as_ref(), &cost, tmp.path(), concurrency).await?;
        out.push(Box::new(ReportExport::new(
            Arc::clone(&store),
            Kind::Cost,
            months,
            concurrency,
        )));
    }
    if out.is_empty() {
        let mut top: Vec<String> = listing
            .keys()
            .filter_map(|k| k.split('/').next())
            .map(str::to_owned)
            .collect();
        top.dedup();
        let help = if top.is_empty() {
            "the location is empty: check oracle.tenancy and oracle.region (the home region), or --path".to_owned()
        } else {
            format!(
                "found there: {}; Oracle writes `FOCUS Reports/YYYY/MM/DD/*.csv.gz` and `reports/cost-csv/*.csv.gz`",
                finops_core::error::found_list(&top)
            )
        };
        return Err(finops_core::Error::NoExports {
            what: match want {
                Some(Kind::Focus) => "OCI FOCUS reports (FOCUS Reports/YYYY/MM/DD/*.csv.gz)",
                Some(Kind::Cost) => "OCI cost reports (reports/cost-csv/*.csv.gz)",
                None => "OCI FOCUS reports or cost reports",
            },
            location: store.describe(""),
            found: top,
            help,
        }
        .into());
    }
    Ok(out)
}
