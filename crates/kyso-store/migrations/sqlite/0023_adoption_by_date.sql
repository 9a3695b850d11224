-- The roll-up reads one day's snapshots of every commune (issue 20 item 1). The primary key
-- (commune_code, date) finds a commune's days; this index finds a day's communes, so the roll-up
-- costs the same after years of daily snapshots as on the first day.
CREATE INDEX adoption_snapshots_date ON adoption_snapshots (date, commune_code, holders, adults);
