//! Access tokens: HS256 JWTs. Validation pins the algorithm and checks
//! issuer, audience, expiry and not-before; the host uses this same code.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::role::Role;

/// Secrets shorter than this refuse to serve in production.
pub const MIN_PRODUCTION_SECRET_BYTES: usize = 32;
pub const DEFAULT_ISSUER: &str = "mhmanus-edge";
pub const DEFAULT_AUDIENCE: &str = "mhmanus-edge";
pub const DEFAULT_TTL_SECS: i64 = 3600;
/// Clock skew tolerated on exp and nbf.
pub const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

impl Claims {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
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

impl JwtSettings {
    /// Refuses an empty secret always, and one shorter than
    /// `MIN_PRODUCTION_SECRET_BYTES` when `production`.
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
        // RFC 7518 3.2: an HS256 key must have at least 256 bits. Development
        // setups may use shorter ones; production refuses to start.
        if production && secret.len() < MIN_PRODUCTION_SECRET_BYTES {
            return Err(SecretError::TooShort(secret.len()));
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

    /// Signs an access token for the account, valid from `now` (unix
    /// seconds) for `ttl_secs`, with a fresh random `jti`.
    pub fn issue(&self, sub: &str, email: &str, roles: &[Role], now: i64) -> (String, Claims) {
        let claims = Claims {
            sub: sub.to_owned(),
            email: email.to_owned(),
            roles: roles.to_vec(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(self.ttl_secs),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        // HMAC signing of serialisable claims with a non-empty key has no
        // failure mode.
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail");
        (token, claims)
    }

    /// Verifies signature (HS256 only), iss, aud, exp and nbf (with
    /// `LEEWAY_SECS`) and that every claim is present.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        // Claims has no optional fields, so a token missing iat, jti, email
        // or roles fails to deserialise and is invalid too.
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                _ => TokenError::Invalid,
            })
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

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

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
        })
    }

    fn sign(alg: Algorithm, claims: &serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
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
    fn debug_hides_the_secret() {
        let debug = format!("{:?}", settings());
        assert!(debug.contains("mhmanus-edge"));
        assert!(!debug.contains("0123456789abcdef"));
        assert!(!debug.contains("48, 49, 50"));
    }

    #[test]
    fn issued_tokens_verify() {
        let settings = settings();
        let now = now();
        let (token, claims) =
            settings.issue("42", "user@example.com", &[Role::Admin, Role::User], now);
        assert_eq!(claims.iat, now);
        assert_eq!(claims.nbf, now);
        assert_eq!(claims.exp, now + DEFAULT_TTL_SECS);
        assert_eq!(claims.iss, DEFAULT_ISSUER);
        assert_eq!(claims.aud, DEFAULT_AUDIENCE);
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
        assert!(claims.has_role(Role::Admin) && !claims.has_role(Role::Developer));
        assert_eq!(settings.verify(&token), Ok(claims.clone()));

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));

        let (other, other_claims) = settings.issue("42", "user@example.com", &[Role::User], now);
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
        let header = json!({"alg": "none", "typ": "JWT"});
        let token = format!("{}.{}.", b64(&header), b64(&claims(now)));
        assert_eq!(settings().verify(&token), Err(TokenError::Invalid));

        // The same with an HS256 header and no signature.
        let header = json!({"alg": "HS256", "typ": "JWT"});
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
        let (token, _) = settings().issue("42", "user@example.com", &[Role::User], now);
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
