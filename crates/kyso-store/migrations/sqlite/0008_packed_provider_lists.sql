-- Provider-list certificates packed per ID range (see kyso-store/src/listed.rs): one row holds the
-- certificates of a run of ID numbers, sorted by (ID number, provider, issue day), as fixed-width
-- 32-byte records. A national list of 4 million certificates is ~15,000 rows instead of 4
-- million, which is what lets an import store it in well under a second. An ID number's
-- certificates are never split over two rows, so the row holding an ID is the one with the
-- greatest first_id not above it.
CREATE TABLE list_providers (
  code INTEGER PRIMARY KEY CHECK (code >= 0 AND code < 65535),
  name TEXT NOT NULL UNIQUE
);
-- Every import of a list: records name the import that first reported them and the last that changed them.
CREATE TABLE provider_list_imports (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  imported_at INTEGER NOT NULL
);
CREATE TABLE provider_cert_blocks (
  first_id INTEGER PRIMARY KEY,
  last_id INTEGER NOT NULL,
  records INTEGER NOT NULL,
  data BLOB NOT NULL,
  CHECK (last_id >= first_id AND records > 0 AND length(data) = records * 32)
);
-- The one-row-per-certificate table of migrations 6-7 is converted into blocks by the store
-- right after this migration (Store::convert_v7_provider_certificates), then dropped.
ALTER TABLE provider_certificates RENAME TO provider_certificates_v7;
