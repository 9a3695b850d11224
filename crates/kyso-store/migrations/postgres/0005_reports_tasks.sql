-- Reports, tasks, segment targets and staff lists: the figures a report carried when it was
-- submitted (name → count, so a roll-up sums what units reported, not today's numbers), a plan's
-- task register (Appendix II), segment targets per (unit, period) in assignment order, and staff
-- lists for 100 %-of-staff targets. Dates are ISO text in Vietnam time; instants Unix seconds.
CREATE TABLE report_figures (
  report_id BIGINT NOT NULL REFERENCES report_submissions(id),
  name TEXT NOT NULL,
  value BIGINT NOT NULL,
  PRIMARY KEY (report_id, name)
);
CREATE INDEX report_submissions_period ON report_submissions(frequency, period_start);
CREATE TABLE campaign_tasks (
  id BIGINT PRIMARY KEY,
  unit_code TEXT NOT NULL,
  number TEXT NOT NULL,
  name TEXT NOT NULL,
  lead TEXT NOT NULL DEFAULT '',
  coordinating TEXT NOT NULL DEFAULT '',
  expected_result TEXT NOT NULL DEFAULT '',
  deadline TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('not_started','in_progress','done')),
  note TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  UNIQUE (unit_code, number)
);
CREATE TABLE segment_sets (
  unit_code TEXT NOT NULL,
  period TEXT NOT NULL,
  total BIGINT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (unit_code, period)
);
CREATE TABLE segment_targets (
  unit_code TEXT NOT NULL,
  period TEXT NOT NULL,
  position BIGINT NOT NULL,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  target BIGINT NOT NULL,
  membership TEXT NOT NULL CHECK (membership IN ('tagged','everyone')),
  PRIMARY KEY (unit_code, period, key),
  FOREIGN KEY (unit_code, period) REFERENCES segment_sets(unit_code, period)
);
CREATE TABLE staff_members (
  unit_code TEXT NOT NULL,
  id_number TEXT NOT NULL,
  full_name TEXT NOT NULL,
  agency TEXT NOT NULL,
  segment_key TEXT,
  deadline TEXT,
  imported_at BIGINT NOT NULL,
  PRIMARY KEY (unit_code, id_number)
);
