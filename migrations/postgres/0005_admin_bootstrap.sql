-- The bootstrap Admin is made once per admin_email: a row here says it was
-- (the account made, found an Admin, or promoted), so later instances
-- leave that account alone. An Admin's demotion or deletion of it lasts,
-- and a changed admin_password promotes nobody.
CREATE TABLE admin_bootstrap (
    email_key TEXT   NOT NULL PRIMARY KEY,
    done_at   BIGINT NOT NULL
);
