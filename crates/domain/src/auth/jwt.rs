//! Access tokens: HS256 JWTs typed `at+jwt` (RFC 9068). Validation pins the
//! algorithm and the type, and checks issuer, audience, expiry, not-before,
//! issue time and lifetime (RFC 8725); the host uses this same code.
//!
//! A token says which session it belongs to (`sid`, the refresh-token
//! family of its login) and the account's session generation (`gen`) when
//! it was issued; whether both are still current is for the bearer door to
//! ask the database, never for the token to claim.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::role::Role;

/// Secrets shorter than this refuse to serve in production.
pub const MIN_PRODUCTION_SECRET_BYTES: usize = 32;
/// Production also refuses a secret whose characters say it holds less than
/// this (a repeated character, a short alphabet).
pub const MIN_PRODUCTION_SECRET_BITS: f64 = 128.0;
pub const DEFAULT_ISSUER: &str = crate::SERVICE_ID;
pub const DEFAULT_AUDIENCE: &str = crate::SERVICE_ID;
pub const DEFAULT_TTL_SECS: i64 = 3600;
/// Clock skew tolerated on exp, nbf and iat.
pub const LEEWAY_SECS: u64 = 5;
/// The media type of what we issue (RFC 9068 2.1).
pub const TOKEN_TYPE: &str = "at+jwt";
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    /// The roles at issue, for clients to display; authority is read from
    /// the account, never from here.
    pub roles: Vec<Role>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The session: the refresh-token family the token was issued with.
    pub sid: String,
    /// The account's session generation at issue.
    #[serde(rename = "gen")]
    pub generation: i64,
}

/// Whom a token is issued to, and in which session.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub sub: &'a str,
    pub email: &'a str,
    pub roles: &'a [Role],
    /// The session (refresh-token family) id.
    pub sid: &'a str,
    /// The account's current session generation.
    pub generation: i64,
}

/// Why a configuration cannot sign tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the JWT secret is empty")]
    Empty,
    #[error(
        "the JWT secret has {0} bytes; production needs at least {MIN_PRODUCTION_SECRET_BYTES}"
    )]
    TooShort(usize),
    #[error(
        "the JWT secret is too predictable (about {0} bits: a repeated character or a short alphabet); production needs a random one, e.g. `openssl rand -base64 32`"
    )]
    Predictable(u32),
}

/// Why a token was refused (the text goes into `error_description`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is invalid")]
    Invalid,
}

/// What signs and verifies tokens.
#[derive(Clone)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: i64,
    // Keys and validation rules are built once, not per request.
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// Refuses, for production, a secret shorter than
/// `MIN_PRODUCTION_SECRET_BYTES` or one that carries fewer than
/// `MIN_PRODUCTION_SECRET_BITS` by a rough estimate: the Shannon entropy of
/// its character frequencies times its length, counting a secret that
/// repeats a shorter one (`abcabc...`) as that shorter one. Generous to a
/// passphrase and blind to a known string; what it catches for sure is a
/// repeated character, a short alphabet or a repeated pattern, which no
/// generator makes.
pub fn check_production_secret(secret: &[u8]) -> Result<(), SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Empty);
    }
    // RFC 7518 3.2: an HS256 key must have at least 256 bits.
    if secret.len() < MIN_PRODUCTION_SECRET_BYTES {
        return Err(SecretError::TooShort(secret.len()));
    }
    let bits = estimated_bits(&secret[..period(secret)]);
    if bits < MIN_PRODUCTION_SECRET_BITS {
        return Err(SecretError::Predictable(bits as u32));
    }
    Ok(())
}

fn estimated_bits(secret: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &byte in secret {
        counts[usize::from(byte)] += 1;
    }
    let len = secret.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = f64::from(count) / len;
            -p * p.log2()
        })
        .sum();
    per_byte * len
}

/// The length of the shortest unit that `bytes` repeats (a last repetition
/// may be cut short); its own length if it repeats nothing.
fn period(bytes: &[u8]) -> usize {
    (1..bytes.len())
        .find(|&p| bytes.iter().skip(p).zip(bytes).all(|(a, b)| a == b))
        .unwrap_or(bytes.len())
}

impl JwtSettings {
    /// The rules for a layer that only checks the components' tokens (the
    /// host's rate limiter, the edge middleware), from the variables the
    /// components read: `jwt_secret`, `jwt_issuer`, `jwt_audience`,
    /// `access_token_ttl_secs`, blank meaning the default, as the
    /// components take them. `None` without a secret. A token living
    /// longer than the components issue is refused, as they refuse it;
    /// the production secret rules are the components' to apply.
    pub fn verifier(variable: impl Fn(&str) -> Option<String>) -> Option<JwtSettings> {
        let value = |name: &str| variable(name).filter(|value| !value.trim().is_empty());
        let secret = variable("jwt_secret").filter(|secret| !secret.is_empty())?;
        let issuer = value("jwt_issuer").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let audience = value("jwt_audience").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned());
        let ttl_secs = value("access_token_ttl_secs")
            .and_then(|ttl| ttl.trim().parse().ok())
            .unwrap_or(DEFAULT_TTL_SECS);
        JwtSettings::new(
            secret.as_bytes(),
            issuer.trim(),
            audience.trim(),
            ttl_secs,
            false,
        )
        .ok()
    }

    /// Refuses an empty secret always, and in `production` one that
    /// `check_production_secret` refuses.
    pub fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        ttl_secs: i64,
        production: bool,
    ) -> Result<JwtSettings, SecretError> {
        if secret.is_empty() {
            return Err(SecretError::Empty);
        }
        // Development setups may use weak secrets; production refuses to start.
        if production {
            check_production_secret(secret)?;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Pinned so a token cannot pick its own algorithm (`none`, or HS512
        // with the same secret).
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Ok(JwtSettings {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// Signs an access token for `grant`, valid from `now` (unix seconds)
    /// for `ttl_secs`, with a fresh random `jti`.
    pub fn issue(&self, grant: Grant<'_>, now: i64) -> (String, Claims) {
        let claims = Claims {
            sub: grant.sub.to_owned(),
            email: grant.email.to_owned(),
            roles: grant.roles.to_vec(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(self.ttl_secs),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: grant.sid.to_owned(),
            generation: grant.generation,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        // HMAC signing of serialisable claims with a non-empty key has no
        // failure mode.
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .expect("HS256 signing cannot fail");
        (token, claims)
    }

    /// The verified subject of an `Authorization` header's bearer token:
    /// how the rate limiters, the host's and the Spin middleware's, tell
    /// accounts apart.
    pub fn subject_of(&self, authorization: &str) -> Option<String> {
        Some(self.verify(bearer_token(authorization)?).ok()?.sub)
    }

    /// Verifies signature (HS256 only), iss, aud, exp and nbf (with
    /// `LEEWAY_SECS`) and that every claim is present; then what RFC 8725
    /// asks beyond the library: the type is ours, no `crit` extension we
    /// would have to understand, not issued in the future, and no longer
    /// lived than this configuration issues.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        // Claims has no optional fields, so a token missing iat, jti,
        // email, roles or its session (one minted before sessions, typed
        // plain `JWT`) fails to deserialise.
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                _ => TokenError::Invalid,
            })?;
        let (header, claims) = (data.header, data.claims);
        if header.crit.is_some() {
            return Err(TokenError::Invalid);
        }
        if header.typ.as_deref() != Some(TOKEN_TYPE) || claims.sid.is_empty() {
            return Err(TokenError::Invalid);
        }
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        if claims.iat > now.saturating_add(LEEWAY_SECS as i64) {
            return Err(TokenError::NotYetValid);
        }
        if claims.exp.saturating_sub(claims.iat) > self.ttl_secs {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

/// The token of an `Authorization: Bearer <token>` header value, if that is
/// what it is (scheme case-insensitive).
pub fn bearer_token(authorization: &str) -> Option<&str> {
    // Surrounding whitespace is HTTP's optional whitespace; inside, exactly
    // one space and one token, so `Bearer a b` is not half-accepted.
    let (scheme, token) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(char::is_whitespace)
    {
        return None;
    }
    Some(token)
}

#[cfg(test)]
mod tests;
