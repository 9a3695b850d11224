-- campaign tracker tables (filled in by the campaign-tracker work)
CREATE TABLE campaign_placeholder (id BIGINT PRIMARY KEY);
