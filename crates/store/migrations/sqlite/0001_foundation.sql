-- Onramp foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql.
-- Timestamps are RFC 3339 text in UTC; dates are YYYY-MM-DD text.

CREATE TABLE implementations (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hmis_lead_name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE implementation_cocs (
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    coc_code TEXT NOT NULL,
    PRIMARY KEY (implementation_id, coc_code)
);

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    name TEXT NOT NULL,
    participation_status TEXT NOT NULL,
    participation_date TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (implementation_id, name)
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    hud_project_type INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (agency_id, name)
);
CREATE INDEX projects_by_implementation ON projects (implementation_id, name);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    email TEXT NOT NULL,
    agency_id INTEGER REFERENCES agencies(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (implementation_id, email)
);
CREATE INDEX people_by_agency ON people (agency_id, family_name);
CREATE INDEX people_by_name ON people (implementation_id, family_name, given_name);

CREATE TABLE accounts (
    person_id INTEGER PRIMARY KEY REFERENCES people(id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    password_set_at TEXT,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    mfa_secret TEXT,
    mfa_pending_secret TEXT,
    mfa_enabled_at TEXT,
    last_sign_in_at TEXT
);

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    code_hash TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_by_person ON recovery_codes (person_id);

CREATE TABLE implementation_roles (
    person_id INTEGER NOT NULL REFERENCES people(id),
    role TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE agency_roles (
    person_id INTEGER NOT NULL REFERENCES people(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    role TEXT NOT NULL,
    PRIMARY KEY (person_id, agency_id, role)
);
CREATE INDEX agency_roles_by_agency ON agency_roles (agency_id);

CREATE TABLE access_levels (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (implementation_id, code)
);

CREATE TABLE responsibilities (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (implementation_id, code)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    stage TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    source_addr TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_by_person ON sessions (person_id);

CREATE TABLE one_time_tokens (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    person_id INTEGER NOT NULL REFERENCES people(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE sign_in_attempts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    source_addr TEXT NOT NULL,
    at TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX sign_in_attempts_by_addr ON sign_in_attempts (source_addr, at);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    implementation_id INTEGER,
    occurred_at TEXT NOT NULL,
    actor_id INTEGER,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id INTEGER,
    summary TEXT NOT NULL,
    source_addr TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_by_implementation ON audit_events (implementation_id, seq);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE email_templates (
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (implementation_id, key)
);
