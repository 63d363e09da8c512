-- Project storage: encrypted key/value rows and per-account usage counters (SPEC §5.1).

CREATE TABLE storage_keys (
    id              BIGSERIAL   NOT NULL,
    project_uuid    VARCHAR(64) NOT NULL,
    account_id      VARCHAR(64) NOT NULL,
    key_hash        VARCHAR(64) NOT NULL,
    wasm_hash       VARCHAR(64) NOT NULL,
    encrypted_key   BYTEA       NOT NULL,
    encrypted_value BYTEA       NOT NULL,
    is_encrypted    BOOLEAN     NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT storage_keys_pkey PRIMARY KEY (id),
    CONSTRAINT storage_keys_project_uuid_account_id_key_hash_key
        UNIQUE (project_uuid, account_id, key_hash)
);
CREATE INDEX storage_keys_wasm_hash_account_id_key_hash_idx
    ON storage_keys (wasm_hash, account_id, key_hash);
CREATE INDEX storage_keys_project_uuid_account_id_created_at_idx
    ON storage_keys (project_uuid, account_id, created_at);

CREATE TABLE storage_usage (
    project_uuid VARCHAR(64) NOT NULL,
    account_id   VARCHAR(64) NOT NULL,
    total_bytes  BIGINT      NOT NULL DEFAULT 0,
    key_count    INTEGER     NOT NULL DEFAULT 0,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT storage_usage_pkey PRIMARY KEY (project_uuid, account_id)
);
