//! A certificate authority made by the test, and server certificates it
//! issues, written as PEM files for the servers and clients under test.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    dir: TempDir,
    /// The CA's certificate: what a client trusts.
    pub cert: PathBuf,
}

/// A server's certificate and key, as files.
#[derive(Clone)]
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("mhmanus test CA {}", uuid::Uuid::new_v4()),
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // Readable by the postgres user the test's own server runs as.
        make_readable(dir.path());
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, cert.pem()).unwrap();
        TestCa {
            issuer: Issuer::new(params, key),
            dir,
            cert: path,
        }
    }

    /// An HTTP client that trusts this CA alone.
    pub fn client(&self) -> reqwest::ClientBuilder {
        let pem = std::fs::read(&self.cert).unwrap();
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
    }

    /// A certificate for `names` (DNS names or IP addresses), under `file`
    /// (`file.pem` and `file.key`) in the CA's directory.
    pub fn issue(&self, file: &str, names: &[&str]) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0].clone());
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let paths = ServerCert {
            cert: self.dir.path().join(format!("{file}.pem")),
            key: self.dir.path().join(format!("{file}.key")),
        };
        std::fs::write(&paths.cert, cert.pem()).unwrap();
        std::fs::write(&paths.key, key.serialize_pem()).unwrap();
        paths
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

pub(crate) fn make_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
