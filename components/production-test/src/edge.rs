//! Which edge layers are in front of this component, and what provides
//! them: the native host declares its own (it sets the `host_runtime` and
//! `edge_layers` variables); under Spin the edge middleware attests its own
//! in a signed request header (`mhmanus_edge_rules::attestation`). Never a
//! client's word: a header counts only with a valid signature.

use mhmanus_edge_rules::attestation::{self, Attestation};

use crate::settings::Settings;

pub(crate) struct EdgeInFront {
    /// The runtime or component that applies the layers.
    pub(crate) provided_by: String,
    pub(crate) layers: Vec<String>,
}

impl EdgeInFront {
    pub(crate) fn of(settings: &Settings, headers: &http::HeaderMap) -> Self {
        if !settings.edge_layers.is_empty() {
            return EdgeInFront {
                provided_by: settings.host_runtime.clone(),
                layers: settings.edge_layers.clone(),
            };
        }
        let attested = headers
            .get(attestation::HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|_| !settings.jwt_secret.is_empty())
            .and_then(|value| Attestation::verify(value, settings.jwt_secret.as_bytes()));
        match attested {
            Some(attestation) => EdgeInFront {
                provided_by: attestation.by,
                layers: attestation.layers,
            },
            None => EdgeInFront {
                provided_by: settings.host_runtime.clone(),
                layers: Vec::new(),
            },
        }
    }

    pub(crate) fn has(&self, layer: &str) -> bool {
        self.layers.iter().any(|l| l == layer)
    }
}
