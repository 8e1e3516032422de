//! The vendors finops knows: one static list, one entry each, the implementation there only
//! when its cargo feature is on. Adding a vendor is one entry here (see docs/architecture.md,
//! "Adding a vendor"); nothing else in this crate names a vendor.

use finops_core::Error;
use finops_core::config::{KeySpec, Settings};
use finops_core::vendor::Vendor;

/// A vendor as the CLI sees it.
pub(crate) struct VendorEntry {
    /// Subcommand and config section name.
    pub(crate) name: &'static str,
    /// Cargo feature.
    pub(crate) feature: &'static str,
    /// One line for `--help` when it is not in this build.
    pub(crate) about: &'static str,
    /// The vendor, when compiled in.
    pub(crate) vendor: Option<&'static dyn Vendor>,
}

#[cfg(feature = "aws")]
const AWS: Option<&'static dyn Vendor> = Some(&finops_aws::AWS);
#[cfg(not(feature = "aws"))]
const AWS: Option<&'static dyn Vendor> = None;
#[cfg(feature = "azure")]
const AZURE: Option<&'static dyn Vendor> = Some(&finops_azure::AZURE);
#[cfg(not(feature = "azure"))]
const AZURE: Option<&'static dyn Vendor> = None;
#[cfg(feature = "gcp")]
const GCP: Option<&'static dyn Vendor> = Some(&finops_gcp::GCP);
#[cfg(not(feature = "gcp"))]
const GCP: Option<&'static dyn Vendor> = None;
#[cfg(feature = "oracle")]
const ORACLE: Option<&'static dyn Vendor> = Some(&finops_oracle::ORACLE);
#[cfg(not(feature = "oracle"))]
const ORACLE: Option<&'static dyn Vendor> = None;

/// Every vendor, compiled in or not.
pub(crate) static VENDORS: &[VendorEntry] = &[
    VendorEntry {
        name: "aws",
        feature: "aws",
        about: "AWS (not in this build: install with --features aws)",
        vendor: AWS,
    },
    VendorEntry {
        name: "azure",
        feature: "azure",
        about: "Azure (not in this build: install with --features azure)",
        vendor: AZURE,
    },
    VendorEntry {
        name: "gcp",
        feature: "gcp",
        about: "Google Cloud (not in this build: install with --features gcp)",
        vendor: GCP,
    },
    VendorEntry {
        name: "oracle",
        feature: "oracle",
        about: "Oracle Cloud (not in this build: install with --features oracle)",
        vendor: ORACLE,
    },
];

/// The entry named `name`, if it is a vendor.
pub(crate) fn find(name: &str) -> Option<&'static VendorEntry> {
    VENDORS.iter().find(|v| v.name == name)
}

/// The error for a vendor subcommand this binary cannot run: it was built without the
/// vendor's feature.
pub(crate) fn unavailable(v: &VendorEntry) -> Error {
    Error::VendorNotCompiled {
        vendor: v.name.into(),
        feature: v.feature.into(),
    }
}

/// The `finops <vendor>` subcommand of every vendor: core's commands for one compiled in; a
/// stub taking any arguments for one that is not, so that it still parses and can say why.
pub(crate) fn commands() -> Vec<clap::Command> {
    VENDORS
        .iter()
        .map(|v| match v.vendor {
            Some(vendor) => finops_core::vendor_commands::command(vendor),
            None => clap::Command::new(v.name).about(v.about).arg(
                clap::Arg::new("args")
                    .num_args(0..)
                    .trailing_var_arg(true)
                    .allow_hyphen_values(true)
                    .hide(true),
            ),
        })
        .collect()
}

/// Config keys of core and every compiled vendor.
pub(crate) fn config_keys() -> Vec<&'static KeySpec> {
    finops_core::config::CORE_KEYS
        .iter()
        .chain(
            VENDORS
                .iter()
                .filter_map(|v| v.vendor)
                .flat_map(finops_core::vendor::Vendor::keys),
        )
        .collect()
}

/// Config sections of vendors not compiled in: accepted in finops.toml, not checked.
pub(crate) fn foreign_sections() -> Vec<&'static str> {
    VENDORS
        .iter()
        .filter(|v| v.vendor.is_none())
        .map(|v| v.name)
        .collect()
}

/// Every config section read as the commands read it: the problems found.
pub(crate) fn check_config(settings: &Settings) -> Vec<Error> {
    let mut problems = Vec::new();
    let mut check = |r: finops_core::Result<()>| {
        if let Err(e) = r {
            problems.push(e);
        }
    };
    check(
        settings
            .section::<finops_core::config::WarehouseConfig>("warehouse")
            .map(drop),
    );
    check(
        settings
            .section::<finops_core::config::ImportConfig>("import")
            .map(drop),
    );
    check(
        settings
            .section::<finops_core::focus::FocusConfig>("focus")
            .map(drop),
    );
    check(
        settings
            .section::<finops_core::config::OutputConfig>("output")
            .map(drop),
    );
    check(
        settings
            .list::<finops_report::BudgetConfig>("budgets")
            .map(drop),
    );
    check(finops_report::rules::Rules::load(settings).map(drop));
    for v in VENDORS.iter().filter_map(|v| v.vendor) {
        check(v.check_config(settings));
    }
    problems
}

/// Names a plugin cannot take: finops's own commands and every vendor, built in or not.
pub(crate) fn reserved_names() -> Vec<&'static str> {
    let core = [
        "focus",
        "report",
        "budgets",
        "allocate",
        "config",
        "plugins",
        "completions",
        "man",
        "help",
    ];
    core.into_iter()
        .chain(VENDORS.iter().map(|v| v.name))
        .collect()
}

/// The plugins found ([[plugins]] of the config file, then `finops-plugin-*` on `PATH`), and
/// the entries that cannot be plugins.
pub(crate) fn plugins(
    config: Option<&std::path::Path>,
) -> finops_core::Result<(Vec<finops_plugin::Plugin>, Vec<Error>)> {
    let entries: Vec<finops_plugin::PluginEntry> =
        finops_core::config::early_list(config, "plugins")?;
    Ok(finops_plugin::discover(
        &entries,
        std::env::var_os("PATH").as_deref(),
        &reserved_names(),
    ))
}

/// `finops 0.1.0 (+aws -azure -gcp -oracle)`.
pub(crate) fn version() -> String {
    let mut features: Vec<String> = VENDORS
        .iter()
        .map(|v| format!("{}{}", if v.vendor.is_some() { '+' } else { '-' }, v.name))
        .collect();
    features.push(format!(
        "{}lake",
        if cfg!(feature = "lake") { '+' } else { '-' }
    ));
    format!("{} ({})", env!("CARGO_PKG_VERSION"), features.join(" "))
}

#[cfg(test)]
mod tests {
    /// The README's configuration table is generated from the key tables; this fails when it
    /// is stale. `FINOPS_UPDATE_README=1 cargo test -p finops-cli --all-features readme`
    /// rewrites it.
    #[test]
    #[cfg(all(feature = "aws", feature = "azure"))]
    fn readme_config_table_is_current() {
        const START: &str = "<!-- config-keys: generated from the key tables; do not edit -->\n";
        const END: &str = "<!-- /config-keys -->";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let start = readme
            .find(START)
            .expect("README has the config-keys marker")
            + START.len();
        let end = start
            + readme[start..]
                .find(END)
                .expect("README has the end marker");
        let table = finops_core::config::markdown_table(&super::config_keys());
        if readme[start..end] == table {
            return;
        }
        if std::env::var_os("FINOPS_UPDATE_README").is_some() {
            let updated = format!("{}{table}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        panic!(
            "the README's configuration table is stale; run\n  FINOPS_UPDATE_README=1 cargo test -p finops-cli --all-features readme\nExpected:\n{table}"
        );
    }
}
