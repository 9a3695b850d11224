-- Campaign tracker: administrative units, the police register (residents), plans with their
-- milestones (versioned: a new version never overwrites an old one), daily adoption snapshots,
-- append-only visit outcomes and report submissions. Dates are ISO 'YYYY-MM-DD' text in Vietnam
-- time; instants are Unix seconds.
CREATE TABLE admin_provinces (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE admin_communes (
  code TEXT PRIMARY KEY,
  province_code TEXT NOT NULL REFERENCES admin_provinces(code),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('commune','ward','special_zone')),
  lat DOUBLE PRECISION NOT NULL,
  lon DOUBLE PRECISION NOT NULL,
  area_km2 DOUBLE PRECISION,
  updated_at BIGINT NOT NULL
);
CREATE INDEX admin_communes_province ON admin_communes(province_code);
CREATE TABLE hamlets (
  commune_code TEXT NOT NULL REFERENCES admin_communes(code),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (commune_code, code)
);
CREATE TABLE residents (
  id_number TEXT PRIMARY KEY,
  full_name TEXT,
  date_of_birth TEXT NOT NULL,
  sex TEXT NOT NULL CHECK (sex IN ('M','F')),
  commune_code TEXT NOT NULL,
  hamlet_code TEXT NOT NULL,
  household TEXT,
  updated_at BIGINT NOT NULL,
  FOREIGN KEY (commune_code, hamlet_code) REFERENCES hamlets(commune_code, code)
);
CREATE INDEX residents_hamlet ON residents(commune_code, hamlet_code);
CREATE TABLE campaign_plans (
  id BIGINT PRIMARY KEY,
  unit_code TEXT NOT NULL,
  period TEXT NOT NULL,
  version BIGINT NOT NULL,
  min_age BIGINT NOT NULL CHECK (min_age IN (14,15,16,18)),
  reference_date TEXT NOT NULL,
  target_kind TEXT NOT NULL CHECK (target_kind IN ('level','increment','unknown')),
  target_percent_hundredths BIGINT,
  target_absolute BIGINT,
  baseline_count BIGINT NOT NULL,
  baseline_date TEXT NOT NULL,
  baseline_source TEXT NOT NULL,
  deadline TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  CHECK ((target_percent_hundredths IS NULL) <> (target_absolute IS NULL)),
  UNIQUE (unit_code, period, version)
);
CREATE TABLE campaign_milestones (
  plan_id BIGINT NOT NULL REFERENCES campaign_plans(id),
  date TEXT NOT NULL,
  percent_hundredths BIGINT,
  absolute BIGINT,
  CHECK ((percent_hundredths IS NULL) <> (absolute IS NULL)),
  PRIMARY KEY (plan_id, date)
);
CREATE TABLE adoption_snapshots (
  commune_code TEXT NOT NULL,
  date TEXT NOT NULL,
  holders BIGINT NOT NULL,
  adults BIGINT NOT NULL,
  taken_at BIGINT NOT NULL,
  PRIMARY KEY (commune_code, date)
);
CREATE TABLE visits (
  seq BIGINT PRIMARY KEY,
  commune_code TEXT NOT NULL,
  hamlet_code TEXT NOT NULL,
  id_hash BYTEA NOT NULL,
  id_masked TEXT NOT NULL,
  outcome TEXT NOT NULL,
  provider TEXT,
  team TEXT NOT NULL,
  visit_date TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX visits_hamlet ON visits(commune_code, hamlet_code, visit_date);
CREATE FUNCTION visits_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'visits are append-only';
END;
$$;
CREATE TRIGGER visits_no_change BEFORE UPDATE OR DELETE ON visits FOR EACH ROW EXECUTE FUNCTION visits_append_only();
CREATE TABLE report_submissions (
  id BIGINT PRIMARY KEY,
  unit_code TEXT NOT NULL,
  frequency TEXT NOT NULL CHECK (frequency IN ('weekly','monthly')),
  period_start TEXT NOT NULL,
  submitted_at BIGINT NOT NULL,
  submitted_by TEXT NOT NULL,
  difficulties TEXT NOT NULL DEFAULT '',
  proposals TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_submissions_unit ON report_submissions(unit_code, period_start);
