//! Misbehaves on purpose, so tests can show the host contains it.

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    match req.uri().path() {
        "/faulty/loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "/faulty/alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "/faulty/panic" => panic!("deliberate panic"),
        _ => (StatusCode::OK, "fine".to_owned()).into_response(),
    }
}
