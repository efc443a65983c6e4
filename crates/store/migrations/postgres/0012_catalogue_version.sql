-- A number that changes whenever any course of the implementation changes, so that a
-- course catalogue read once can be kept until the number moves.
ALTER TABLE implementations ADD COLUMN catalogue_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION courses_catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE implementations SET catalogue_version = catalogue_version + 1 WHERE id = OLD.implementation_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.implementation_id <> OLD.implementation_id) THEN
        UPDATE implementations SET catalogue_version = catalogue_version + 1 WHERE id = NEW.implementation_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER courses_catalogue AFTER INSERT OR UPDATE OR DELETE ON courses
    FOR EACH ROW EXECUTE FUNCTION courses_catalogue_bump();
