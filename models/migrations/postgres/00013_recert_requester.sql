-- Who filed the request each re-certification item is about, kept on the
-- item: "my items" is then one index range, not every pending item of the
-- estate joined to the requester's requests. A request's requester never
-- changes, so the copy cannot go stale.

-- +goose Up
ALTER TABLE recertifications ADD COLUMN requester_id bigint NOT NULL DEFAULT 0;
UPDATE recertifications SET requester_id = requests.requester_id FROM requests WHERE requests.id = recertifications.request_id;
CREATE INDEX idx_recertifications_requester_status ON recertifications (requester_id, status, id);

-- +goose Down
DROP INDEX idx_recertifications_requester_status;
ALTER TABLE recertifications DROP COLUMN requester_id;
