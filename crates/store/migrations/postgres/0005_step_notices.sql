-- Who was told that a step waits for them, and agreements without a signer order of their own (PostgreSQL).
-- Keep in step with ../sqlite/0005_step_notices.sql.

-- One row per turn of a step that its actors were emailed about: the step's opening
-- (turn ''), or, on an agreement step, one signer's turn on one version of the text
-- ('<version id>:<signer role>'). Telling is done once per turn: a row here means done.
CREATE TABLE step_notices (
    request_id BIGINT NOT NULL REFERENCES access_requests(id),
    step_key TEXT NOT NULL,
    turn TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, step_key, turn)
);

-- Each agreement step of a process template names its signers, in order; an agreement no
-- longer has an order of its own.
ALTER TABLE agreements DROP COLUMN signers;
