-- The police register as blocks (issue 20 item 0; crates/kyso-store/src/bulk/register_blocks.rs):
-- a register of ten million residents was ten million rows of `residents` and of `citizens`, with
-- their index entries, and a first load spent most of its time writing them. Residents are now
-- kept as blocks of up to 512 residents of one hamlet sorted by ID number, and ID blocks of up to
-- 4,096 ID numbers with where each lives; `citizens` keeps only people kyso has dealt with.
--
-- The rows of `residents` are converted into blocks by `Store::open` right after the migrations
-- (one transaction, the table dropped at its end); until then they wait as `residents_v26`.
DROP VIEW IF EXISTS federation_certificates;
DROP VIEW IF EXISTS federation_residents;
DROP TRIGGER residents_generation_insert;
DROP TRIGGER residents_generation_update;
DROP TRIGGER residents_generation_delete;
DROP INDEX residents_hamlet;
ALTER TABLE residents RENAME TO residents_v26;
CREATE TABLE register_blocks (
  commune_code TEXT NOT NULL,
  hamlet_code TEXT NOT NULL,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  n INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- the residents' birth days (days since 1970-01-01), sorted, as little-endian i32
  births BLOB NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (commune_code, hamlet_code, first_id),
  FOREIGN KEY (commune_code, hamlet_code) REFERENCES hamlets(commune_code, code)
) WITHOUT ROWID;
CREATE TABLE register_ids (
  first_id INTEGER PRIMARY KEY,
  last_id INTEGER NOT NULL,
  n INTEGER NOT NULL,
  data BLOB NOT NULL
);
