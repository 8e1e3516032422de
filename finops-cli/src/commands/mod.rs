//! Vendor-neutral commands.

pub(crate) mod focus;
