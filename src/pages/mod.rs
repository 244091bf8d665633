//! Static HTML pages a maintainer opens in a browser (no JavaScript, no network): the
//! campaign report `wkfuzz fuzz` writes ([`campaign`]) and the coverage summary
//! `wkfuzz coverage` writes ([`coverage`]), with SVG plots ([`svg`]) and a shared page
//! shell ([`html`]).

pub mod campaign;
pub mod coverage;
pub mod html;
pub mod svg;
