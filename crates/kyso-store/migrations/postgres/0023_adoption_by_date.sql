-- The roll-up reads one day's snapshots of every commune (issue 20 item 1). The primary key
-- (commune_code, date) finds a commune's days; this index finds a day's communes (an index-only
-- scan), so the roll-up costs the same after years of daily snapshots as on the first day: with a
-- year of them (1.2 M rows) PostgreSQL scanned the whole table, ~150 ms, instead of ~9 ms.
CREATE INDEX adoption_snapshots_date ON adoption_snapshots (date, commune_code) INCLUDE (holders, adults);
-- The provider-list blocks and the register index are large binary values that PostgreSQL
-- compresses: lz4 writes a national list's blocks in ~0.7 s where the default pglz took ~2.9 s
-- (and reads them as fast). New values only; a server built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE provider_cert_blocks ALTER COLUMN data SET COMPRESSION lz4;
  ALTER TABLE register_index ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 is not available: provider-list blocks and the register index stay compressed with pglz';
END $$;
