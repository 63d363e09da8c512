-- Serving programs remember, per checksum, the content_hash and verified stat of a wasm_cache
-- row and serve downloads from that memory while the file's stat matches it (SPEC §3.2.5,
-- lib/coord_wasmmem.c). Every statement that deletes a row or changes one of those columns
-- notifies the channel coord_cache_invalidate, on which each of their connections listens,
-- with the payload 'wasm_cache:<checksum>' per such row ('wasm_cache' alone, "forget every
-- checksum", for a TRUNCATE or a statement touching more than 100 rows), whatever did it
-- (an upload, an eviction, psql). The flushes of download counts change only access_count and
-- last_accessed_at and notify nothing: what the programs remember has not changed. The token
-- memory (sql/007_token_cache.sql) shares the channel and ignores these payloads.

CREATE FUNCTION coord_notify_wasm_cache_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    changed text[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.checksum) INTO changed FROM old_rows o;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT coalesce(o.checksum, n.checksum)) INTO changed
        FROM old_rows o FULL JOIN new_rows n ON n.checksum = o.checksum
        WHERE o.checksum IS NULL OR n.checksum IS NULL
           OR (o.content_hash, o.verified_size, o.verified_mtime_ns, o.verified_inode)
              IS DISTINCT FROM
              (n.content_hash, n.verified_size, n.verified_mtime_ns, n.verified_inode);
    END IF;
    IF TG_OP = 'TRUNCATE' OR cardinality(changed) > 100 THEN
        PERFORM pg_notify('coord_cache_invalidate', 'wasm_cache');
    ELSIF changed IS NOT NULL THEN
        PERFORM pg_notify('coord_cache_invalidate', 'wasm_cache:' || c) FROM unnest(changed) c;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER wasm_cache_forget_update
    AFTER UPDATE ON wasm_cache
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION coord_notify_wasm_cache_changed();

CREATE TRIGGER wasm_cache_forget_delete
    AFTER DELETE ON wasm_cache
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION coord_notify_wasm_cache_changed();

CREATE TRIGGER wasm_cache_forget_truncate
    AFTER TRUNCATE ON wasm_cache
    FOR EACH STATEMENT EXECUTE FUNCTION coord_notify_wasm_cache_changed();
