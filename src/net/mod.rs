//! The network shell: listeners, limits, isolation, shutdown (tokio), and the pure helpers
//! they use.
//!
//! Layout:
//! - [`proxy`]: PROXY protocol v1/v2 header parser (sans-IO, every length checked).

pub mod proxy;
