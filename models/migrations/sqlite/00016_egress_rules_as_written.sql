-- Egress rules read the way people write them: the source is our asset
-- that opens the connection, the destination the outside peer. Until now
-- they were stored the other way round (the peer as the source, our asset
-- as the destination), which is how the form and the API made people write
-- them. Swap the stored ones.
--
-- Such a rule is told by its destination: in the old orientation it held
-- our assets, so bare addresses or a zone name, never a CIDR (no '/') and
-- never "internet"; a rule already written the new way names its peer by
-- CIDR or as internet and is left alone. The audit log keeps its snapshots
-- as recorded (its chain is signed), so events before this migration show
-- egress rules in the old orientation: see docs/egress-rules.md.

-- +goose Up
UPDATE rules SET source = destination, destination = source
WHERE direction = 'egress' AND destination NOT LIKE '%/%' AND LOWER(destination) <> 'internet';

-- +goose Down
UPDATE rules SET source = destination, destination = source
WHERE direction = 'egress' AND source NOT LIKE '%/%' AND LOWER(source) <> 'internet';
