//! Structure-aware models (`arbitrary`) that encode to wire bytes or drive the targets.

pub mod script;
