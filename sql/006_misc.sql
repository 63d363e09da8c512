-- Miscellaneous: task attestations, hidden system logs, local projects, pricing configuration (SPEC §5.1).

CREATE TABLE task_attestations (
    id                 BIGSERIAL    NOT NULL,
    task_id            BIGINT       NOT NULL,
    task_type          VARCHAR(20)  NOT NULL,
    tdx_quote          BYTEA        NOT NULL,
    worker_measurement CHAR(96)     NOT NULL,
    request_id         BIGINT,
    caller_account_id  VARCHAR(64),
    transaction_hash   VARCHAR(64),
    block_height       BIGINT,
    call_id            UUID,
    payment_key_owner  VARCHAR(64),
    payment_key_nonce  BIGINT,
    repo_url           VARCHAR(512),
    commit_hash        VARCHAR(64),
    build_target       VARCHAR(64),
    wasm_hash          TEXT,
    input_hash         TEXT,
    output_hash        TEXT         NOT NULL,
    project_id         TEXT,
    secrets_ref        TEXT,
    attached_usd       TEXT,
    token_hash         TEXT,
    created_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT task_attestations_pkey PRIMARY KEY (id),
    CONSTRAINT task_attestations_task_type_check CHECK (task_type IN ('compile', 'execute', 'topup')),
    CONSTRAINT task_attestations_request_id_check CHECK (request_id >= 0),
    CONSTRAINT task_attestations_block_height_check CHECK (block_height >= 0),
    CONSTRAINT task_attestations_hash_length_check
        CHECK (task_id < 0 OR (length(output_hash) = 64
               AND (wasm_hash IS NULL OR length(wasm_hash) = 64)
               AND (input_hash IS NULL OR length(input_hash) = 64))),
    CONSTRAINT task_attestations_execute_input_hash_check
        CHECK (task_id < 0 OR task_type <> 'execute' OR input_hash IS NOT NULL)
);
CREATE INDEX task_attestations_task_id_id_idx ON task_attestations (task_id, id DESC);

CREATE TABLE system_hidden_logs (
    id              BIGSERIAL   NOT NULL,
    request_id      BIGINT      NOT NULL,
    job_id          BIGINT,
    log_type        VARCHAR(50) NOT NULL,
    stderr          TEXT,
    stdout          TEXT,
    exit_code       INTEGER,
    execution_error TEXT,
    token_hash      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT system_hidden_logs_pkey PRIMARY KEY (id)
);
CREATE INDEX system_hidden_logs_job_id_created_at_idx ON system_hidden_logs (job_id, created_at DESC);

CREATE TABLE local_projects (
    project_id     TEXT        NOT NULL,
    uuid           TEXT        NOT NULL,
    active_version TEXT        NOT NULL DEFAULT '',
    note           TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT local_projects_pkey PRIMARY KEY (project_id),
    CONSTRAINT local_projects_project_id_check CHECK (project_id ~ '^[^/]+/.+$'),
    CONSTRAINT local_projects_uuid_key UNIQUE (uuid)
);

CREATE TABLE pricing_config (
    id         SMALLINT    NOT NULL,
    config     JSONB       NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT pricing_config_pkey PRIMARY KEY (id),
    CONSTRAINT pricing_config_id_check CHECK (id = 1)
);
COMMENT ON COLUMN pricing_config.config IS 'the eleven pricing keys, as fetched from the contract';
