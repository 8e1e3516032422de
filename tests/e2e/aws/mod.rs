//! AWS: legacy CUR, Data Exports (CUR 2.0, FOCUS), Cost Explorer, the FOCUS mapping from CUR,
//! and crash safety (killed at every step of an import, against moto).

pub mod cost_explorer;
pub mod cur;
pub mod exports;
pub mod faults;
pub mod focus;
pub mod generated;
