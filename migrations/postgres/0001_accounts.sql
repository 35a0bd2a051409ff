-- Accounts and refresh tokens (PostgreSQL).
-- The auth component splits this file at semicolons and runs the statements
-- in one transaction: a semicolon may appear only as a statement terminator,
-- never in a comment or a string literal.
-- Times are unix milliseconds. Every integer is BIGINT so the component's
-- 64-bit parameters bind to every column under Spin as under the native host.

CREATE TABLE users (
    id            TEXT   NOT NULL PRIMARY KEY,
    email         TEXT   NOT NULL,
    email_key     TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    roles         TEXT   NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    next_login_at BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX users_created_at ON users (created_at, id);

CREATE TABLE refresh_tokens (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT NULL,
    revoked_at BIGINT NULL
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);

CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
