-- Serving programs keep validated worker tokens in memory (lib/coord_auth.c). Every change that
-- can revoke one (is_active, the hash, the worker name, a deleted row) notifies the channel
-- coord_cache_invalidate, on which each of their connections listens: a revocation applies to
-- the next request, whatever did it (coord-worker-token, an admin route, psql). The touch of
-- last_used_at does not name these columns and does not notify.

CREATE FUNCTION coord_notify_cache_invalidate() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coord_cache_invalidate', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER worker_auth_tokens_invalidate
    AFTER UPDATE OF token_hash, worker_name, is_active OR DELETE OR TRUNCATE
    ON worker_auth_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION coord_notify_cache_invalidate();
