-- Per-user settings of issue 13. language: the user's language for mails
-- ("en", "fr", "de", "it"; '' = not known). mail_off: the kinds of security
-- mail the user turned off, comma-separated. backend: '' for a local
-- password, 'imap' for a user whose password the mail server checks.
-- two_factor: a second factor is on (kept by the second-factor methods).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mail_off TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN backend TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN two_factor BOOLEAN NOT NULL DEFAULT FALSE;
