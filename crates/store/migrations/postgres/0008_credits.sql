-- Training credits: each agency's balance, every movement of its ledger, and the charges
-- to invoice when a paid course is assigned with no credit left (PostgreSQL).
-- Keep in step with ../sqlite/0008_credits.sql.
--
-- A credit pays for one paid course. The balance row is the one place a draw takes from:
-- `UPDATE ... SET balance = balance - 1 WHERE agency_id = ? AND balance >= 1` inside the
-- assigning transaction, so the balance never goes below zero (the CHECK says so too).

CREATE TABLE training_credit_balances (
    agency_id BIGINT PRIMARY KEY REFERENCES agencies(id),
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at TIMESTAMPTZ NOT NULL
);

-- kind: granted, bought, drawn, refunded. credits is the signed change; balance_after the
-- balance once it was made. A purchase carries what was paid and its reference; a draw and
-- a refund the person, course and request they concern.
CREATE TABLE training_credit_movements (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL CHECK (kind IN ('granted', 'bought', 'drawn', 'refunded')),
    credits BIGINT NOT NULL,
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    amount_cents BIGINT,
    reference TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    person_id BIGINT REFERENCES people(id),
    course_id BIGINT REFERENCES courses(id),
    request_id BIGINT REFERENCES access_requests(id),
    recorded_by BIGINT REFERENCES people(id),
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX training_credit_movements_by_agency ON training_credit_movements (agency_id, id);
-- One draw, and at most one refund, per person, course and request.
CREATE UNIQUE INDEX training_credit_movements_once ON training_credit_movements (request_id, person_id, course_id, kind)
    WHERE kind IN ('drawn', 'refunded');

-- A paid course assigned when the agency had no credit: its price, to invoice to the
-- requesting agency's administrator (invoices come later). status: open, cancelled.
CREATE TABLE training_charges (
    id BIGSERIAL PRIMARY KEY,
    implementation_id BIGINT NOT NULL REFERENCES implementations(id),
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    course_id BIGINT NOT NULL REFERENCES courses(id),
    request_id BIGINT REFERENCES access_requests(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
    reason TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ,
    cancelled_reason TEXT,
    UNIQUE (request_id, person_id, course_id)
);
CREATE INDEX training_charges_by_agency ON training_charges (agency_id, status, id);
