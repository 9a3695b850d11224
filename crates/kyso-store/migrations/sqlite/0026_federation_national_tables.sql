-- The rest of a province's national tables as a PostgreSQL coordinator reads them (see the
-- PostgreSQL migration of the same number). On SQLite (a commune pilot, never federated) the
-- residents and certificates views exist too, unused; the provider-block view has no province
-- code (PostgreSQL takes it from the coordinator's connection setting, which SQLite lacks) nor
-- the provider tables, which are read from list_providers directly.
CREATE VIEW federation_residents AS
  SELECT c.province_code, r.commune_code, r.hamlet_code, r.id_number, r.date_of_birth, r.sex
  FROM residents r JOIN admin_communes c ON c.code = r.commune_code;
CREATE VIEW federation_certificates AS
  SELECT a.province_code, c.id_number, c.serial, c.issuer_id, c.not_before, c.not_after, c.revoked_at
  FROM certificates c JOIN residents r ON r.id_number = c.id_number JOIN admin_communes a ON a.code = r.commune_code
  WHERE c.profile = 'citizen';
CREATE VIEW federation_provider_blocks AS
  SELECT NULL AS province_code, b.first_id, b.last_id, b.records, b.data
  FROM provider_cert_blocks b;
