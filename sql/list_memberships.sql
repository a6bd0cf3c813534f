-- Sends: list memberships from literal values (the spec's sample), with data_object = list_memberships.
-- Against the demo: list 7002 ("Event attendees") and prospects 1001-1003, which the demo export created.
SELECT
    list_id,
    prospect_id
FROM (VALUES (7002, 1001), (7002, 1002), (7002, 1003)) AS table1(list_id, prospect_id)
