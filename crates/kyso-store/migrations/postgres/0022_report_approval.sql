-- Report approval (issue 21 item 6, after DHIS2's data approval): each submission is submitted,
-- approved or returned (with a reason) by the level above; a transition is one conditional
-- UPDATE (… WHERE state = 'submitted'), and no submission follows an approved one for the same
-- unit and period. Reporting agencies (commune police, telecom providers, mass organisations)
-- report beside administrative units under codes such as 01960-CA.
ALTER TABLE report_submissions ADD COLUMN state TEXT NOT NULL DEFAULT 'submitted'
  CHECK (state IN ('submitted', 'approved', 'returned'));
ALTER TABLE report_submissions ADD COLUMN reviewed_by TEXT;
ALTER TABLE report_submissions ADD COLUMN reviewed_at BIGINT;
ALTER TABLE report_submissions ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
CREATE TABLE reporting_agencies (
  code TEXT PRIMARY KEY,
  unit_code TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('police', 'telecom', 'mass_org', 'other')),
  updated_at BIGINT NOT NULL
);
