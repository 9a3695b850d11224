-- National-scale campaign data (see the SQLite migration of the same number). PostgreSQL keeps
-- provider_certificates as it is: its tables are heaps beside their key index either way.

CREATE TABLE register_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation BIGINT NOT NULL
);
INSERT INTO register_state (id, generation) VALUES (1, 0);
CREATE FUNCTION kyso_register_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE register_state SET generation = generation + 1 WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER residents_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON residents
  FOR EACH STATEMENT EXECUTE FUNCTION kyso_register_generation_bump();

CREATE TABLE register_index (
  part INTEGER PRIMARY KEY,
  generation BIGINT NOT NULL,
  data BYTEA NOT NULL
);
