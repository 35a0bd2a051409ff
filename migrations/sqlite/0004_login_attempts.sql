-- The login slow-down, kept per normalised email address, whether or not an
-- account has it: an attempt refused before its password is checked is
-- answered 429 for known and unknown addresses alike, which tells nothing.
-- A row goes with a successful check, or after a day without attempts.
-- users.failed_logins and users.next_login_at are no longer written: they
-- stay until every replica runs this version (a rolling update).
CREATE TABLE login_attempts (
    email_key       TEXT    NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    held_until      INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL
);

CREATE INDEX login_attempts_last_attempt_at ON login_attempts (last_attempt_at);
