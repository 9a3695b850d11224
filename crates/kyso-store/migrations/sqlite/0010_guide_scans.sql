-- Scans of the guidance QR code posted at each support point, per day: a demand signal, no
-- personal data (no address, cookie or device is kept).
CREATE TABLE guide_scans (
  point_id TEXT NOT NULL,
  day TEXT NOT NULL,
  scans BIGINT NOT NULL,
  PRIMARY KEY (point_id, day)
);
