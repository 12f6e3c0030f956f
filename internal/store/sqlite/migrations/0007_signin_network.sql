-- The network of a sign-in's address, as sign-in throttling counts
-- failures (store.SignIn.Network): a login's lock spares the networks it
-- signed in from with its password. IPv4 rows get their address; older
-- IPv6 rows stay empty (their /64 cannot be computed here) and so count as
-- unknown until the next sign-in from there.
ALTER TABLE signins ADD COLUMN network TEXT NOT NULL DEFAULT '';
UPDATE signins SET network = addr WHERE addr NOT LIKE '%:%';
CREATE INDEX signins_seen_network ON signins (login, ok, credential, network);
