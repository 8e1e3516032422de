//! Every environment variable `finops` reads outside the per-key `FINOPS_<SECTION>_<KEY>`
//! rule of [`crate::config`], declared once.

/// Path of the config file (overrides `./finops.toml` and the XDG location).
pub const FINOPS_CONFIG: &str = "FINOPS_CONFIG";
/// Log filter for `tracing` (`info`, `debug`, `finops_aws=trace`…).
pub const FINOPS_LOG: &str = "FINOPS_LOG";
/// Comma-separated fault-injection points (test builds only; see [`crate::fault`]).
pub const FINOPS_FAILPOINTS: &str = "FINOPS_FAILPOINTS";
/// `DIR:N`: processes meet at [`crate::fault::barrier`] (test builds only).
pub const FINOPS_BARRIER: &str = "FINOPS_BARRIER";
/// First delay between webhook attempts, in ms (tests shorten the 500 ms default).
pub const FINOPS_TEST_HOOK_BACKOFF_MS: &str = "FINOPS_TEST_HOOK_BACKOFF_MS";
/// Variables with the [`PREFIX`] that are not config keys (never warned about).
pub const NOT_KEYS: &[&str] = &[FINOPS_CONFIG, FINOPS_LOG, FINOPS_FAILPOINTS, FINOPS_BARRIER];
/// Prefix of every per-key variable: `FINOPS_WAREHOUSE_PATH` sets `warehouse.path`.
pub const PREFIX: &str = "FINOPS_";
/// The XDG base directory for config files.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// Home directory, for the XDG fallback `~/.config`.
pub const HOME: &str = "HOME";

/// Reads an environment variable, treating an empty value as unset.
///
/// The one place that reads the process environment (clippy's `disallowed-methods` points
/// `std::env::var` here).
pub fn var(name: &str) -> Option<String> {
    #[allow(clippy::disallowed_methods)]
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every `(name, value)` pair of the environment whose name starts with [`PREFIX`].
pub fn finops_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect()
}
