//! TEMPORARY stub, replaced by the real parser from branch wt-tls.
#![allow(missing_docs)]
use std::net::SocketAddr;
pub struct ProxyHeader {
    pub version: u8,
    pub source: Option<SocketAddr>,
    pub destination: Option<SocketAddr>,
}
pub fn parse_proxy_header(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, String> {
    let _ = buf;
    Err("stub".into())
}
