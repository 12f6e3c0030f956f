-- A merged-away name or UID holds only while the card it lives on in is
-- there: the last survivor of its chain, under its name, with the UID it
-- had when it took the card in (survivor_uid). Existing records get the UID
-- that a later merge removed the survivor with, else the UID the survivor
-- has now.
ALTER TABLE merged_away ADD COLUMN survivor_uid TEXT NOT NULL DEFAULT '';
UPDATE merged_away SET survivor_uid = COALESCE(
    (SELECT l.uid FROM merged_away l
        WHERE l.collection = merged_away.collection AND l.name = merged_away.survivor
            AND l.merge_id > merged_away.merge_id
        ORDER BY l.merge_id LIMIT 1),
    (SELECT o.uid FROM objects o
        WHERE o.collection = merged_away.collection AND o.name = merged_away.survivor),
    '');

-- The newest record of a name or UID is read from the index, in order,
-- without a sort.
DROP INDEX merged_away_name;
DROP INDEX merged_away_uid;
CREATE INDEX merged_away_name ON merged_away (collection, name, merge_id);
CREATE INDEX merged_away_uid ON merged_away (collection, uid, merge_id);
