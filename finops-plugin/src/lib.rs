//! Source plugins: any program that speaks a small, versioned JSON protocol (describe, list,
//! fetch; see docs/plugins.md) is a finops vendor, without recompiling finops. A plugin runs
//! in its own process with only its config section and the environment variables its entry
//! allows; what it delivers is checked before core reads it, and everything after that
//! (state, the period's transactional replace, FOCUS) is core's.

pub mod discover;
pub mod protocol;
pub mod runner;
pub mod vendor;

pub use discover::{Plugin, PluginEntry, discover};
pub use vendor::{PluginVendor, describe};
