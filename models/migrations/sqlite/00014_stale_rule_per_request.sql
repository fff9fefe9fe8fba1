-- An approved-closed drift item (a rule in force whose port the scan found
-- closed) belongs to the request whose rule it is: two requests approving
-- the same port were folded into one item citing one of them, so the other
-- showed no drift, and a request still waiting for implementation hid a
-- stale rule of another. The key now ends with the request, as the scanner
-- side writes it; items already stored keep their history under the new key.

-- +goose Up
UPDATE drift_items SET "key" = "key" || '|request-' || CAST(request_id AS TEXT)
 WHERE kind = 'approved-closed' AND request_id <> 0 AND "key" NOT LIKE '%|request-%';

-- +goose Down
UPDATE drift_items SET "key" = substr("key", 1, length("key") - length('|request-' || CAST(request_id AS TEXT)))
 WHERE kind = 'approved-closed' AND request_id <> 0 AND "key" LIKE '%|request-%';
