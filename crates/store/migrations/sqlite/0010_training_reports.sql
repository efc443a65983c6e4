-- Training reports count completions per course (SQLite).
-- Keep in step with ../postgres/0010_training_reports.sql.
CREATE INDEX completions_by_item ON completions (implementation_id, item_kind, item_key, person_id);
