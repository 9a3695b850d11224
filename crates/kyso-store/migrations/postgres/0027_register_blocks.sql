-- The police register as blocks (issue 20 item 0; crates/kyso-store/src/bulk/register_blocks.rs):
-- a register of ten million residents was ten million rows of `residents` and of `citizens`, with
-- their index entries, and a first load spent most of its time writing them. Residents are now
-- kept as blocks of up to 512 residents of one hamlet sorted by ID number, with their birth days
-- sorted beside them, and ID blocks of up to 4,096 ID numbers with where each lives; `citizens`
-- keeps only people kyso has dealt with.
--
-- The rows of `residents` are converted into blocks by `Store::open` right after the migrations
-- (one transaction, the table dropped at its end); until then they wait as `residents_v26`.
DROP VIEW federation_certificates;
DROP VIEW federation_residents;
DROP TRIGGER residents_generation ON residents;
DROP INDEX residents_hamlet;
ALTER TABLE residents RENAME TO residents_v26;
CREATE TABLE register_blocks (
  commune_code TEXT NOT NULL,
  hamlet_code TEXT NOT NULL,
  first_id BIGINT NOT NULL,
  last_id BIGINT NOT NULL,
  n INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  -- the residents' birth days (days since 1970-01-01), sorted: width_bucket(day, births) counts
  -- those born on or before a day
  births INTEGER[] NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (commune_code, hamlet_code, first_id),
  FOREIGN KEY (commune_code, hamlet_code) REFERENCES hamlets(commune_code, code)
);
CREATE TABLE register_ids (
  first_id BIGINT PRIMARY KEY,
  last_id BIGINT NOT NULL,
  n INTEGER NOT NULL,
  data BYTEA NOT NULL
);
DO $$
BEGIN
  ALTER TABLE register_blocks ALTER COLUMN data SET COMPRESSION lz4;
  ALTER TABLE register_blocks ALTER COLUMN births SET COMPRESSION lz4;
  ALTER TABLE register_ids ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available: register blocks stay compressed with pglz';
END $$;
-- What the nation's coordinator reads of a province's register (docs/DEPLOYMENT.md): per block its
-- count and sorted birth days (no ID number, no name), and the ID blocks for a person look-up.
-- The ID blocks and certificates belong to no commune: their province is the one the coordinator
-- names when it connects (`-c kyso.province_code=NN`), as for the provider-list blocks; a province
-- database holds only its own province's register and kyso's certificates of its citizens.
CREATE VIEW federation_register AS
  SELECT c.province_code, b.commune_code, b.hamlet_code, b.n, b.births
  FROM register_blocks b JOIN admin_communes c ON c.code = b.commune_code;
CREATE VIEW federation_register_ids AS
  SELECT current_setting('kyso.province_code', true) AS province_code, first_id, last_id, data FROM register_ids;
CREATE VIEW federation_certificates AS
  SELECT current_setting('kyso.province_code', true) AS province_code, c.id_number, c.serial, c.issuer_id,
    c.not_before, c.not_after, c.revoked_at
  FROM certificates c WHERE c.profile = 'citizen';
