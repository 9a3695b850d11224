-- A provider-list provider as the lists write it ("Viettel-CA"): `name` stays the upper-case key
-- that rows are matched on, `shown` is what pages and commands print (NULL: the key).
ALTER TABLE list_providers ADD COLUMN shown TEXT;
