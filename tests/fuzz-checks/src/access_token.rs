//! `Authorization` headers and access tokens: whatever arrives, the bearer
//! parser and the verifier refuse it without panicking; a token the
//! service issued still verifies, and one with any byte changed verifies
//! only as the very same claims (base64's unused bits can absorb a change).

use std::sync::LazyLock;

use mhmanus_domain::auth::jwt::{Claims, Grant, JwtSettings, bearer_token};
use mhmanus_domain::auth::role::Role;

struct Fixture {
    settings: JwtSettings,
    token: String,
    claims: Claims,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let settings = JwtSettings::new(
        b"fuzzing-secret-of-at-least-32-bytes",
        "mhmanus-edge",
        "mhmanus-edge",
        3600,
        true,
    )
    .expect("a valid secret");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64;
    let (token, claims) = settings.issue(
        Grant {
            sub: "fuzz-subject",
            email: "fuzz@example.com",
            roles: &[Role::User],
            sid: "fuzz-session",
            generation: 0,
        },
        now,
    );
    Fixture {
        settings,
        token,
        claims,
    }
});

pub fn check(data: &[u8]) {
    let fixture = &*FIXTURE;
    let text = String::from_utf8_lossy(data);
    if let Some(token) = bearer_token(&text) {
        assert!(!token.is_empty() && !token.contains(' '));
        if let Ok(claims) = fixture.settings.verify(token) {
            assert_eq!(claims, fixture.claims, "only the issued token verifies");
        }
    }
    let _ = fixture.settings.verify(&text);

    // The issued token with one byte replaced, at a place the input picks.
    let [at_high, at_low, byte, ..] = data else {
        return;
    };
    let mut forged = fixture.token.clone().into_bytes();
    let at = usize::from(u16::from_be_bytes([*at_high, *at_low])) % forged.len();
    forged[at] = *byte;
    if let Ok(forged) = String::from_utf8(forged)
        && let Ok(claims) = fixture.settings.verify(&forged)
    {
        assert_eq!(
            claims, fixture.claims,
            "a forged token verified as other claims"
        );
    }
    assert!(fixture.settings.verify(&fixture.token).is_ok());
}
