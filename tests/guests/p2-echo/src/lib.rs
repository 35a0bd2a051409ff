//! A WASIp2 HTTP component: answers with the path and the Spin route header
//! it was given, so tests see the host serve this generation too.

use std::io::Write as _;

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wasi::http::proxy::export!(Echo);

struct Echo;

impl wasi::exports::http::incoming_handler::Guest for Echo {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let route = request
            .headers()
            .get("spin-matched-route")
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let text = format!("p2 path={path} route={route}");
        let response = OutgoingResponse::new(Fields::new());
        let body = response.body().expect("a fresh response has a body");
        ResponseOutparam::set(out, Ok(response));
        let mut stream = body.write().expect("a fresh body has a stream");
        stream.write_all(text.as_bytes()).expect("writing the body");
        stream.flush().expect("flushing the body");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finishing the body");
    }
}
