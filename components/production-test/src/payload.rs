//! `GET compression`: a deterministic JSON body of about 100 KB, repetitive
//! as real API listings are, so compression has something to show.

use serde_json::{Value, json};

const ITEMS: usize = 400;

pub fn large() -> Value {
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
        let body = large().to_string();
        assert!((90_000..=120_000).contains(&body.len()), "{}", body.len());
        assert_eq!(body, large().to_string());
    }
}
