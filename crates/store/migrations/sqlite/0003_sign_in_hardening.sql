-- Sign-in hardening (SQLite). Keep in step with ../postgres/0003_sign_in_hardening.sql.

-- The last TOTP time step accepted for the account: a code of that step or earlier is refused.
ALTER TABLE accounts ADD COLUMN mfa_last_step BIGINT;

-- A session moved to MFA enrolment while signed in (a role granted mid-session) must confirm
-- the password before it may set up two-step sign-in.
ALTER TABLE sessions ADD COLUMN mfa_needs_password BOOLEAN NOT NULL DEFAULT FALSE;

-- The authenticator secret this session is setting up, waiting for its first code. Kept per
-- session, so that another session of the same person never sees or confirms it.
ALTER TABLE sessions ADD COLUMN mfa_pending_secret TEXT;

-- API tokens may expire; NULL never does.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
