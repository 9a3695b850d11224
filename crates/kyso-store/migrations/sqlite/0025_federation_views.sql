-- A province's figures as the national coordinator reads them (docs/DEPLOYMENT.md, "Nation:
-- partitioning and federation"): the coordinator's nation_adoption table is partitioned by
-- province code, and each province's partition is a postgres_fdw foreign table over this view,
-- whose rows carry the partition key. On SQLite (a commune pilot) the view exists too, unused.
CREATE VIEW federation_adoption AS
  SELECT c.province_code, s.commune_code, s.date, s.holders, s.adults
  FROM adoption_snapshots s JOIN admin_communes c ON c.code = s.commune_code;
