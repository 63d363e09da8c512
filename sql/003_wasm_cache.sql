-- WASM cache: one row per compiled module file, keyed by its checksum (SPEC §5.1).

CREATE TABLE wasm_cache (
    checksum          CHAR(64)    NOT NULL,
    repo_url          TEXT        NOT NULL,
    commit_hash       TEXT        NOT NULL,
    build_target      TEXT        NOT NULL DEFAULT 'wasm32-wasip1',
    file_size         BIGINT      NOT NULL,
    content_hash      CHAR(64)    NOT NULL,
    access_count      BIGINT      NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_accessed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    verified_size     BIGINT      NOT NULL,
    verified_mtime_ns BIGINT      NOT NULL,
    verified_inode    BIGINT      NOT NULL,
    CONSTRAINT wasm_cache_pkey PRIMARY KEY (checksum),
    CONSTRAINT wasm_cache_checksum_check CHECK (checksum ~ '^[0-9a-f]{64}$'),
    CONSTRAINT wasm_cache_file_size_check CHECK (file_size >= 0)
);
COMMENT ON COLUMN wasm_cache.verified_size IS 'stat of the file when content_hash was last checked';
COMMENT ON COLUMN wasm_cache.verified_mtime_ns IS 'stat of the file when content_hash was last checked';
COMMENT ON COLUMN wasm_cache.verified_inode IS 'stat of the file when content_hash was last checked';
CREATE INDEX wasm_cache_repo_url_commit_hash_build_target_idx
    ON wasm_cache (repo_url, commit_hash, build_target);
CREATE INDEX wasm_cache_last_accessed_at_idx ON wasm_cache (last_accessed_at);
