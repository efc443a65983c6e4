-- Training reports count completions per course (PostgreSQL).
-- Keep in step with ../sqlite/0010_training_reports.sql.
CREATE INDEX completions_by_item ON completions (implementation_id, item_kind, item_key, person_id);
