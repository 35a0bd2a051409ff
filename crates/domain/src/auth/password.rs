//! Password hashes: argon2id (OWASP parameters) as PHC strings; bcrypt
//! hashes from the original system are verified and flagged for re-hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// argon2id memory cost in KiB, iterations and parallelism (OWASP).
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

/// Salt length in bytes: the PHC and RFC 9106 recommendation.
const SALT_BYTES: usize = 16;

/// A real argon2id hash, with our parameters, of a random string nobody
/// knows; `verify_dummy` checks against it so that the time it takes is
/// the time a real account takes.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Uio4gYyGlYUnnRk97Wg0UQ$riGbBpHKh9WoRUb0BogactJeyc97+TxMcYMeWbleWFY";

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Wrong password, or a stored hash we cannot read.
    Mismatch,
    /// Right password; `rehash` when the stored hash is not argon2id with
    /// the current parameters (bcrypt, older parameters).
    Match { rehash: bool },
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .expect("the argon2 parameter constants are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A fresh argon2id PHC string with a random salt.
///
/// The salt comes straight from `getrandom` 0.3, which uses `wasi:random`
/// natively on wasm32-wasip2, rather than through rand_core's `OsRng`
/// (getrandom 0.2, preview-1 `random_get`).
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; SALT_BYTES];
    // Hashing with a predictable salt would be worse than refusing to hash.
    getrandom::fill(&mut salt).expect("the system random number generator failed");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashing with valid parameters cannot fail")
        .to_string()
}

/// Checks `password` against a stored PHC argon2 string or a bcrypt hash
/// (`$2a$`, `$2b$`, `$2y$`). Comparison is constant-time (the crates').
///
/// A stored value we cannot read counts as a mismatch, never an error: the
/// caller must treat it exactly like a wrong password.
pub fn verify(password: &str, stored: &str) -> Verdict {
    if stored.starts_with("$argon2") {
        verify_argon2(password, stored)
    } else if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
    {
        match bcrypt::verify(password, stored) {
            // bcrypt is always upgraded on the next successful login.
            Ok(true) => Verdict::Match { rehash: true },
            Ok(false) | Err(_) => Verdict::Mismatch,
        }
    } else {
        Verdict::Mismatch
    }
}

fn verify_argon2(password: &str, stored: &str) -> Verdict {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verdict::Mismatch;
    };
    // The default instance verifies with the algorithm, version and
    // parameters written in the hash itself.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verdict::Mismatch;
    }
    Verdict::Match {
        rehash: !is_current(&parsed),
    }
}

/// Whether a hash already uses argon2id v0x13 with exactly our parameters.
fn is_current(parsed: &PasswordHash<'_>) -> bool {
    let Ok(params) = Params::try_from(parsed) else {
        return false;
    };
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && parsed.version == Some(Version::V0x13 as u32)
        && params.m_cost() == ARGON2_M_KIB
        && params.t_cost() == ARGON2_T
        && params.p_cost() == ARGON2_P
}

/// Spends the time of one real verification against a fixed argon2id hash,
/// so an unknown account costs what a wrong password costs.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All of "Nest-Password-1", made by real bcrypt implementations.
    const BCRYPT_FIXTURES: [(&str, &str); 3] = [
        (
            "Python bcrypt 5.0.0, 2a",
            "$2a$10$E6cUrJygtWEinOyAU4vNheT8U1kARFWA5wJBVtUdMqWxK8yzy27Jq",
        ),
        (
            "Python bcrypt 5.0.0, 2b",
            "$2b$10$4Jm20qw9kfSmnm19Dbndmut9gUPKzrohmjqst2.THYvIhBqvRI5vC",
        ),
        (
            "Apache htpasswd -B, 2y",
            "$2y$10$iMVV13sVTHFjy/anl6XEVuj2nr4rDEZ9v//byeH2WWCAH4jUiJucW",
        ),
    ];

    #[test]
    fn bcrypt_from_the_original_system() {
        for (origin, stored) in BCRYPT_FIXTURES {
            assert_eq!(
                verify("Nest-Password-1", stored),
                Verdict::Match { rehash: true },
                "{origin}"
            );
            assert_eq!(
                verify("nest-password-1", stored),
                Verdict::Mismatch,
                "{origin}"
            );
        }
    }

    #[test]
    fn argon2id_round_trip() {
        let stored = hash("correct horse");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert_eq!(
            verify("correct horse", &stored),
            Verdict::Match { rehash: false }
        );
        assert_eq!(verify("correct horse ", &stored), Verdict::Mismatch);
        assert_ne!(hash("correct horse"), stored, "each hash has its own salt");
    }

    #[test]
    fn older_argon2_parameters_are_upgraded() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(ARGON2_M_KIB, 1, ARGON2_P, None).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(weaker.contains("$m=19456,t=1,p=1$"));
        assert_eq!(verify("pw", &weaker), Verdict::Match { rehash: true });

        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            hasher().params().clone(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(argon2i.starts_with("$argon2i$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify("pw", &argon2i), Verdict::Match { rehash: true });
    }

    #[test]
    fn unreadable_hashes_are_mismatches() {
        for stored in [
            "",
            "pw",
            "$argon2",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$???",
            "$argon2id$v=19$m=0,t=0,p=0$Uio4gYyGlYUnnRk97Wg0UQ$riGbBpHKh9WoRUb0BogactJeyc97+TxMcYMeWbleWFY",
            "$argon2x$v=19$m=19456,t=2,p=1$Uio4gYyGlYUnnRk97Wg0UQ$riGbBpHKh9WoRUb0BogactJeyc97+TxMcYMeWbleWFY",
            "$2b$",
            "$2b$10$short",
            "$2b$99$4Jm20qw9kfSmnm19Dbndmut9gUPKzrohmjqst2.THYvIhBqvRI5vC",
            "$2x$10$4Jm20qw9kfSmnm19Dbndmut9gUPKzrohmjqst2.THYvIhBqvRI5vC",
            "$1$salt$hash",
            "{SSHA}abcdef",
        ] {
            assert_eq!(verify("pw", stored), Verdict::Mismatch, "{stored:?}");
        }
    }

    #[test]
    fn dummy_hash_costs_a_real_verification() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert!(is_current(&parsed));
        assert!(parsed.hash.is_some());
        verify_dummy("anything");
    }
}
