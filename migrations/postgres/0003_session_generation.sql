-- Every access token names the session generation of its account, and a token
-- whose generation is no longer that of the account is refused. A role change, a
-- password change, logging out of every session and an Admin ending the
-- sessions add one, so each ends every access token at once.
ALTER TABLE users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
