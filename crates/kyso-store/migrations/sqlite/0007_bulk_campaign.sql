-- National-scale campaign data.
--
-- Provider certificates keyed by their identity alone: one B-tree (no rowid table beside a key
-- index), which a bulk import fills in key order. The status check is spelled with `=`: SQLite
-- evaluates `IN (three constants)` by building a temporary B-tree on every row it checks, which
-- was half the cost of inserting a row.
CREATE TABLE provider_certificates_keyed (
  id_number TEXT NOT NULL,
  provider TEXT NOT NULL,
  issued_on TEXT NOT NULL,
  expires_on TEXT,
  ended_on TEXT,
  status TEXT NOT NULL CHECK (status = 'active' OR status = 'revoked' OR status = 'expired'),
  source TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (id_number, provider, issued_on)
) WITHOUT ROWID;
INSERT INTO provider_certificates_keyed (id_number, provider, issued_on, expires_on, ended_on, status, source, first_seen, updated_at)
  SELECT id_number, provider, issued_on, expires_on, ended_on, status, source, first_seen, updated_at FROM provider_certificates;
DROP TABLE provider_certificates;
ALTER TABLE provider_certificates_keyed RENAME TO provider_certificates;

-- The register's generation: every write to `residents` bumps it (triggers, so no code path can
-- forget), and the register index below is valid only for the generation it was built from.
CREATE TABLE register_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL
);
INSERT INTO register_state (id, generation) VALUES (1, 0);
CREATE TRIGGER residents_generation_insert AFTER INSERT ON residents
  BEGIN UPDATE register_state SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER residents_generation_update AFTER UPDATE ON residents
  BEGIN UPDATE register_state SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER residents_generation_delete AFTER DELETE ON residents
  BEGIN UPDATE register_state SET generation = generation + 1 WHERE id = 1; END;

-- The register as sorted columns (ID number, commune, date of birth), encoded by the campaign
-- core and split into parts: derived data, rebuilt from `residents` whenever it is stale.
CREATE TABLE register_index (
  part INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL,
  data BLOB NOT NULL
);
