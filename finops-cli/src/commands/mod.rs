//! Vendor-neutral commands.

pub(crate) mod focus;
pub(crate) mod plugins;
