//! TLS to PostgreSQL, with libpq's meaning for each `sslmode`:
//!
//! | sslmode | encrypts | verifies |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | when the server offers it | nothing |
//! | `require` | always | nothing; the chain when `sslrootcert` is given (as libpq) |
//! | `verify-ca` | always | the chain, against `sslrootcert` or the system's roots |
//! | `verify-full` | always | the chain and the host name |
//!
//! tokio-postgres knows only the first three modes and no `sslrootcert`, so
//! both are taken out of the address here and the driver is given `require`
//! with a verifier that does what the mode says.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as DriverMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values but `allow` (plain first, which no deployment
/// that sets a mode wants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// No `sslrootcert`: the system's store where one is needed.
    Unset,
    /// `sslrootcert=system`.
    System,
    File(PathBuf),
}

/// A CA file larger than this is not a CA file.
const MAX_ROOT_FILE_BYTES: u64 = 1 << 20;

/// The TLS options of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    pub(crate) mode: SslMode,
    roots: Roots,
}

impl Tls {
    /// Splits `sslmode` and `sslrootcert` out of `address` (a URL or
    /// `key=value` pairs): the rest, for the driver, and the options.
    pub(crate) fn split(address: &str) -> Result<(Cow<'_, str>, Tls), String> {
        let mut tls = Tls {
            mode: SslMode::Prefer,
            roots: Roots::Unset,
        };
        let (rest, options) =
            if address.starts_with("postgres://") || address.starts_with("postgresql://") {
                split_url(address)?
            } else {
                split_pairs(address)?
            };
        for (key, value) in options {
            match key {
                Key::SslMode => tls.mode = SslMode::parse(&value)?,
                Key::SslRootCert if value == "system" => tls.roots = Roots::System,
                Key::SslRootCert => tls.roots = Roots::File(value.into()),
            }
        }
        Ok((rest, tls))
    }

    /// What tokio-postgres is told: whether to ask for TLS, and whether to
    /// go on without it.
    pub(crate) fn driver_mode(&self) -> DriverMode {
        match self.mode {
            SslMode::Disable => DriverMode::Disable,
            SslMode::Prefer => DriverMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverMode::Require,
        }
    }

    /// The CA file this address names, if any.
    pub(crate) fn root_file(&self) -> Option<&std::path::Path> {
        match &self.roots {
            Roots::File(path) => Some(path),
            Roots::Unset | Roots::System => None,
        }
    }

    /// The connector that verifies what the mode asks for. Refused, as
    /// libpq refuses them, are the modes that would trust any public
    /// certificate: a chain check without a name check against the
    /// system's roots.
    pub(crate) fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let checks = match (self.mode, &self.roots) {
            (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, Roots::Unset) => {
                Checks::Nothing
            }
            // libpq: `require` with a root certificate file verifies as verify-ca.
            (SslMode::Require | SslMode::VerifyCa, Roots::File(_)) => Checks::Chain,
            (SslMode::Require, Roots::System) => {
                return Err("sslmode=require with sslrootcert=system checks no name: \
                    use sslmode=verify-full"
                    .into());
            }
            (SslMode::VerifyCa, Roots::Unset | Roots::System) => {
                return Err(
                    "sslmode=verify-ca needs sslrootcert=<file>, the server's CA: \
                    against the system's roots any public certificate would pass \
                    (or use sslmode=verify-full)"
                        .into(),
                );
            }
            (SslMode::VerifyFull, _) => Checks::ChainAndName,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match checks {
            Checks::Nothing => Arc::new(Unverified(provider.clone())),
            Checks::Chain | Checks::ChainAndName => {
                let roots = Arc::new(self.root_store()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| format!("cannot use the root certificates: {e}"))?;
                if checks == Checks::Chain {
                    Arc::new(ChainOnly(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn root_store(&self) -> Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        match &self.roots {
            Roots::File(path) => {
                let shown = path.display();
                let size = std::fs::metadata(path)
                    .map_err(|e| format!("sslrootcert={shown}: {e}"))?
                    .len();
                if size > MAX_ROOT_FILE_BYTES {
                    return Err(format!("sslrootcert={shown}: {size} bytes is no CA file"));
                }
                let pem = std::fs::read(path).map_err(|e| format!("sslrootcert={shown}: {e}"))?;
                let certificates = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("sslrootcert={shown}: {e}"))?;
                let (added, _) = store.add_parsable_certificates(certificates);
                if added == 0 {
                    return Err(format!(
                        "sslrootcert={}: no certificate in it (a PEM file of CA certificates)",
                        path.display()
                    ));
                }
            }
            Roots::Unset | Roots::System => {
                let found = rustls_native_certs::load_native_certs();
                store.add_parsable_certificates(found.certs);
                if store.is_empty() {
                    return Err("no system root certificates found; \
                        give the server's CA as sslrootcert=<file>"
                        .into());
                }
            }
        }
        Ok(store)
    }
}

#[derive(PartialEq, Eq)]
enum Checks {
    Nothing,
    Chain,
    ChainAndName,
}

#[derive(Clone, Copy)]
enum Key {
    SslMode,
    SslRootCert,
}

fn key(name: &str) -> Option<Key> {
    match name {
        "sslmode" => Some(Key::SslMode),
        "sslrootcert" => Some(Key::SslRootCert),
        _ => None,
    }
}

type Split<'a> = (Cow<'a, str>, Vec<(Key, String)>);

/// A URL's query parameters of ours taken out; the others kept as written.
/// The query is found as the driver finds it: after the credentials, which
/// end at the first `@` (a password may hold a `?`).
fn split_url(address: &str) -> Result<Split<'_>, String> {
    let after_scheme = address.find("://").map_or(0, |at| at + 3);
    let after_credentials = address[after_scheme..]
        .find('@')
        .map_or(after_scheme, |at| after_scheme + at + 1);
    let Some(mark) = address[after_credentials..].find('?') else {
        return Ok((address.into(), Vec::new()));
    };
    let (base, query) = (
        &address[..after_credentials + mark],
        &address[after_credentials + mark + 1..],
    );
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key(&decode(name)?) {
            Some(key) => taken.push((key, decode(value)?)),
            None => kept.push(pair),
        }
    }
    if taken.is_empty() {
        return Ok((address.into(), taken));
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest.into(), taken))
}

fn decode(text: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| "the address has a parameter that is not UTF-8".to_owned())
}

/// `key=value` pairs (libpq's other form: values bare or in single quotes,
/// `\` escaping): ours taken out, the others kept as written.
fn split_pairs(address: &str) -> Result<Split<'_>, String> {
    let mut kept = String::new();
    let mut taken = Vec::new();
    let mut rest = address;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        let after = rest[name_end..].trim_start();
        let Some(after) = after.strip_prefix('=') else {
            // Not a pair: left for the driver to report.
            return Ok((address.into(), Vec::new()));
        };
        let after = after.trim_start();
        let (value, used) = pair_value(after)?;
        let pair_len = rest.len() - after.len() + used;
        match key(name) {
            Some(key) => taken.push((key, value)),
            None => {
                kept.push_str(&rest[..pair_len]);
                kept.push(' ');
            }
        }
        rest = &rest[pair_len..];
    }
    if taken.is_empty() {
        return Ok((address.into(), taken));
    }
    Ok((kept.trim_end().to_owned().into(), taken))
}

/// The value at the start of `text`, and how many bytes it took.
fn pair_value(text: &str) -> Result<(String, usize), String> {
    let quoted = text.starts_with('\'');
    let mut value = String::new();
    let mut chars = text.char_indices().skip(usize::from(quoted));
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '\'' if quoted => return Ok((value, at + 1)),
            c if c.is_whitespace() && !quoted => return Ok((value, at)),
            c => value.push(c),
        }
    }
    if quoted {
        return Err("the address has an unterminated quoted value".into());
    }
    Ok((value, text.len()))
}

/// `require` and `prefer` without a root: encrypted, the server not
/// authenticated (libpq's meaning). The handshake's signatures are still
/// checked, so the session is with whoever holds the certificate's key.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the
/// certificate is not compared with the host's.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(address: &str) -> (String, Tls) {
        let (rest, tls) = Tls::split(address).unwrap();
        (rest.into_owned(), tls)
    }

    #[test]
    fn takes_the_tls_options_out_of_a_url() {
        let (rest, tls) = split(
            "postgres://u:p@db:5432/app?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        );
        assert_eq!(rest, "postgres://u:p@db:5432/app?application_name=x");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.roots, Roots::File("/etc/ca.pem".into()));
        let (rest, tls) = split("postgresql://db/app?sslmode=require");
        assert_eq!(rest, "postgresql://db/app");
        assert_eq!(tls.mode, SslMode::Require);
        assert_eq!(tls.driver_mode(), DriverMode::Require);
    }

    #[test]
    fn takes_the_tls_options_out_of_key_value_pairs() {
        let (rest, tls) = split(
            r"host=db  sslmode = verify-ca password='a \' b' sslrootcert='/a b/ca.pem' dbname=app",
        );
        assert_eq!(rest, r"host=db password='a \' b' dbname=app");
        assert_eq!(tls.mode, SslMode::VerifyCa);
        assert_eq!(tls.roots, Roots::File("/a b/ca.pem".into()));
    }

    #[test]
    fn prefer_is_the_default_and_system_roots_unless_a_file_is_named() {
        let (rest, tls) = split("postgres://db/app");
        assert_eq!(rest, "postgres://db/app");
        assert_eq!(tls.mode, SslMode::Prefer);
        assert_eq!(tls.roots, Roots::Unset);
        let (_, tls) = split("host=db sslrootcert=system sslmode=verify-full");
        assert_eq!(tls.roots, Roots::System);
    }

    /// A `?` in the password is not the query: the mode is still read.
    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let (rest, tls) = split("postgres://u:p?x@db/app?sslmode=require");
        assert_eq!(rest, "postgres://u:p?x@db/app");
        assert_eq!(tls.mode, SslMode::Require);
    }

    /// libpq's refusals: nothing that would trust any public certificate.
    #[test]
    fn a_chain_check_without_a_name_check_needs_a_ca_file() {
        for address in [
            "postgres://db/app?sslmode=verify-ca",
            "postgres://db/app?sslmode=verify-ca&sslrootcert=system",
            "postgres://db/app?sslmode=require&sslrootcert=system",
        ] {
            let (_, tls) = split(address);
            let error = tls.connector().err().unwrap();
            assert!(error.contains("sslrootcert"), "{address}: {error}");
        }
        for address in [
            "postgres://db/app?sslmode=require",
            "postgres://db/app?sslmode=verify-full",
            "postgres://db/app?sslmode=verify-full&sslrootcert=system",
        ] {
            let (_, tls) = split(address);
            assert!(tls.connector().is_ok(), "{address}");
        }
    }

    #[test]
    fn an_unknown_mode_names_the_ones_that_work() {
        let error = Tls::split("postgres://db/app?sslmode=allow").unwrap_err();
        assert!(error.contains("verify-full"), "{error}");
        let error = Tls::split("host=db sslmode=verify").unwrap_err();
        assert!(error.contains("sslmode=verify is not one of"), "{error}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let (_, tls) = split("postgres://db/app?sslmode=verify-full&sslrootcert=/nowhere/ca.pem");
        let error = tls.connector().err().unwrap();
        assert!(
            error.starts_with("sslrootcert=/nowhere/ca.pem: "),
            "{error}"
        );
    }
}
