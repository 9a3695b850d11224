-- Reaching people (issue 21 items 4 and 5). The hotline: each question an operator logs (topic,
-- the unit it concerns, answered or not; the caller only masked, never in full) and the FAQ staff
-- edit, each entry with its text folded (lower case, no diacritics, đ → d) so that "chu ky so"
-- finds "chữ ký số" with LIKE on either backend. Operator hours are settings (hotline.*).
CREATE TABLE hotline_calls (
  id INTEGER PRIMARY KEY,
  province_code TEXT NOT NULL,
  commune_code TEXT,
  topic TEXT NOT NULL,
  question TEXT NOT NULL DEFAULT '',
  caller_masked TEXT NOT NULL DEFAULT '',
  resolved INTEGER NOT NULL CHECK (resolved IN (0, 1)),
  operator TEXT NOT NULL,
  called_at INTEGER NOT NULL
);
CREATE INDEX hotline_calls_at ON hotline_calls(called_at);
CREATE TABLE faq_entries (
  id INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  folded TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);
-- Training records: sessions (the day held, the unit, trainer, topic) and who attended (ID number,
-- name, staff or community-team volunteer), and the community digital-technology teams' rosters,
-- which with the staff lists make the denominator of "% trained".
CREATE TABLE training_sessions (
  id INTEGER PRIMARY KEY,
  unit_code TEXT NOT NULL,
  held_on TEXT NOT NULL,
  trainer TEXT NOT NULL,
  topic TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX training_sessions_unit ON training_sessions(unit_code, held_on);
CREATE TABLE training_attendance (
  session_id INTEGER NOT NULL REFERENCES training_sessions(id),
  id_number TEXT NOT NULL,
  full_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('staff', 'volunteer')),
  PRIMARY KEY (session_id, id_number)
);
CREATE TABLE community_team_members (
  unit_code TEXT NOT NULL,
  id_number TEXT NOT NULL,
  full_name TEXT NOT NULL,
  team TEXT NOT NULL,
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (unit_code, id_number)
);
