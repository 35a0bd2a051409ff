//! Guest parameters as PostgreSQL values: a WIT `parameter-value` binds to
//! the column type the server asks for, checked for range.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, BytesMut};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use super::numeric::NumericParam;
use super::pools::{BoxError, Params};
use super::ranges::PgRange;
use crate::bindings::spin::postgres::postgres::{Error, Interval, ParameterValue, RangeBoundKind};

fn bad_parameter(index: usize, message: impl std::fmt::Display) -> Error {
    Error::BadParameter(format!("parameter ${}: {message}", index + 1))
}

pub(super) fn to_sql_params(params: Vec<ParameterValue>) -> Result<Params, Error> {
    params
        .into_iter()
        .enumerate()
        .map(|(i, p)| to_sql_param(p).map(Param).map_err(|e| bad_parameter(i, e)))
        .collect()
}

/// The type a domain is defined over (or `ty` itself).
fn base_type(mut ty: &Type) -> &Type {
    while let Kind::Domain(base) = ty.kind() {
        ty = base;
    }
    ty
}

/// A converted parameter; it binds to a domain as to the domain's base type.
#[derive(Debug)]
pub(super) struct Param(Box<dyn ToSql + Send + Sync>);

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql_checked(base_type(ty), w)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql_checked(base_type(ty), w)
    }
}

fn to_sql_param(value: ParameterValue) -> Result<Box<dyn ToSql + Send + Sync>, String> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(v),
        ParameterValue::Int8(v) => Box::new(Int(v.into())),
        ParameterValue::Int16(v) => Box::new(Int(v.into())),
        ParameterValue::Int32(v) => Box::new(Int(v.into())),
        ParameterValue::Int64(v) => Box::new(Int(v)),
        ParameterValue::Floating32(v) => Box::new(Float(v.into())),
        ParameterValue::Floating64(v) => Box::new(Float(v)),
        ParameterValue::Str(v) => Box::new(Text(v)),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::Date(v) => Box::new(date_from_wit(v)?),
        ParameterValue::Time(v) => Box::new(time_from_wit(v)?),
        ParameterValue::Datetime(v) => Box::new(DateTimeParam(datetime_from_wit(v)?)),
        ParameterValue::Timestamp(v) => Box::new(timestamp_from_wit(v)?),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(&v).map_err(|e| format!("invalid UUID {v:?}: {e}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(&v)
                .map_err(|e| format!("invalid JSON: {e}"))?,
        ),
        ParameterValue::Decimal(v) => Box::new(NumericParam::parse(&v)?),
        ParameterValue::RangeInt32((lower, upper)) => Box::new(PgRange(lower, upper)),
        ParameterValue::RangeInt64((lower, upper)) => Box::new(PgRange(lower, upper)),
        ParameterValue::RangeDecimal((lower, upper)) => {
            let bound = |b: Option<(String, RangeBoundKind)>| {
                b.map(|(v, kind)| NumericParam::parse(&v).map(|n| (n, kind)))
                    .transpose()
            };
            Box::new(PgRange(bound(lower)?, bound(upper)?))
        }
        ParameterValue::ArrayInt32(v) => Box::new(
            v.into_iter()
                .map(|v| v.map(|v| Int(v.into())))
                .collect::<Vec<_>>(),
        ),
        ParameterValue::ArrayInt64(v) => {
            Box::new(v.into_iter().map(|v| v.map(Int)).collect::<Vec<_>>())
        }
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|v| v.as_deref().map(NumericParam::parse).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ParameterValue::ArrayStr(v) => {
            Box::new(v.into_iter().map(|v| v.map(Text)).collect::<Vec<_>>())
        }
        ParameterValue::Interval(v) => Box::new(PgInterval(v)),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date_from_wit((y, m, d): (i32, u8, u8)) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(y, m.into(), d.into())
        .ok_or_else(|| format!("invalid date {y:04}-{m:02}-{d:02}"))
}

fn time_from_wit((h, m, s, ns): (u8, u8, u8, u32)) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), ns)
        .ok_or_else(|| format!("invalid time {h:02}:{m:02}:{s:02}.{ns:09}"))
}

fn datetime_from_wit(
    (y, mo, d, h, mi, s, ns): (i32, u8, u8, u8, u8, u8, u32),
) -> Result<NaiveDateTime, String> {
    Ok(date_from_wit((y, mo, d))?.and_time(time_from_wit((h, mi, s, ns))?))
}

fn timestamp_from_wit(seconds: i64) -> Result<SystemTime, String> {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    }
    .ok_or_else(|| format!("timestamp {seconds} is out of range"))
}

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A string parameter: binds to the text types and to enums (whose binary
/// form is the label).
#[derive(Debug)]
pub(super) struct Text(String);

impl ToSql for Text {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        match ty.kind() {
            Kind::Enum(_) => {
                w.put_slice(self.0.as_bytes());
                Ok(IsNull::No)
            }
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty) || matches!(ty.kind(), Kind::Enum(_))
    }

    to_sql_checked!();
}

/// An integer parameter: binds to `int2`, `int4`, `int8` (if it fits) or
/// `numeric`.
#[derive(Debug)]
struct Int(i64);

impl ToSql for Int {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        let out_of_range = || format!("{} is out of range for type {ty}", self.0);
        match *ty {
            Type::INT2 => i16::try_from(self.0)
                .map_err(|_| out_of_range())?
                .to_sql(ty, w),
            Type::INT4 => i32::try_from(self.0)
                .map_err(|_| out_of_range())?
                .to_sql(ty, w),
            Type::NUMERIC => NumericParam::parse(&self.0.to_string())?.to_sql(ty, w),
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8 | Type::NUMERIC)
    }

    to_sql_checked!();
}

/// A float parameter: binds to `float4` or `float8`.
#[derive(Debug)]
struct Float(f64);

impl ToSql for Float {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *ty {
            Type::FLOAT4 => (self.0 as f32).to_sql(ty, w),
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::FLOAT4 | Type::FLOAT8)
    }

    to_sql_checked!();
}

/// A date-time parameter, read as UTC: binds to `timestamp` or `timestamptz`.
#[derive(Debug)]
struct DateTimeParam(NaiveDateTime);

impl ToSql for DateTimeParam {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *ty {
            Type::TIMESTAMPTZ => self.0.and_utc().to_sql(ty, w),
            _ => self.0.to_sql(ty, w),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TIMESTAMP | Type::TIMESTAMPTZ)
    }

    to_sql_checked!();
}

/// `interval` in PostgreSQL's binary form: microseconds, days, months.
#[derive(Debug)]
pub(super) struct PgInterval(pub(super) Interval);

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        w.put_i64(self.0.micros);
        w.put_i32(self.0.days);
        w.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl FromSql<'_> for PgInterval {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let raw: [u8; 16] = raw.try_into().map_err(|_| "invalid interval value")?;
        let (micros, rest) = raw.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(PgInterval(Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}
