-- Login throttling that survives a restart (kyso-access/src/throttle.rs has the rule): per key —
-- an account (kind and a hash of the name typed, never the raw ID number), a client address, or
-- registrations from an address — the window opened by its first counted attempt and how many
-- attempts it holds. An attempt is counted before the password is checked and given back when the
-- password was right, in one conditional upsert per key (kyso-store/src/throttle.rs). Rows whose
-- window closed are pruned.
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,
  window_start BIGINT NOT NULL,
  attempts BIGINT NOT NULL
);
CREATE INDEX login_throttle_window ON login_throttle (window_start);
