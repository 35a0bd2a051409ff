//! How the edge middleware tells the component behind it which layers it
//! applied, in a request header no client can forge: the middleware drops
//! any copy a client sent and signs its own with an HMAC-SHA256 keyed by
//! the application's JWT secret, which the component has too. The header
//! travels only between the two, so no client ever sees a valid one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "mhmanus-edge-attestation";

/// Which component applied which edge layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub by: String,
    pub layers: Vec<String>,
}

impl Attestation {
    /// The header value: `by;layer,layer;mac` (the MAC in hex).
    pub fn sign(&self, secret: &[u8]) -> String {
        let claim = self.claim();
        let tag = mac(secret, &claim).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{claim};{hex}")
    }

    /// The attestation in `value`, when `secret` signed it.
    pub fn verify(value: &str, secret: &[u8]) -> Option<Attestation> {
        let (claim, hex) = value.rsplit_once(';')?;
        let tag = decode_hex(hex)?;
        mac(secret, claim).verify_slice(&tag).ok()?;
        let (by, layers) = claim.split_once(';')?;
        Some(Attestation {
            by: by.to_owned(),
            layers: layers
                .split(',')
                .filter(|layer| !layer.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    fn claim(&self) -> String {
        format!("{};{}", self.by, self.layers.join(","))
    }
}

/// Keyed by the secret, over a context string first, so the MAC is never a
/// value some other use of the secret could produce.
fn mac(secret: &[u8], claim: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"mhmanus-edge attestation of edge layers\n");
    mac.update(claim.as_bytes());
    mac
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attestation() -> Attestation {
        Attestation {
            by: "edge-middleware".into(),
            layers: vec!["security-headers".into(), "rate-limit".into()],
        }
    }

    #[test]
    fn what_the_secret_signed_verifies() {
        let value = attestation().sign(b"the application's secret");
        assert!(value.starts_with("edge-middleware;security-headers,rate-limit;"));
        assert_eq!(
            Attestation::verify(&value, b"the application's secret"),
            Some(attestation())
        );
    }

    #[test]
    fn a_claim_without_the_secret_does_not() {
        let value = attestation().sign(b"the application's secret");
        assert_eq!(Attestation::verify(&value, b"another secret"), None);
        let widened = value.replace("rate-limit", "rate-limit,cors");
        assert_eq!(
            Attestation::verify(&widened, b"the application's secret"),
            None
        );
        for forged in [
            "",
            "edge-middleware;cors",
            "edge-middleware;cors;zz",
            "a;b;0",
        ] {
            assert_eq!(
                Attestation::verify(forged, b"the application's secret"),
                None
            );
        }
    }
}
