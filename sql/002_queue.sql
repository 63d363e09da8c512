-- Work queue: execution requests, jobs, queue items, per-job result history and their sequences (SPEC §5.1).

CREATE TABLE execution_requests (
    request_id                BIGINT        NOT NULL,
    data_id                   TEXT          NOT NULL,
    code_source               JSONB,
    input_data                TEXT,
    max_instructions          BIGINT,
    max_memory_mb             BIGINT,
    max_execution_seconds     BIGINT,
    secrets_profile           TEXT,
    secrets_account_id        TEXT,
    response_format           TEXT          NOT NULL DEFAULT 'Text',
    context_sender_id         TEXT,
    context_block_height      BIGINT,
    context_block_timestamp   BIGINT,
    context_contract_id       TEXT,
    context_transaction_hash  TEXT,
    context_receipt_id        TEXT,
    context_predecessor_id    TEXT,
    context_signer_public_key TEXT,
    context_gas_burnt         BIGINT,
    user_account_id           TEXT,
    near_payment_yocto        NUMERIC(38,0) NULL
        CONSTRAINT execution_requests_near_payment_yocto_check CHECK (near_payment_yocto >= 0),
    attached_usd              NUMERIC(38,0) NULL
        CONSTRAINT execution_requests_attached_usd_check CHECK (attached_usd >= 0),
    transaction_hash          TEXT,
    compile_only              BOOLEAN       NOT NULL DEFAULT false,
    force_rebuild             BOOLEAN       NOT NULL DEFAULT false,
    store_on_fastfs           BOOLEAN       NOT NULL DEFAULT false,
    compile_result            TEXT,
    project_uuid              TEXT,
    project_id                TEXT,
    is_https_call             BOOLEAN       NOT NULL DEFAULT false,
    call_id                   UUID,
    payment_key_owner         TEXT,
    payment_key_nonce         BIGINT,
    usd_payment               NUMERIC(38,0) NULL
        CONSTRAINT execution_requests_usd_payment_check CHECK (usd_payment >= 0),
    compute_limit_usd         NUMERIC(38,0) NULL
        CONSTRAINT execution_requests_compute_limit_usd_check CHECK (compute_limit_usd >= 0),
    attached_deposit_usd      NUMERIC(38,0) NULL
        CONSTRAINT execution_requests_attached_deposit_usd_check CHECK (attached_deposit_usd >= 0),
    version_key               TEXT,
    wallet_id                 TEXT,
    created_at                TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at                TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT execution_requests_pkey PRIMARY KEY (request_id),
    CONSTRAINT execution_requests_request_id_check CHECK (request_id >= 0),
    CONSTRAINT execution_requests_response_format_check
        CHECK (response_format IN ('Bytes', 'Text', 'Json')),
    CONSTRAINT execution_requests_call_id_key UNIQUE (call_id)
);

CREATE SEQUENCE https_request_id_seq START 100000000000;

CREATE TABLE jobs (
    job_id             BIGSERIAL     NOT NULL,
    request_id         BIGINT        NOT NULL,
    data_id            TEXT          NOT NULL,
    job_type           TEXT          NOT NULL,
    status             TEXT          NOT NULL DEFAULT 'pending',
    worker_id          TEXT,
    token_hash         TEXT,
    wasm_checksum      TEXT,
    user_account_id    TEXT,
    near_payment_yocto NUMERIC(38,0) NULL
        CONSTRAINT jobs_near_payment_yocto_check CHECK (near_payment_yocto >= 0),
    github_repo        TEXT,
    github_commit      TEXT,
    wasm_url           TEXT,
    wasm_content_hash  TEXT,
    build_target       TEXT,
    transaction_hash   TEXT,
    project_uuid       TEXT,
    project_id         TEXT,
    error_details      TEXT,
    compile_cost_yocto NUMERIC(38,0) NULL
        CONSTRAINT jobs_compile_cost_yocto_check CHECK (compile_cost_yocto >= 0),
    compile_error      TEXT,
    compile_time_ms    BIGINT,
    attempts           INTEGER       NOT NULL DEFAULT 0,
    lease_id           UUID,
    lease_expires_at   TIMESTAMPTZ,
    claimed_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ   NOT NULL DEFAULT now(),
    completed_at       TIMESTAMPTZ,
    CONSTRAINT jobs_pkey PRIMARY KEY (job_id),
    CONSTRAINT jobs_job_type_check CHECK (job_type IN ('compile', 'execute')),
    CONSTRAINT jobs_status_check CHECK (status IN ('pending', 'in_progress',
        'completed', 'failed', 'compilation_failed', 'execution_failed', 'access_denied',
        'insufficient_payment', 'custom')),
    CONSTRAINT jobs_in_progress_lease_check CHECK ((status = 'in_progress') = (lease_id IS NOT NULL)),
    CONSTRAINT jobs_request_id_data_id_job_type_key UNIQUE (request_id, data_id, job_type)
);
CREATE INDEX jobs_lease_expires_at_in_progress_idx
    ON jobs (lease_expires_at) WHERE status = 'in_progress';
CREATE INDEX jobs_worker_id_token_hash_in_progress_idx
    ON jobs (worker_id, token_hash) WHERE status = 'in_progress';

CREATE TABLE queue_items (
    item_id          BIGSERIAL   NOT NULL,
    queue            TEXT        NOT NULL,
    payload          TEXT        NOT NULL,
    request_id       BIGINT,
    data_id          TEXT,
    call_id          UUID,
    task_type        TEXT,
    task_id          BIGINT,
    dedupe_key       TEXT,
    state            TEXT        NOT NULL DEFAULT 'queued',
    attempts         INTEGER     NOT NULL DEFAULT 0,
    moves            INTEGER     NOT NULL DEFAULT 0,
    lease_id         UUID,
    leased_to        TEXT,
    leased_at        TIMESTAMPTZ,
    lease_expires_at TIMESTAMPTZ,
    job_id           BIGINT
        CONSTRAINT queue_items_job_id_fkey REFERENCES jobs (job_id),
    close_reason     TEXT,
    pushed_at        TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at        TIMESTAMPTZ,
    CONSTRAINT queue_items_pkey PRIMARY KEY (item_id),
    CONSTRAINT queue_items_queue_check CHECK (queue IN ('compile', 'execute', 'system_callbacks')),
    CONSTRAINT queue_items_state_check
        CHECK (state IN ('queued', 'leased', 'claimed', 'done', 'dead')),
    CONSTRAINT queue_items_leased_lease_expires_at_check
        CHECK ((state = 'leased') = (lease_expires_at IS NOT NULL)),
    CONSTRAINT queue_items_closed_closed_at_check
        CHECK ((state IN ('done', 'dead')) = (closed_at IS NOT NULL))
);
CREATE INDEX queue_items_queue_item_id_queued_idx
    ON queue_items (queue, item_id) WHERE state = 'queued';
CREATE INDEX queue_items_request_id_data_id_open_idx
    ON queue_items (request_id, data_id) WHERE state IN ('queued', 'leased', 'claimed');
CREATE INDEX queue_items_lease_expires_at_leased_idx
    ON queue_items (lease_expires_at) WHERE state = 'leased';
CREATE INDEX queue_items_job_id_idx ON queue_items (job_id);
CREATE INDEX queue_items_call_id_queued_leased_idx
    ON queue_items (call_id) WHERE state IN ('queued', 'leased');
CREATE INDEX queue_items_dedupe_key_created_at_system_callbacks_idx
    ON queue_items (dedupe_key, created_at) WHERE queue = 'system_callbacks';
CREATE INDEX queue_items_closed_at_closed_idx
    ON queue_items (closed_at) WHERE state IN ('done', 'dead');

CREATE SEQUENCE topup_task_id_seq;
CREATE SEQUENCE delete_payment_key_task_id_seq;
CREATE SEQUENCE project_storage_cleanup_task_id_seq;

CREATE TABLE execution_results (
    id                 BIGSERIAL     NOT NULL,
    job_id             BIGINT
        CONSTRAINT execution_results_job_id_fkey REFERENCES jobs (job_id),
    request_id         BIGINT        NOT NULL,
    data_id            TEXT,
    job_type           TEXT,
    worker_id          TEXT          NOT NULL,
    success            BOOLEAN       NOT NULL,
    execution_time_ms  BIGINT,
    compile_time_ms    BIGINT,
    instructions_used  BIGINT,
    memory_used_bytes  BIGINT,
    resolve_tx_id      TEXT,
    user_account_id    TEXT,
    near_payment_yocto NUMERIC(38,0) NULL
        CONSTRAINT execution_results_near_payment_yocto_check CHECK (near_payment_yocto >= 0),
    actual_cost_yocto  NUMERIC(38,0) NULL
        CONSTRAINT execution_results_actual_cost_yocto_check CHECK (actual_cost_yocto >= 0),
    compile_cost_yocto NUMERIC(38,0) NULL
        CONSTRAINT execution_results_compile_cost_yocto_check CHECK (compile_cost_yocto >= 0),
    github_repo        TEXT,
    github_commit      TEXT,
    transaction_hash   TEXT,
    is_https_call      BOOLEAN       NOT NULL DEFAULT false,
    call_id            UUID,
    project_id         TEXT,
    created_at         TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT execution_results_pkey PRIMARY KEY (id),
    CONSTRAINT execution_results_job_type_check CHECK (job_type IN ('compile', 'execute'))
);
COMMENT ON COLUMN execution_results.memory_used_bytes IS 'always NULL; reserved';
COMMENT ON COLUMN execution_results.resolve_tx_id IS 'always NULL; reserved';
CREATE INDEX execution_results_created_at_id_idx ON execution_results (created_at DESC, id DESC);
CREATE INDEX execution_results_user_account_id_created_at_idx
    ON execution_results (user_account_id, created_at DESC);
CREATE INDEX execution_results_worker_id_idx ON execution_results (worker_id);
CREATE INDEX execution_results_github_repo_idx ON execution_results (github_repo);
CREATE INDEX execution_results_job_id_idx ON execution_results (job_id);
