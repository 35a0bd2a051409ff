//! What the production-test component serves that is not about this
//! runtime: the body of `GET /production-test/compression`. Shared, so the
//! benchmarks' native baseline sends the same bytes.

use serde_json::{Value, json};

const ITEMS: usize = 400;

/// A deterministic JSON body of about 100 KB, repetitive as real API
/// listings are, so compression has something to show.
pub fn compression_payload() -> Value {
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| {
            json!({
                "id": i,
                "name": format!("item-{i:04}"),
                "description": "A deterministic record, the same on every request, so that \
                    clients can compare a compressed answer with the identity one byte for byte.",
                "tags": ["production", "compression", "test"],
                "price": (i * 37 % 1000) as f64 / 10.0,
                "inStock": i % 3 != 0,
            })
        })
        .collect();
    json!({ "count": ITEMS, "items": items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_100_kb_and_the_same_every_time() {
        let body = compression_payload().to_string();
        assert!((90_000..=120_000).contains(&body.len()), "{}", body.len());
        assert_eq!(body, compression_payload().to_string());
    }
}
