-- Access requests, process templates, agreements and HMIS accounts (PostgreSQL).
-- Keep in step with ../sqlite/0002_access_requests.sql.

CREATE TABLE implementation_settings (
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (implementation_id, key)
);

-- Every saved version of a template is kept; requests point at the version they started with.
CREATE TABLE process_templates (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by BIGINT REFERENCES people(id),
    UNIQUE (implementation_id, key, version)
);

CREATE TABLE agreements (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    signers TEXT NOT NULL,
    resign_yearly BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (implementation_id, key)
);

CREATE TABLE agreement_versions (
    id BIGSERIAL PRIMARY KEY,
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by BIGINT REFERENCES people(id),
    UNIQUE (agreement_id, version)
);

CREATE TABLE access_requests (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    requested_by BIGINT NOT NULL REFERENCES people(id),
    template_id BIGINT NOT NULL REFERENCES process_templates(id),
    status TEXT NOT NULL,
    is_returning BOOLEAN NOT NULL,
    access_level TEXT NOT NULL,
    responsibilities TEXT NOT NULL,
    note TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    submitted_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ,
    welcomed_at TIMESTAMPTZ
);
CREATE INDEX access_requests_by_status ON access_requests (implementation_id, status, submitted_at);
CREATE INDEX access_requests_by_person ON access_requests (person_id);
CREATE INDEX access_requests_by_agency ON access_requests (agency_id, status);

CREATE TABLE access_request_projects (
    request_id BIGINT NOT NULL REFERENCES access_requests(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    PRIMARY KEY (request_id, project_id)
);

CREATE TABLE request_steps (
    request_id BIGINT NOT NULL REFERENCES access_requests(id),
    step_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    opened_at TIMESTAMPTZ,
    done_at TIMESTAMPTZ,
    done_by BIGINT REFERENCES people(id),
    note TEXT NOT NULL DEFAULT '',
    due_at TIMESTAMPTZ,
    sla_due_at TIMESTAMPTZ,
    sla_breached_at TIMESTAMPTZ,
    warned_at TIMESTAMPTZ,
    reminded_at TIMESTAMPTZ,
    PRIMARY KEY (request_id, step_key)
);
CREATE INDEX request_steps_open ON request_steps (status, due_at);

CREATE TABLE request_messages (
    id BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES access_requests(id),
    author_id BIGINT REFERENCES people(id),
    author_label TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX request_messages_by_request ON request_messages (request_id, id);

CREATE TABLE signatures (
    id BIGSERIAL PRIMARY KEY,
    agreement_version_id BIGINT NOT NULL REFERENCES agreement_versions(id),
    request_id BIGINT REFERENCES access_requests(id),
    subject_person_id BIGINT NOT NULL REFERENCES people(id),
    signer_person_id BIGINT NOT NULL REFERENCES people(id),
    signer_role TEXT NOT NULL,
    typed_name TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    source_addr TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    text_sha256 TEXT NOT NULL
);
CREATE INDEX signatures_by_subject ON signatures (subject_person_id, agreement_version_id);
CREATE INDEX signatures_by_request ON signatures (request_id);

CREATE TABLE staff_verifications (
    id BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES access_requests(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    attested_by BIGINT NOT NULL REFERENCES people(id),
    background_check_on DATE NOT NULL,
    attested_at TIMESTAMPTZ NOT NULL
);

-- A person's training history: what they completed, on which request, and how.
CREATE TABLE training_records (
    id BIGSERIAL PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people(id),
    kind TEXT NOT NULL,
    step_key TEXT NOT NULL,
    request_id BIGINT REFERENCES access_requests(id),
    completed_at TIMESTAMPTZ NOT NULL,
    how TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX training_records_by_person ON training_records (person_id, kind, completed_at);

CREATE TABLE hmis_accounts (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    request_id BIGINT REFERENCES access_requests(id),
    username TEXT NOT NULL,
    access_level TEXT NOT NULL,
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    projects TEXT NOT NULL,
    status TEXT NOT NULL,
    first_sign_in_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (implementation_id, username)
);
CREATE INDEX hmis_accounts_by_person ON hmis_accounts (person_id);

CREATE TABLE hmis_account_events (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES hmis_accounts(id),
    status TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor_id BIGINT REFERENCES people(id),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hmis_account_events_by_account ON hmis_account_events (account_id, id);
