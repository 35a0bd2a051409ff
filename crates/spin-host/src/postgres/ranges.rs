//! Ranges, in PostgreSQL's binary form: a flags byte, then each finite bound
//! as a length-prefixed value of the element type.

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use super::pools::BoxError;
use crate::bindings::spin::postgres::postgres::RangeBoundKind;

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;
const RANGE_LB_NULL: u8 = 0x20;
const RANGE_UB_NULL: u8 = 0x40;

/// A range with optional (unbounded when `None`) lower and upper bounds. An
/// empty range reads as `(None, None)`, as in Spin.
#[derive(Debug)]
pub(super) struct PgRange<T>(
    pub(super) Option<(T, RangeBoundKind)>,
    pub(super) Option<(T, RangeBoundKind)>,
);

fn range_element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<T: ToSql> ToSql for PgRange<T> {
    fn to_sql(&self, ty: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let mut flags = 0;
        match &self.0 {
            None => flags |= RANGE_LB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_LB_INC,
            Some(_) => {}
        }
        match &self.1 {
            None => flags |= RANGE_UB_INF,
            Some((_, RangeBoundKind::Inclusive)) => flags |= RANGE_UB_INC,
            Some(_) => {}
        }
        w.put_u8(flags);
        for (value, _) in [&self.0, &self.1].into_iter().flatten() {
            let start = w.len();
            w.put_i32(0);
            if let IsNull::Yes = value.to_sql(element, w)? {
                return Err("range bounds cannot be NULL".into());
            }
            let len = i32::try_from(w.len() - start - 4)?;
            w[start..start + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let (&flags, mut rest) = raw.split_first().ok_or("empty range value")?;
        if flags & RANGE_EMPTY != 0 {
            return Ok(PgRange(None, None));
        }
        let mut bound = |absent: u8, inclusive: u8| -> Result<_, BoxError> {
            if flags & absent != 0 {
                return Ok(None);
            }
            let (len, tail) = rest.split_first_chunk::<4>().ok_or("truncated range")?;
            let len = usize::try_from(i32::from_be_bytes(*len))?;
            let (value, tail) = tail.split_at_checked(len).ok_or("truncated range")?;
            rest = tail;
            let kind = if flags & inclusive != 0 {
                RangeBoundKind::Inclusive
            } else {
                RangeBoundKind::Exclusive
            };
            Ok(Some((T::from_sql(element, value)?, kind)))
        };
        let lower = bound(RANGE_LB_INF | RANGE_LB_NULL, RANGE_LB_INC)?;
        let upper = bound(RANGE_UB_INF | RANGE_UB_NULL, RANGE_UB_INC)?;
        Ok(PgRange(lower, upper))
    }

    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(T::accepts)
    }
}
