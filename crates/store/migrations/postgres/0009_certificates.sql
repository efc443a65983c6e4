-- Certificates and the rate limit of their public verification page (PostgreSQL).
-- Keep in step with ../sqlite/0009_certificates.sql.

-- One row per certificate issued: a person completed a course version (subject_kind
-- 'course', subject_ref '<course key>:<version>') or their training plan (subject_kind
-- 'plan', subject_ref the part of the plan, '' for all of it). A person gets one
-- certificate per subject; issuing again gives back the same one, revoked or not.
-- person_name is the name as certified, kept as it was on the day of issue.
CREATE TABLE certificates (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    person_name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('course', 'plan')),
    subject_ref TEXT NOT NULL,
    title TEXT NOT NULL,
    completed_at TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ,
    issued_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_reason TEXT,
    UNIQUE (person_id, subject_kind, subject_ref)
);
CREATE INDEX certificates_by_person ON certificates (implementation_id, person_id, issued_at);

-- Each look-up of a code on the public verification page, by client address, kept for
-- the rate limit's window only.
CREATE TABLE certificate_lookups (
    id BIGSERIAL PRIMARY KEY,
    source_addr TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX certificate_lookups_by_addr ON certificate_lookups (source_addr, at);
CREATE INDEX certificate_lookups_by_time ON certificate_lookups (at);
