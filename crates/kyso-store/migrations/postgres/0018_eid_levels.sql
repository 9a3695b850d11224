-- e-ID levels as the police list them (issue 21): per ID number the level (2: verified in person)
-- and the day the police give for it. Matched to the register on the ID number; a row of someone
-- not (yet) in the register is kept and counts once the register has them.
CREATE TABLE eid_levels (
  id_number TEXT PRIMARY KEY,
  level BIGINT NOT NULL CHECK (level IN (1, 2)),
  verified_on TEXT,
  updated_at BIGINT NOT NULL
);
