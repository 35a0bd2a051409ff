//! Replies to `execute`, as the WIT's flat list of results.

use redis::Value;

use crate::bindings::spin::redis::redis::{Error, RedisResult};

/// A reply to `execute` as the WIT list: arrays (and RESP3 sets, maps and
/// pushes) are flattened, RESP3-only scalars become what RESP2 would send.
pub(crate) fn to_results(value: Value) -> Result<Vec<RedisResult>, Error> {
    let mut results = Vec::new();
    flatten(value, &mut results)?;
    Ok(results)
}

fn flatten(value: Value, out: &mut Vec<RedisResult>) -> Result<(), Error> {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Okay => out.push(RedisResult::Status("OK".to_owned())),
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Int(i) => out.push(RedisResult::Int64(i)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            for item in items {
                flatten(item, out)?;
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, out)?;
                flatten(value, out)?;
            }
        }
        Value::Attribute { data, .. } => flatten(*data, out)?,
        Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        Value::VerbatimString { text, .. } => out.push(RedisResult::Binary(text.into_bytes())),
        Value::BigNumber(digits) => out.push(RedisResult::Binary(digits)),
        Value::ServerError(e) => {
            return Err(Error::Other(match e.details() {
                Some(details) => format!("{} {details}", e.code()),
                None => e.code().to_owned(),
            }));
        }
        // `Value` is non-exhaustive.
        other => out.push(RedisResult::Binary(format!("{other:?}").into_bytes())),
    }
    Ok(())
}
