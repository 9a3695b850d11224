-- PIN (and one-time code) checks in flight per credential: a check takes a slot before it runs,
-- and failed_pins + pin_checks never exceeds the five attempts (kyso-store/src/pins.rs). Slots
-- older than a minute with no newer reservation are taken as left behind by a stopped process.
ALTER TABLE credentials ADD COLUMN pin_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN pin_checks_at BIGINT NOT NULL DEFAULT 0;
