-- One-use form tokens (only their SHA-256 is stored). A citizen's activation form carries one:
-- the token is consumed in the same transaction as the certificate it issues, so a resubmitted
-- or replayed form never issues a second one. The desk carries the person it checked to the
-- session form by one (purpose 'desk-person'; owner = the officer, subject = the ID number),
-- never by the ID number in the URL.
CREATE TABLE form_tokens (
  token_hash BYTEA PRIMARY KEY,
  purpose TEXT NOT NULL,
  owner TEXT NOT NULL,
  subject TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX form_tokens_expiry ON form_tokens(expires_at);
-- A support point's opening hours as its staff write them, e.g. "7:30–11:30, 13:30–17:00".
ALTER TABLE support_points ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';
