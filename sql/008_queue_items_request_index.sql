-- Completing a compile job derives the execute item from the payload of the job's own queue
-- item, else from the newest item of its (request_id, data_id) in any state (lib/coord_jobs.c,
-- jobs_base_payload). The index of 002 covers open items only: without this one, that lookup
-- read the whole table, once per completed compile job.

CREATE INDEX queue_items_request_id_data_id_idx ON queue_items (request_id, data_id, item_id);
