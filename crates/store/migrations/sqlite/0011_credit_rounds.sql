-- Paid courses paid for again (SQLite). Keep in step with ../postgres/0011_credit_rounds.sql.
--
-- A draw refunded (its request closed, or the course dropped from a recomputed plan) may be
-- drawn again when the request is reopened or the course comes back: each draw and its
-- refund share a round (1, 2, ...), and there is at most one draw and one refund per round.
-- A person's course on a request is paid for while its latest draw has no refund.
ALTER TABLE training_credit_movements ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
DROP INDEX training_credit_movements_once;
CREATE UNIQUE INDEX training_credit_movements_once ON training_credit_movements (request_id, person_id, course_id, kind, round)
    WHERE kind IN ('drawn', 'refunded');
