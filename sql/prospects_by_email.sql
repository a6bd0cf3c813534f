-- Sends: prospects keyed by email (the spec's "SELECT email"). Without upsert_by_email each row creates
-- a prospect; with upsert_by_email = true rows whose email Pardot knows update that prospect instead.
-- Against the demo database: the demo prospects' names and companies.
SELECT
    email,
    first_name,
    last_name,
    company
FROM demo_prospects
WHERE email LIKE '%@%'
