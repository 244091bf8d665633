//! Load generation and benchmarks: the numbers behind BENCHMARKS.md, produced by
//! `wkfuzz load <mode>`.
//!
//! Each mode measures one target of the issue that asked for them, and returns a report that
//! renders as a table for people ([`Report::table`]) and as one JSON object for scripts
//! ([`Report::json`]). Every mode repeats its measurement and quotes medians, because the
//! machines this runs on are small and shared: only ratios measured in the same run mean much.
//!
//! Layout:
//! - [`handshakes`]: TLS handshakes per second, the real server against a bare
//!   tokio-rustls accept loop with the same certificate, alternated in rounds.
//! - [`core`]: messages per second through sessions and the hub, no sockets: once with the
//!   clients' crypto in the loop, once server side only (pre-encoded input).
//! - [`idle`]: resident memory of a `wkfuzz serve` child per idle logged-in connection.
//! - [`chat`]: messages per second between 100 connected clients over real sockets, per
//!   transport (wss against tls over TCP; ws and tcp too).
//! - `wire` (private): a client connection over any transport (tcp, tls, ws, wss).
//! - here: what the modes share: [`LoadError`], [`median`], the JSON writer, the dev
//!   certificate in a private temporary directory.

pub mod chat;
pub mod core;
pub mod handshakes;
pub mod idle;
mod wire;

use crate::tls::{self, CertifiedKeyFiles, TlsError};
use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Why a benchmark could not run, or ran but saw the server misbehave.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// An I/O operation of the harness itself failed (temp dir, runtime, child process).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The dev certificate could not be made or loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The options cannot be run as given.
    #[error("invalid options: {0}")]
    Options(String),
    /// The server did something the benchmark's checks do not allow (a message not
    /// delivered, a login refused, a child that did not start): the numbers would be wrong.
    #[error("check failed: {0}")]
    Check(String),
}

impl LoadError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LoadError {
        let what = what.into();
        move |source| LoadError::Io { what, source }
    }
}

/// What every mode's result can do: print itself for a person or for a script.
pub trait Report {
    /// A human-readable table (several lines, ends with a newline).
    fn table(&self) -> String;
    /// One JSON object on one line.
    fn json(&self) -> String;
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
/// NaNs sort last, so they only matter when they are the majority.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Greater));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(0.0),
        n => {
            let a = v.get(n / 2 - 1).copied().unwrap_or(0.0);
            let b = v.get(n / 2).copied().unwrap_or(0.0);
            (a + b) / 2.0
        }
    }
}

/// "met" or "NOT met", for tables.
pub(crate) fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// A number with thousands separators and no decimals, for tables ("123,456").
pub(crate) fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let n = x.round() as i128;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A JSON object written by hand (the crate has no JSON serializer of its own): keys in
/// insertion order, values rendered as they are added.
#[derive(Debug, Default, Clone)]
pub(crate) struct JsonObject {
    fields: Vec<(String, String)>,
}

impl JsonObject {
    pub(crate) fn new() -> JsonObject {
        JsonObject::default()
    }

    fn raw(mut self, key: &str, value: String) -> JsonObject {
        self.fields.push((json_string(key), value));
        self
    }

    /// A number; NaN and infinities (not JSON) become `null`.
    pub(crate) fn num(self, key: &str, value: f64) -> JsonObject {
        self.raw(key, json_number(value))
    }

    pub(crate) fn int(self, key: &str, value: u64) -> JsonObject {
        self.raw(key, value.to_string())
    }

    pub(crate) fn opt_num(self, key: &str, value: Option<f64>) -> JsonObject {
        self.raw(key, value.map_or_else(|| "null".to_owned(), json_number))
    }

    /// `true`, `false` or `null`.
    pub(crate) fn raw_opt_bool(self, key: &str, value: Option<bool>) -> JsonObject {
        self.raw(
            key,
            value.map_or_else(|| "null".to_owned(), |b| b.to_string()),
        )
    }

    pub(crate) fn str(self, key: &str, value: &str) -> JsonObject {
        self.raw(key, json_string(value))
    }

    pub(crate) fn bool(self, key: &str, value: bool) -> JsonObject {
        self.raw(key, value.to_string())
    }

    pub(crate) fn nums(self, key: &str, values: &[f64]) -> JsonObject {
        let items: Vec<String> = values.iter().map(|v| json_number(*v)).collect();
        self.raw(key, format!("[{}]", items.join(",")))
    }

    pub(crate) fn obj(self, key: &str, value: JsonObject) -> JsonObject {
        self.raw(key, value.render())
    }

    pub(crate) fn objs(self, key: &str, values: Vec<JsonObject>) -> JsonObject {
        let items: Vec<String> = values.iter().map(JsonObject::render).collect();
        self.raw(key, format!("[{}]", items.join(",")))
    }

    pub(crate) fn render(&self) -> String {
        let items: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        format!("{{{}}}", items.join(","))
    }
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        // Three decimals are more than any of these measurements can resolve.
        let rounded = (v * 1000.0).round() / 1000.0;
        format!("{rounded}")
    } else {
        "null".to_owned()
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A directory under the system temp dir that belongs to one benchmark run and is removed
/// when dropped (the library cannot use `tempfile`, a dev-dependency).
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    pub(crate) fn new(tag: &str) -> Result<ScratchDir, LoadError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("wkfuzz-load-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(LoadError::io(format!("create {}", path.display())))?;
        Ok(ScratchDir { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The dev certificate (ECDSA P-256, as `wkfuzz serve` makes without `--cert`) written to
/// `dir`, loaded as server key material.
pub(crate) fn dev_cert(
    dir: &Path,
) -> Result<(CertifiedKeyFiles, Arc<rustls::sign::CertifiedKey>), LoadError> {
    let files = tls::generate_dev_cert(dir)?;
    let loaded = tls::load_certified_key(&files)?;
    Ok((files, loaded.key))
}

/// A TLS client config that speaks only `versions` and never resumes a session: every
/// handshake is a full one. With `verify`, it trusts exactly the certificate in `cert` and
/// checks the chain and the handshake signature like any client; without, it accepts the
/// server's certificate and signature unchecked ([`Unverified`]), which leaves the server's
/// side of the handshake unchanged and takes the two ECDSA verifications off the client.
pub(crate) fn client_config(
    cert: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
    verify: bool,
) -> Result<Arc<rustls::ClientConfig>, LoadError> {
    let builder = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_protocol_versions(versions)
        .map_err(|e| LoadError::Options(format!("TLS versions: {e}")))?;
    let mut config = if verify {
        let mut roots = rustls::RootCertStore::empty();
        let bad = |e: &dyn std::fmt::Display| LoadError::Check(format!("{}: {e}", cert.display()));
        for c in CertificateDer::pem_file_iter(cert).map_err(|e| bad(&e))? {
            roots.add(c.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified))
            .with_no_client_auth()
    };
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// A server certificate verifier that accepts everything: for load clients only, on
/// loopback, against a server this process started (the handshake is otherwise complete:
/// the key exchange, the server's signature and both Finished messages still happen).
#[derive(Debug)]
pub(crate) struct Unverified;

impl rustls::client::danger::ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        tls::provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The name the clients ask for; the dev certificate covers it.
pub(crate) fn server_name() -> ServerName<'static> {
    ServerName::DnsName(
        rustls::pki_types::DnsName::try_from("localhost")
            .unwrap_or_else(|_| unreachable!("\"localhost\" is a valid DNS name")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn json_is_escaped_and_finite() {
        let j = JsonObject::new()
            .str("a\"b", "x\ny\u{1}")
            .num("n", f64::NAN)
            .num("m", 1.23456)
            .nums("v", &[1.0, 2.5])
            .obj("o", JsonObject::new().bool("t", true).int("i", 7))
            .render();
        assert_eq!(
            j,
            r#"{"a\"b":"x\ny\u0001","n":null,"m":1.235,"v":[1,2.5],"o":{"t":true,"i":7}}"#
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1000.0), "-1,000");
    }
}
