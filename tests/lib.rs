//! Test support for the end-to-end suite lives in `e2e/`.
