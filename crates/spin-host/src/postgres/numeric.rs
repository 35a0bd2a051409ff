//! `numeric`, in PostgreSQL's binary form: digit count, weight (of the first
//! base-10000 digit), sign, display scale, then the base-10000 digits.

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::pools::BoxError;

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;
/// PostgreSQL's limits: digits before and after the decimal point.
const NUMERIC_MAX_INT_DIGITS: usize = 131_072;
const NUMERIC_MAX_SCALE: usize = 16_383;

/// A decimal parameter, encoded when the parameter is converted.
#[derive(Debug)]
pub(super) struct NumericParam(Vec<u8>);

impl NumericParam {
    /// Parses `[+-]digits[.digits][e[+-]digits]`, `NaN` or `[+-]Infinity`.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid decimal {text:?}");
        let s = text.trim();
        let (negative, unsigned) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let special = |sign: u16| Self::encode(&[], 0, sign, 0);
        if unsigned.eq_ignore_ascii_case("nan") && unsigned.len() == s.len() {
            return Ok(special(NUMERIC_NAN));
        }
        if unsigned.eq_ignore_ascii_case("infinity") || unsigned.eq_ignore_ascii_case("inf") {
            return Ok(special(if negative { NUMERIC_NINF } else { NUMERIC_PINF }));
        }
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => {
                let exponent: i64 = unsigned[at + 1..].parse().map_err(|_| invalid())?;
                (&unsigned[..at], exponent)
            }
            None => (unsigned, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(invalid());
        }
        if exponent.unsigned_abs() > (NUMERIC_MAX_INT_DIGITS + NUMERIC_MAX_SCALE) as u64 {
            return Err(format!("decimal {text:?} is out of range"));
        }
        // The digits, and where the decimal point falls among them.
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        let point = int_part.len() as i64 + exponent;
        let (int_digits, frac_digits): (Vec<u8>, Vec<u8>) = if point <= 0 {
            let zeros = std::iter::repeat_n(0, point.unsigned_abs() as usize);
            (Vec::new(), zeros.chain(digits).collect())
        } else if point as usize >= digits.len() {
            let zeros = std::iter::repeat_n(0, point as usize - digits.len());
            (digits.into_iter().chain(zeros).collect(), Vec::new())
        } else {
            let (i, f) = digits.split_at(point as usize);
            (i.to_vec(), f.to_vec())
        };
        if int_digits.len() > NUMERIC_MAX_INT_DIGITS || frac_digits.len() > NUMERIC_MAX_SCALE {
            return Err(format!("decimal {text:?} is out of range"));
        }
        let dscale = frac_digits.len() as u16;
        // Group into base-10000 digits aligned on the decimal point.
        let int_pad = (4 - int_digits.len() % 4) % 4;
        let frac_pad = (4 - frac_digits.len() % 4) % 4;
        let int_groups = (int_digits.len() + int_pad) / 4;
        let aligned: Vec<u8> = std::iter::repeat_n(0, int_pad)
            .chain(int_digits)
            .chain(frac_digits)
            .chain(std::iter::repeat_n(0, frac_pad))
            .collect();
        let groups: Vec<i16> = aligned
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |n, &d| n * 10 + i16::from(d)))
            .collect();
        let mut weight = int_groups as i64 - 1;
        let first = groups.iter().position(|&g| g != 0);
        let last = groups.iter().rposition(|&g| g != 0);
        let (groups, sign) = match (first, last) {
            (Some(first), Some(last)) => {
                weight -= first as i64;
                let sign = if negative { NUMERIC_NEG } else { NUMERIC_POS };
                (&groups[first..=last], sign)
            }
            _ => {
                weight = 0;
                (&groups[..0], NUMERIC_POS)
            }
        };
        Ok(Self::encode(groups, weight as i16, sign, dscale))
    }

    fn encode(groups: &[i16], weight: i16, sign: u16, dscale: u16) -> Self {
        let mut out = Vec::with_capacity(8 + 2 * groups.len());
        out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
        out.extend_from_slice(&weight.to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
        NumericParam(out)
    }
}

impl ToSql for NumericParam {
    fn to_sql(&self, _: &Type, w: &mut BytesMut) -> Result<IsNull, BoxError> {
        w.put_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

/// A `numeric` value as decimal text, as PostgreSQL prints it.
#[derive(Debug)]
pub(super) struct NumericText(pub(super) String);

impl FromSql<'_> for NumericText {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let field = |i: usize| -> Result<[u8; 2], BoxError> {
            Ok(raw
                .get(i..i + 2)
                .ok_or("truncated numeric value")?
                .try_into()?)
        };
        let ndigits = i16::from_be_bytes(field(0)?);
        let weight = i16::from_be_bytes(field(2)?);
        let sign = u16::from_be_bytes(field(4)?);
        let dscale = u16::from_be_bytes(field(6)?);
        let digits = (0..usize::try_from(ndigits)?)
            .map(|i| Ok(i16::from_be_bytes(field(8 + 2 * i)?)))
            .collect::<Result<Vec<i16>, BoxError>>()?;
        let text = match sign {
            NUMERIC_NAN => "NaN".to_owned(),
            NUMERIC_PINF => "Infinity".to_owned(),
            NUMERIC_NINF => "-Infinity".to_owned(),
            NUMERIC_POS | NUMERIC_NEG => {
                // Digit k stands for 10000^(weight - k).
                let digit = |k: i32| {
                    usize::try_from(k)
                        .ok()
                        .and_then(|k| digits.get(k))
                        .copied()
                        .unwrap_or(0)
                };
                let mut s = String::new();
                if sign == NUMERIC_NEG {
                    s.push('-');
                }
                if weight < 0 {
                    s.push('0');
                } else {
                    s.push_str(&digit(0).to_string());
                    for k in 1..=i32::from(weight) {
                        s.push_str(&format!("{:04}", digit(k)));
                    }
                }
                if dscale > 0 {
                    let mut frac = String::new();
                    let mut k = i32::from(weight) + 1;
                    while frac.len() < usize::from(dscale) {
                        frac.push_str(&format!("{:04}", digit(k)));
                        k += 1;
                    }
                    frac.truncate(dscale.into());
                    s.push('.');
                    s.push_str(&frac);
                }
                s
            }
            _ => return Err("invalid numeric sign".into()),
        };
        Ok(NumericText(text))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}
