-- Provider lists: certificates that telecom providers report having issued (imported from their
-- CSV/XLSX lists). One row per certificate, identified by (ID number, provider, issue date), so a
-- re-import updates instead of duplicating. Rows whose ID number is not (yet) in the register are
-- kept and count as soon as the register has the person. Dates are ISO 'YYYY-MM-DD' (Vietnam).
CREATE TABLE provider_certificates (
  id_number TEXT NOT NULL,
  provider TEXT NOT NULL,
  issued_on TEXT NOT NULL,
  -- The first day the certificate no longer counts (its expiry); the latest list that gives one wins.
  expires_on TEXT,
  -- Revoked on this day, or reported revoked/expired without a date on a list of this day; the earliest wins.
  ended_on TEXT,
  status TEXT NOT NULL CHECK (status IN ('active','revoked','expired')),
  source TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (id_number, provider, issued_on)
);
