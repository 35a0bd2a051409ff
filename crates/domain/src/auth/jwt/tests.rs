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
        JwtSettings::new(&SECRET[..31], DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, true).unwrap_err(),
        SecretError::TooShort(31)
    );
    assert!(JwtSettings::new(&SECRET[..31], DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, false).is_ok());
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
            JwtSettings::new(weak.as_bytes(), DEFAULT_ISSUER, DEFAULT_AUDIENCE, 60, false).is_ok(),
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
