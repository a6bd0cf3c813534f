-- Sends: updates of existing prospects matched by their Pardot id (the spec's "SELECT 'xxx' AS id").
-- Against the demo database (pardot-frames demo --out DIR; then --database DIR/demo.duckdb):
-- every 10th prospect Pardot holds gets source 'sql sample' and a score of 100.
SELECT
    id,
    'sql sample' AS source,
    100 AS score
FROM pardot_prospects
WHERE id % 10 = 0
ORDER BY id
