//! The Azure vendor as core sees it ([`Azure`]): its location arguments and how its exports
//! are found and paired. `import`, `list-exports` and `show-state` are core's
//! ([`finops_core::vendor_commands`]).

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::sync::Arc;

use finops_core::Context;
use finops_core::config::{KeySpec, Settings};
use finops_core::vendor::{BoxFuture, Export, Vendor, Verb};

use crate::config::AzureConfig;
use crate::error::Error;
use crate::exports::{self, CostExport, Dataset};

/// The Azure vendor.
pub struct Azure;

/// The Azure vendor, for the CLI's registry.
pub static AZURE: Azure = Azure;

const IMPORT_HELP: &str = "Import Cost Management exports (FocusCost, ActualCost, AmortizedCost) into the warehouse.

Every manifest.json under the container/prefix is one export run; the newest run of each month is that month's version (its runId). Without --export, every export found is imported, each into its own raw table (azure.focus_*, azure.actual_*, azure.amortized_*) and its own x_source in FOCUS. A month whose run is already loaded is skipped; a newer run replaces the month in one transaction. When an ActualCost and an AmortizedCost export cover the same scope, FOCUS takes every amortized row and only the commitment purchases and refunds from the actual export.

Examples:
  FINOPS_AZURE_CONNECTION_STRING='...' finops azure import --container exports --prefix costs
  finops azure import --account myaccount --container exports --prefix costs
  finops azure import --path ./container-copy --dry-run";

impl Vendor for Azure {
    fn name(&self) -> &'static str {
        "azure"
    }

    fn about(&self) -> &'static str {
        "Azure: Cost Management exports from Blob Storage or a local copy"
    }

    fn display_name(&self) -> &'static str {
        "Azure"
    }

    fn import_help(&self) -> &'static str {
        IMPORT_HELP
    }

    fn keys(&self) -> &'static [KeySpec] {
        crate::config::KEYS
    }

    fn export_key(&self) -> &'static str {
        "azure.export"
    }

    fn labels(&self) -> (&'static str, &'static str) {
        ("export", "dataset")
    }

    fn aliases(&self, verb: Verb) -> &'static [&'static str] {
        match verb {
            Verb::Import => &["import-exports"],
            Verb::ListExports | Verb::ShowState => &[],
        }
    }

    fn check_config(&self, settings: &Settings) -> finops_core::Result<()> {
        settings.section::<AzureConfig>("azure").map(drop)
    }

    fn exports<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> BoxFuture<'a, miette::Result<Vec<Box<dyn Export>>>> {
        Box::pin(async move {
            let cfg: AzureConfig = ctx.settings.section("azure")?;
            resolve(&cfg).await
        })
    }
}

/// The exports to work on: the one named by `azure.export`, or every one found. An
/// ActualCost export is paired with an AmortizedCost export of the same scope.
async fn resolve(cfg: &AzureConfig) -> miette::Result<Vec<Box<dyn Export>>> {
    let store = crate::store::from_config(cfg)?;
    let (found, listing) = exports::discover(store.as_ref()).await?;
    if found.is_empty() {
        let mut top: Vec<String> = listing
            .keys()
            .filter_map(|k| k.split('/').next())
            .map(str::to_owned)
            .collect();
        top.dedup();
        return Err(crate::error::no_exports(store.describe(""), top).into());
    }
    let amortized_scopes: Vec<Option<String>> = found
        .iter()
        .filter(|f| f.dataset == Ok(Dataset::Amortized))
        .map(|f| f.scope.clone())
        .collect();
    let names: Vec<String> = found.iter().map(|f| f.name.clone()).collect();
    if let Some(want) = &cfg.export {
        finops_core::naming::validate_export_name(want)?;
        if !names.contains(want) {
            return Err(
                crate::error::unknown_export(want.clone(), store.describe(""), names).into(),
            );
        }
    }
    let listing = Arc::new(listing);
    let concurrency = usize::from(cfg.concurrency.max(1));
    let mut exports: Vec<Box<dyn Export>> = Vec::new();
    for f in found {
        if cfg.export.as_ref().is_some_and(|w| *w != f.name) {
            continue;
        }
        match f.dataset.clone() {
            Ok(dataset) => {
                let paired = dataset == Dataset::Actual
                    && f.scope.is_some()
                    && amortized_scopes.contains(&f.scope);
                exports.push(Box::new(CostExport::new(
                    store.clone(),
                    f,
                    dataset,
                    paired,
                    Arc::clone(&listing),
                    concurrency,
                )?));
            }
            Err(reason) if cfg.export.is_some() => {
                return Err(Error::UnsupportedDataset {
                    export: f.name,
                    dataset: reason,
                }
                .into());
            }
            Err(reason) => tracing::warn!("skipping export {}: {reason}", f.name),
        }
    }
    Ok(exports)
}
