-- Campaign tracker: administrative units, the police register (residents), plans with their
-- milestones (versioned: a new version never overwrites an old one), daily adoption snapshots,
-- append-only visit outcomes and report submissions. Dates are ISO 'YYYY-MM-DD' text in Vietnam
-- time; instants are Unix seconds.
CREATE TABLE admin_provinces (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE admin_communes (
  code TEXT PRIMARY KEY,
  province_code TEXT NOT NULL REFERENCES admin_provinces(code),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('commune','ward','special_zone')),
  lat REAL NOT NULL,
  lon REAL NOT NULL,
  area_km2 REAL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX admin_communes_province ON admin_communes(province_code);
CREATE TABLE hamlets (
  commune_code TEXT NOT NULL REFERENCES admin_communes(code),
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
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
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (commune_code, hamlet_code) REFERENCES hamlets(commune_code, code)
);
CREATE INDEX residents_hamlet ON residents(commune_code, hamlet_code);
CREATE TABLE campaign_plans (
  id INTEGER PRIMARY KEY,
  unit_code TEXT NOT NULL,
  period TEXT NOT NULL,
  version INTEGER NOT NULL,
  min_age INTEGER NOT NULL CHECK (min_age IN (14,15,16,18)),
  reference_date TEXT NOT NULL,
  target_kind TEXT NOT NULL CHECK (target_kind IN ('level','increment','unknown')),
  target_percent_hundredths INTEGER,
  target_absolute INTEGER,
  baseline_count INTEGER NOT NULL,
  baseline_date TEXT NOT NULL,
  baseline_source TEXT NOT NULL,
  deadline TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  CHECK ((target_percent_hundredths IS NULL) <> (target_absolute IS NULL)),
  UNIQUE (unit_code, period, version)
);
CREATE TABLE campaign_milestones (
  plan_id INTEGER NOT NULL REFERENCES campaign_plans(id),
  date TEXT NOT NULL,
  percent_hundredths INTEGER,
  absolute INTEGER,
  CHECK ((percent_hundredths IS NULL) <> (absolute IS NULL)),
  PRIMARY KEY (plan_id, date)
);
CREATE TABLE adoption_snapshots (
  commune_code TEXT NOT NULL,
  date TEXT NOT NULL,
  holders INTEGER NOT NULL,
  adults INTEGER NOT NULL,
  taken_at INTEGER NOT NULL,
  PRIMARY KEY (commune_code, date)
);
CREATE TABLE visits (
  seq INTEGER PRIMARY KEY,
  commune_code TEXT NOT NULL,
  hamlet_code TEXT NOT NULL,
  id_hash BLOB NOT NULL,
  id_masked TEXT NOT NULL,
  outcome TEXT NOT NULL,
  provider TEXT,
  team TEXT NOT NULL,
  visit_date TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX visits_hamlet ON visits(commune_code, hamlet_code, visit_date);
CREATE TRIGGER visits_no_update BEFORE UPDATE ON visits BEGIN SELECT RAISE(ABORT, 'visits are append-only'); END;
CREATE TRIGGER visits_no_delete BEFORE DELETE ON visits BEGIN SELECT RAISE(ABORT, 'visits are append-only'); END;
CREATE TABLE report_submissions (
  id INTEGER PRIMARY KEY,
  unit_code TEXT NOT NULL,
  frequency TEXT NOT NULL CHECK (frequency IN ('weekly','monthly')),
  period_start TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,
  submitted_by TEXT NOT NULL,
  difficulties TEXT NOT NULL DEFAULT '',
  proposals TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_submissions_unit ON report_submissions(unit_code, period_start);
