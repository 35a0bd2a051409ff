//! Result rows as WIT values, and each column's WIT type.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Kind, Type};

use super::errors::error_chain;
use super::numeric::NumericText;
use super::params::PgInterval;
use super::pools::BoxError;
use super::ranges::PgRange;
use crate::bindings::spin::postgres::postgres::{DbDataType, DbValue, Error, RangeBoundKind};

/// The WIT type of a column of PostgreSQL type `ty`.
pub(super) fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY | Type::NAME_ARRAY => {
            DbDataType::ArrayStr
        }
        Type::INTERVAL => DbDataType::Interval,
        _ if ty.name() == "citext" || matches!(ty.kind(), Kind::Enum(_)) => DbDataType::Str,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

pub(super) fn convert_row(row: &Row) -> Result<Vec<DbValue>, Error> {
    (0..row.len()).map(|i| convert_value(row, i)).collect()
}

/// Any value's raw bytes, for types with no WIT counterpart.
struct Raw(Vec<u8>);

impl FromSql<'_> for Raw {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn convert_value(row: &Row, index: usize) -> Result<DbValue, Error> {
    let column = &row.columns()[index];
    let failed = |e: &(dyn std::error::Error + 'static)| {
        Error::ValueConversionFailed(format!("column {:?}: {}", column.name(), error_chain(e)))
    };
    fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<Option<T>, Error> {
        row.try_get(index).map_err(|e| {
            let name = row.columns()[index].name();
            Error::ValueConversionFailed(format!("column {name:?}: {}", error_chain(&e)))
        })
    }
    let value = match data_type(column.type_()) {
        DbDataType::Boolean => get(row, index)?.map(DbValue::Boolean),
        DbDataType::Int16 => get(row, index)?.map(DbValue::Int16),
        DbDataType::Int32 => get(row, index)?.map(DbValue::Int32),
        DbDataType::Int64 => get(row, index)?.map(DbValue::Int64),
        DbDataType::Floating32 => get(row, index)?.map(DbValue::Floating32),
        DbDataType::Floating64 => get(row, index)?.map(DbValue::Floating64),
        DbDataType::Str if matches!(column.type_().kind(), Kind::Enum(_)) => get(row, index)?
            .map(|Raw(label)| String::from_utf8(label).map(DbValue::Str))
            .transpose()
            .map_err(|e| failed(&e))?,
        DbDataType::Str => get(row, index)?.map(DbValue::Str),
        DbDataType::Binary => get(row, index)?.map(DbValue::Binary),
        DbDataType::Date => get(row, index)?.map(|d: NaiveDate| DbValue::Date(date_to_wit(d))),
        DbDataType::Time => get(row, index)?.map(|t: NaiveTime| DbValue::Time(time_to_wit(t))),
        DbDataType::Datetime => {
            let value = if *column.type_() == Type::TIMESTAMPTZ {
                get::<chrono::DateTime<chrono::Utc>>(row, index)?.map(|t| t.naive_utc())
            } else {
                get::<NaiveDateTime>(row, index)?
            };
            value.map(|t| DbValue::Datetime(datetime_to_wit(t)))
        }
        DbDataType::Uuid => get(row, index)?.map(|u: uuid::Uuid| DbValue::Uuid(u.to_string())),
        DbDataType::Jsonb => get::<serde_json::Value>(row, index)?
            .map(|v| serde_json::to_vec(&v).map(DbValue::Jsonb))
            .transpose()
            .map_err(|e| failed(&e))?,
        DbDataType::Decimal => get(row, index)?.map(|n: NumericText| DbValue::Decimal(n.0)),
        DbDataType::RangeInt32 => get(row, index)?.map(|PgRange(l, u)| DbValue::RangeInt32((l, u))),
        DbDataType::RangeInt64 => get(row, index)?.map(|PgRange(l, u)| DbValue::RangeInt64((l, u))),
        DbDataType::RangeDecimal => get(row, index)?.map(|PgRange(l, u)| {
            let text = |b: Option<(NumericText, RangeBoundKind)>| b.map(|(n, k)| (n.0, k));
            DbValue::RangeDecimal((text(l), text(u)))
        }),
        DbDataType::ArrayInt32 => get(row, index)?.map(DbValue::ArrayInt32),
        DbDataType::ArrayInt64 => get(row, index)?.map(DbValue::ArrayInt64),
        DbDataType::ArrayDecimal => get(row, index)?.map(|v: Vec<Option<NumericText>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|n| n.map(|n| n.0)).collect())
        }),
        DbDataType::ArrayStr => get(row, index)?.map(DbValue::ArrayStr),
        DbDataType::Interval => get(row, index)?.map(|PgInterval(i)| DbValue::Interval(i)),
        DbDataType::Int8 | DbDataType::Timestamp | DbDataType::Other(_) => {
            get(row, index)?.map(|Raw(bytes)| DbValue::Unsupported(bytes))
        }
    };
    Ok(value.unwrap_or(DbValue::DbNull))
}

fn date_to_wit(d: NaiveDate) -> (i32, u8, u8) {
    (d.year(), d.month() as u8, d.day() as u8)
}

fn time_to_wit(t: NaiveTime) -> (u8, u8, u8, u32) {
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

fn datetime_to_wit(t: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (y, mo, d) = date_to_wit(t.date());
    let (h, mi, s, ns) = time_to_wit(t.time());
    (y, mo, d, h, mi, s, ns)
}
