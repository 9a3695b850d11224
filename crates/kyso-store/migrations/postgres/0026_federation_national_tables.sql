-- The rest of a province's national tables as the coordinator reads them (docs/DEPLOYMENT.md,
-- "Nation: partitioning and federation"; migration 25 did the adoption snapshots): the
-- coordinator's nation_residents, nation_certificates and nation_provider_blocks are partitioned
-- by province code, each province's partition a postgres_fdw foreign table over these views.
--
-- Residents carry no name (the nation needs who lives where, born when, not what they are
-- called); certificates are kyso's own citizen certificates of registered residents, the same
-- join the holder lists use. Both take the province code from the commune. Provider-list blocks
-- are packed per ID range and belong to no commune: their province is the one the coordinator
-- names when it connects (the foreign server's `options '-c kyso.province_code=NN'`), so it is
-- the partition's own code by construction; read directly (not through the coordinator) it is
-- NULL. Each block row carries the province's provider-code → name table, which the records'
-- provider codes index (codes are per database).
CREATE VIEW federation_residents AS
  SELECT c.province_code, r.commune_code, r.hamlet_code, r.id_number, r.date_of_birth, r.sex
  FROM residents r JOIN admin_communes c ON c.code = r.commune_code;
CREATE VIEW federation_certificates AS
  SELECT a.province_code, c.id_number, c.serial, c.issuer_id, c.not_before, c.not_after, c.revoked_at
  FROM certificates c JOIN residents r ON r.id_number = c.id_number JOIN admin_communes a ON a.code = r.commune_code
  WHERE c.profile = 'citizen';
CREATE VIEW federation_provider_blocks AS
  SELECT current_setting('kyso.province_code', true) AS province_code, b.first_id, b.last_id, b.records, b.data,
    ARRAY(SELECT p.code FROM list_providers p ORDER BY p.code) AS provider_codes,
    ARRAY(SELECT COALESCE(p.shown, p.name) FROM list_providers p ORDER BY p.code) AS provider_names
  FROM provider_cert_blocks b;
