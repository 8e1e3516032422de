//! The vendors finops knows, with the cargo feature that compiles each in. Adding a vendor is
//! one entry here, one feature and optional dependency in Cargo.toml, and one `Command` variant.

use finops_core::Error;
use finops_core::config::{KeySpec, Settings};

/// A vendor as the CLI sees it.
pub(crate) struct VendorEntry {
    /// Subcommand and config section name.
    pub(crate) name: &'static str,
    /// Cargo feature.
    pub(crate) feature: &'static str,
    /// Compiled into this binary.
    pub(crate) compiled: bool,
    /// Has a crate at all (false: planned).
    pub(crate) implemented: bool,
    /// Its config keys, when compiled.
    pub(crate) keys: &'static [KeySpec],
    /// Reads its config section as its commands do (for `config show`), when compiled.
    pub(crate) check: Option<fn(&Settings) -> finops_core::Result<()>>,
}

#[cfg(feature = "aws")]
const AWS_KEYS: &[KeySpec] = finops_aws::config::KEYS;
#[cfg(not(feature = "aws"))]
const AWS_KEYS: &[KeySpec] = &[];
#[cfg(feature = "azure")]
const AZURE_KEYS: &[KeySpec] = finops_azure::config::KEYS;
#[cfg(not(feature = "azure"))]
const AZURE_KEYS: &[KeySpec] = &[];
#[cfg(feature = "aws")]
const AWS_CHECK: Option<fn(&Settings) -> finops_core::Result<()>> =
    Some(|s| s.section::<finops_aws::config::AwsConfig>("aws").map(drop));
#[cfg(not(feature = "aws"))]
const AWS_CHECK: Option<fn(&Settings) -> finops_core::Result<()>> = None;
#[cfg(feature = "azure")]
const AZURE_CHECK: Option<fn(&Settings) -> finops_core::Result<()>> = Some(|s| {
    s.section::<finops_azure::config::AzureConfig>("azure")
        .map(drop)
});
#[cfg(not(feature = "azure"))]
const AZURE_CHECK: Option<fn(&Settings) -> finops_core::Result<()>> = None;

/// Every vendor, compiled in or not.
pub(crate) static VENDORS: &[VendorEntry] = &[
    VendorEntry {
        name: "aws",
        feature: "aws",
        compiled: cfg!(feature = "aws"),
        implemented: true,
        keys: AWS_KEYS,
        check: AWS_CHECK,
    },
    VendorEntry {
        name: "azure",
        feature: "azure",
        compiled: cfg!(feature = "azure"),
        implemented: true,
        keys: AZURE_KEYS,
        check: AZURE_CHECK,
    },
    VendorEntry {
        name: "gcp",
        feature: "gcp",
        compiled: false,
        implemented: false,
        keys: &[],
        check: None,
    },
    VendorEntry {
        name: "oracle",
        feature: "oracle",
        compiled: false,
        implemented: false,
        keys: &[],
        check: None,
    },
];

fn entry(name: &str) -> &'static VendorEntry {
    VENDORS
        .iter()
        .find(|v| v.name == name)
        .expect("registered vendor")
}

/// The error for a vendor subcommand this binary cannot run.
pub(crate) fn unavailable(name: &str) -> Error {
    let v = entry(name);
    if v.implemented {
        Error::VendorNotCompiled {
            vendor: v.name.into(),
            feature: v.feature.into(),
        }
    } else {
        Error::VendorNotAvailable {
            vendor: v.name.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            available: VENDORS
                .iter()
                .filter(|v| v.implemented)
                .map(|v| v.name)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Config keys of core and every compiled vendor.
pub(crate) fn config_keys() -> Vec<&'static KeySpec> {
    finops_core::config::CORE_KEYS
        .iter()
        .chain(VENDORS.iter().flat_map(|v| v.keys))
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
    for v in VENDORS {
        if let Some(f) = v.check {
            check(f(settings));
        }
    }
    problems
}

/// Config sections of vendors not compiled in: accepted in finops.toml, not checked.
pub(crate) fn foreign_sections() -> Vec<&'static str> {
    VENDORS
        .iter()
        .filter(|v| !v.compiled)
        .map(|v| v.name)
        .collect()
}

/// `finops 0.1.0 (+aws -azure -gcp -oracle)`.
pub(crate) fn version() -> String {
    let features: Vec<String> = VENDORS
        .iter()
        .map(|v| format!("{}{}", if v.compiled { '+' } else { '-' }, v.name))
        .collect();
    format!("{} ({})", env!("CARGO_PKG_VERSION"), features.join(" "))
}
