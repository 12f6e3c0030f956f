-- Issue 17. users.region: the country of phone numbers written without a
-- country code in the user's books (ISO 3166 alpha-2; '' = the server's
-- --region). users.time_zone: the IANA zone the pages show times in (''
-- = the browser's). merges.batch: the token shared by the merges of one
-- "merge all", so that one undo undoes them all ('' = a merge on its own).
ALTER TABLE users ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE merges ADD COLUMN batch TEXT NOT NULL DEFAULT '';
