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
pub const DEFAULT_ISSUER: &str = "mhmanus-edge";
pub const DEFAULT_AUDIENCE: &str = "mhmanus-edge";
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
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    const SECRET: &[u8] = b"kJ3v9QmZ2rT8xW1pL6yN4bH7cF0dS5gA";

    fn settings() -> JwtSettings {
        JwtSettings::new(
            SECRET,
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
            DEFAULT_TTL_SECS,
            true,
        )
        .unwrap()
    }

    fn now() -> i64 {
        let elapsed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        i64::try_from(elapsed.as_secs()).unwrap()
    }

    /// Valid claims as a JSON object, to be bent by each attack.
    fn claims(now: i64) -> serde_json::Value {
        json!({
            "sub": "42",
            "email": "user@example.com",
            "roles": ["User"],
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "iss": DEFAULT_ISSUER,
            "aud": DEFAULT_AUDIENCE,
            "jti": "5f0c7a8e-6d6e-4b8e-9d51-1f1c0a3e2b7d",
            "sid": "0b6a3f8e-1d2c-4e5f-8a9b-7c6d5e4f3a2b",
            "gen": 3,
        })
    }

    /// Signs `claims` with a header typed as ours.
    fn sign(alg: Algorithm, claims: &serde_json::Value, secret: &[u8]) -> String {
        let mut header = Header::new(alg);
        header.typ = Some(TOKEN_TYPE.to_owned());
        sign_with(&header, claims, secret)
    }

    fn sign_with(header: &Header, claims: &serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn grant<'a>(roles: &'a [Role]) -> Grant<'a> {
        Grant {
            sub: "42",
            email: "user@example.com",
            roles,
            sid: "session-1",
            generation: 7,
        }
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn secret_rules() {
        assert_eq!(
            JwtSettings::new(b"", DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, false).unwrap_err(),
            SecretError::Empty
        );
        assert_eq!(
            JwtSettings::new(b"", DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, true).unwrap_err(),
            SecretError::Empty
        );
        assert_eq!(
            JwtSettings::new(&SECRET[..31], DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, true)
                .unwrap_err(),
            SecretError::TooShort(31)
        );
        assert!(
            JwtSettings::new(&SECRET[..31], DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, false).is_ok()
        );
        assert!(JwtSettings::new(SECRET, DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, true).is_ok());
    }

    #[test]
    fn production_refuses_predictable_secrets() {
        for weak in [
            "a".repeat(64),
            "ab".repeat(32),
            "0123".repeat(16),
            "1234567890".repeat(4),
        ] {
            assert!(
                matches!(
                    check_production_secret(weak.as_bytes()),
                    Err(SecretError::Predictable(_))
                ),
                "{weak}"
            );
            assert!(
                JwtSettings::new(weak.as_bytes(), DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, false)
                    .is_ok(),
                "development takes {weak}"
            );
        }
        for strong in [
            // `openssl rand -base64 32` and `-hex 32`.
            "q8Hn3yO2o3s1Ukq5dTqzW7mL0bq2m0u3R1oVnA3cF5E=",
            "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
            "a-production-secret-of-at-least-32-bytes",
        ] {
            assert_eq!(
                check_production_secret(strong.as_bytes()),
                Ok(()),
                "{strong}"
            );
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let debug = format!("{:?}", settings());
        assert!(debug.contains("mhmanus-edge"));
        assert!(!debug.contains("kJ3v9QmZ2rT8"));
        assert!(!debug.contains("107, 74, 51"));
    }

    #[test]
    fn issued_tokens_verify() {
        let settings = settings();
        let now = now();
        let (token, claims) = settings.issue(grant(&[Role::Admin, Role::User]), now);
        assert_eq!(claims.iat, now);
        assert_eq!(claims.nbf, now);
        assert_eq!(claims.exp, now + DEFAULT_TTL_SECS);
        assert_eq!(claims.iss, DEFAULT_ISSUER);
        assert_eq!(claims.aud, DEFAULT_AUDIENCE);
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
        assert_eq!((claims.sid.as_str(), claims.generation), ("session-1", 7));
        assert_eq!(settings.verify(&token), Ok(claims.clone()));

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));

        let (other, other_claims) = settings.issue(grant(&[Role::User]), now);
        assert_ne!(other, token);
        assert_ne!(other_claims.jti, claims.jti);
    }

    /// The attacks below are only meaningful if this one is accepted.
    #[test]
    fn correctly_forged_token_is_accepted() {
        let now = now();
        let token = sign(Algorithm::HS256, &claims(now), SECRET);
        let claims = settings().verify(&token).unwrap();
        assert_eq!(claims.sub, "42");
        assert_eq!(claims.roles, vec![Role::User]);
        assert_eq!(claims.generation, 3);
    }

    #[test]
    fn a_token_must_be_typed_as_ours() {
        let now = now();
        let mut header = Header::new(Algorithm::HS256);
        for typ in [
            None,
            Some("jwt+at"),
            Some("JOSE"),
            Some("application/at+jwt"),
        ] {
            header.typ = typ.map(str::to_owned);
            let token = sign_with(&header, &claims(now), SECRET);
            assert_eq!(
                settings().verify(&token),
                Err(TokenError::Invalid),
                "{typ:?}"
            );
        }
        // `JWT` is what tokens without a session were typed; one with a
        // session typed so is not one of those.
        header.typ = Some("JWT".to_owned());
        let token = sign_with(&header, &claims(now), SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_without_a_session_is_refused_however_typed() {
        let now = now();
        let mut before_sessions = claims(now);
        before_sessions.as_object_mut().unwrap().remove("sid");
        before_sessions.as_object_mut().unwrap().remove("gen");
        let typed_jwt = sign_with(&Header::new(Algorithm::HS256), &before_sessions, SECRET);
        let ours = sign(Algorithm::HS256, &before_sessions, SECRET);
        for token in [typed_jwt, ours] {
            assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
        }
        let mut empty = claims(now);
        empty["sid"] = "".into();
        let token = sign(Algorithm::HS256, &empty, SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_crit_header_is_refused() {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.crit = Some(vec!["exp".to_owned()]);
        let token = sign_with(&header, &claims(now()), SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn issued_in_the_future_or_living_too_long_is_refused() {
        let now = now();
        let mut future = claims(now);
        future["iat"] = json!(now + 60);
        assert_eq!(
            settings().verify(&sign(Algorithm::HS256, &future, SECRET)),
            Err(TokenError::NotYetValid)
        );
        // Within the leeway it is skew.
        future["iat"] = json!(now + 2);
        assert!(
            settings()
                .verify(&sign(Algorithm::HS256, &future, SECRET))
                .is_ok()
        );

        let mut long = claims(now);
        long["exp"] = json!(now + DEFAULT_TTL_SECS + 1);
        assert_eq!(
            settings().verify(&sign(Algorithm::HS256, &long, SECRET)),
            Err(TokenError::Invalid)
        );
        long["exp"] = json!(now + DEFAULT_TTL_SECS);
        assert!(
            settings()
                .verify(&sign(Algorithm::HS256, &long, SECRET))
                .is_ok()
        );
    }

    #[test]
    fn leeway_tolerates_small_skew() {
        let now = now();
        let mut early = claims(now);
        early["nbf"] = json!(now + 2);
        assert!(
            settings()
                .verify(&sign(Algorithm::HS256, &early, SECRET))
                .is_ok()
        );
    }

    #[test]
    fn alg_none_is_rejected() {
        let now = now();
        let header = json!({"alg": "none", "typ": "at+jwt"});
        let token = format!("{}.{}.", b64(&header), b64(&claims(now)));
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));

        // The same with an HS256 header and no signature.
        let header = json!({"alg": "HS256", "typ": "at+jwt"});
        let token = format!("{}.{}.", b64(&header), b64(&claims(now)));
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn wrong_key_is_rejected() {
        let token = sign(
            Algorithm::HS256,
            &claims(now()),
            b"another secret of thirty-two b!!",
        );
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn other_algorithm_with_the_right_key_is_rejected() {
        let token = sign(Algorithm::HS512, &claims(now()), SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
        let token = sign(Algorithm::HS384, &claims(now()), SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_is_rejected() {
        let now = now();
        let mut expired = claims(now);
        expired["iat"] = json!(now - 7200);
        expired["nbf"] = json!(now - 7200);
        expired["exp"] = json!(now - 3600);
        let token = sign(Algorithm::HS256, &expired, SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Expired));

        // Beyond the leeway.
        expired["exp"] = json!(now - 60);
        let token = sign(Algorithm::HS256, &expired, SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn not_yet_valid_is_rejected() {
        let now = now();
        let mut future = claims(now);
        future["nbf"] = json!(now + 3600);
        future["exp"] = json!(now + 7200);
        let token = sign(Algorithm::HS256, &future, SECRET);
        assert_eq!(settings().verify(&token), Err(TokenError::NotYetValid));
    }

    #[test]
    fn wrong_issuer_or_audience_is_rejected() {
        let now = now();
        for (claim, value) in [
            ("iss", json!("someone-else")),
            ("aud", json!("another-service")),
            ("aud", json!(["another-service"])),
        ] {
            let mut bent = claims(now);
            bent[claim] = value;
            let token = sign(Algorithm::HS256, &bent, SECRET);
            assert_eq!(
                settings().verify(&token),
                Err(TokenError::Invalid),
                "{claim}"
            );
        }
        // Settings with another issuer refuse our tokens too.
        let other = JwtSettings::new(
            SECRET,
            "elsewhere",
            DEFAULT_AUDIENCE,
            DEFAULT_TTL_SECS,
            true,
        )
        .unwrap();
        let (token, _) = settings().issue(grant(&[Role::User]), now);
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let now = now();
        let token = sign(Algorithm::HS256, &claims(now), SECRET);
        let mut parts = token.split('.');
        let (header, _, signature) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let mut elevated = claims(now);
        elevated["roles"] = json!(["Admin"]);
        let tampered = format!("{header}.{}.{signature}", b64(&elevated));
        assert_eq!(settings().verify(&tampered), Err(TokenError::Invalid));
    }

    #[test]
    fn missing_claims_are_rejected() {
        let now = now();
        for claim in [
            "exp", "nbf", "iat", "iss", "aud", "sub", "jti", "roles", "email",
        ] {
            let mut partial = claims(now);
            partial.as_object_mut().unwrap().remove(claim);
            let token = sign(Algorithm::HS256, &partial, SECRET);
            assert_eq!(
                settings().verify(&token),
                Err(TokenError::Invalid),
                "{claim}"
            );
        }

        /// A typed token with no `exp` at all.
        #[derive(Serialize)]
        struct NoExpiry<'a> {
            sub: &'a str,
            email: &'a str,
            roles: Vec<Role>,
            iat: i64,
            nbf: i64,
            iss: &'a str,
            aud: &'a str,
            jti: &'a str,
        }
        let no_expiry = NoExpiry {
            sub: "42",
            email: "user@example.com",
            roles: vec![Role::Admin],
            iat: now,
            nbf: now,
            iss: DEFAULT_ISSUER,
            aud: DEFAULT_AUDIENCE,
            jti: "jti",
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &no_expiry,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn garbage_is_rejected() {
        for token in [
            "",
            ".",
            "..",
            "a.b.c",
            "not a token",
            "eyJhbGciOiJIUzI1NiJ9",
        ] {
            assert_eq!(
                settings().verify(token),
                Err(TokenError::Invalid),
                "{token:?}"
            );
        }
    }

    #[test]
    fn bearer_token_cases() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        assert_eq!(bearer_token("  Bearer abc  "), Some("abc"));
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer  ",
            "Bearer  abc",
            "Bearer abc def",
            "Bearer\tabc",
            "Basic dXNlcjpwdw==",
            "Bearerabc",
            "Token abc",
            "abc",
        ] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }
}
