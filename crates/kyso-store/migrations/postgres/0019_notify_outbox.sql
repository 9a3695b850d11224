-- Notifications (issue 21): one outbox for e-mail, SMS and Zalo. A message is enqueued once per
-- idempotency key (the trigger, what it is about, the channel and the recipient), claimed for
-- delivery by one worker at a time (status 'sending' under a lease: claimed_until, claim_token),
-- retried with backoff (attempts, next_attempt_at) and ends sent, failed (attempts spent, or
-- expired: expires_at passed before delivery) or suppressed (opted out). The recipient is kept
-- to deliver; pages and audit rows show recipient_masked only.
-- person_id (the ID number of a resident recipient) is checked against the opt-outs when the
-- message is enqueued and again when it is claimed. Instants are Unix seconds.
CREATE TABLE notify_outbox (
  id BIGINT PRIMARY KEY,
  idem_key TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL CHECK (channel IN ('email','sms','zalo')),
  recipient TEXT NOT NULL,
  recipient_masked TEXT NOT NULL,
  person_id TEXT,
  unit_code TEXT NOT NULL,
  template TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','sending','sent','failed','suppressed')),
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  -- Not delivered from this instant on (a session that has begun, a certificate that has ended).
  expires_at BIGINT,
  claimed_until BIGINT,
  claim_token TEXT,
  last_error TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
CREATE INDEX notify_outbox_due ON notify_outbox(status, next_attempt_at);
CREATE INDEX notify_outbox_unit ON notify_outbox(unit_code, id);
-- Residents who asked to receive nothing (every channel), by ID number.
CREATE TABLE notify_optouts (
  id_number TEXT PRIMARY KEY,
  at BIGINT NOT NULL
);
-- Addresses beyond the mobile number given at registration (eid_accounts.phone): a resident's
-- e-mail, or another number for Zalo.
CREATE TABLE notify_person_contacts (
  id_number TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('email','sms','zalo')),
  address TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id_number, channel)
);
-- Where a unit's reminders go: agency '' is the unit's reporting officer; otherwise a lead unit
-- as the task register writes it ('Công an xã').
CREATE TABLE notify_unit_contacts (
  unit_code TEXT NOT NULL,
  agency TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('email','sms','zalo')),
  address TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (unit_code, agency, channel)
);
-- Per-channel rate limits: messages claimed in the current minute (one conditional upsert).
CREATE TABLE notify_rate (
  channel TEXT PRIMARY KEY,
  window_start BIGINT NOT NULL,
  claimed BIGINT NOT NULL
);
