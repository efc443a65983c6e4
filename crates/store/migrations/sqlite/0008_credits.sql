-- Training credits: each agency's balance, every movement of its ledger, and the charges
-- to invoice when a paid course is assigned with no credit left (SQLite).
-- Keep in step with ../postgres/0008_credits.sql.
--
-- A credit pays for one paid course. The balance row is the one place a draw takes from:
-- `UPDATE ... SET balance = balance - 1 WHERE agency_id = ? AND balance >= 1` inside the
-- assigning transaction, so the balance never goes below zero (the CHECK says so too).

CREATE TABLE training_credit_balances (
    agency_id INTEGER PRIMARY KEY REFERENCES agencies(id),
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at TEXT NOT NULL
);

-- kind: granted, bought, drawn, refunded. credits is the signed change; balance_after the
-- balance once it was made. A purchase carries what was paid and its reference; a draw and
-- a refund the person, course and request they concern.
CREATE TABLE training_credit_movements (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    kind TEXT NOT NULL CHECK (kind IN ('granted', 'bought', 'drawn', 'refunded')),
    credits INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    amount_cents INTEGER,
    reference TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    person_id INTEGER REFERENCES people(id),
    course_id INTEGER REFERENCES courses(id),
    request_id INTEGER REFERENCES access_requests(id),
    recorded_by INTEGER REFERENCES people(id),
    at TEXT NOT NULL
);
CREATE INDEX training_credit_movements_by_agency ON training_credit_movements (agency_id, id);
-- One draw, and at most one refund, per person, course and request.
CREATE UNIQUE INDEX training_credit_movements_once ON training_credit_movements (request_id, person_id, course_id, kind)
    WHERE kind IN ('drawn', 'refunded');

-- A paid course assigned when the agency had no credit: its price, to invoice to the
-- requesting agency's administrator (invoices come later). status: open, cancelled.
CREATE TABLE training_charges (
    id INTEGER PRIMARY KEY,
    implementation_id INTEGER NOT NULL REFERENCES implementations(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    request_id INTEGER REFERENCES access_requests(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT,
    cancelled_reason TEXT,
    UNIQUE (request_id, person_id, course_id)
);
CREATE INDEX training_charges_by_agency ON training_charges (agency_id, status, id);
