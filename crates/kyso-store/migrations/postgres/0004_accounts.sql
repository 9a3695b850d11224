-- Citizen e-ID accounts (level 1 self-registered, level 2 verified in person), staff accounts
-- with one role and one scope each, support points and the sessions held at them, and web
-- login sessions (only the SHA-256 of the cookie is stored). Instants are Unix seconds.
CREATE TABLE eid_accounts (
  id_number TEXT PRIMARY KEY,
  phone TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  level BIGINT NOT NULL CHECK (level IN (1,2)),
  -- The 2022 plan's three activation cases, plus plain self-registration:
  -- registered (level 1) · awaiting_approval (dossier filed, waiting) ·
  -- issued_with_card (issued with a new/renewed chip card) · self_activated (existing chip card).
  activation TEXT NOT NULL CHECK (activation IN ('registered','awaiting_approval','issued_with_card','self_activated')),
  verified_method TEXT,
  verified_by TEXT,
  verified_place TEXT,
  verified_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE support_points (
  id TEXT PRIMARY KEY,
  commune_code TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('one_stop','commune','university','industrial_zone','bank','station','mobile')),
  address TEXT NOT NULL,
  -- ISO weekdays it opens, e.g. '123456' (Monday–Saturday).
  opening_days TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX support_points_commune ON support_points(commune_code);
CREATE TABLE staff_accounts (
  username TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  scope_kind TEXT NOT NULL CHECK (scope_kind IN ('national','province','commune','provider')),
  scope_code TEXT NOT NULL,
  point_id TEXT REFERENCES support_points(id),
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE support_sessions (
  id BIGINT PRIMARY KEY,
  point_id TEXT NOT NULL REFERENCES support_points(id),
  staff TEXT NOT NULL,
  id_hash BYTEA NOT NULL,
  id_masked TEXT NOT NULL,
  -- Comma-separated steps done: eid_level2, certificate_issued, first_signature, pin_unlock, advice.
  steps TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('completed','partial','referred','declined')),
  day TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX support_sessions_point ON support_sessions(point_id, day);
CREATE TABLE web_sessions (
  token_hash BYTEA PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('citizen','staff')),
  subject TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
