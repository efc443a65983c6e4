-- A number that changes whenever any course of the implementation changes, so that a
-- course catalogue read once can be kept until the number moves.
ALTER TABLE implementations ADD COLUMN catalogue_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER courses_catalogue_insert AFTER INSERT ON courses BEGIN
    UPDATE implementations SET catalogue_version = catalogue_version + 1 WHERE id = NEW.implementation_id;
END;

CREATE TRIGGER courses_catalogue_update AFTER UPDATE ON courses BEGIN
    UPDATE implementations SET catalogue_version = catalogue_version + 1
    WHERE id IN (OLD.implementation_id, NEW.implementation_id);
END;

CREATE TRIGGER courses_catalogue_delete AFTER DELETE ON courses BEGIN
    UPDATE implementations SET catalogue_version = catalogue_version + 1 WHERE id = OLD.implementation_id;
END;
