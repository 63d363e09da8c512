-- Billing: payment keys, balances, top-ups, grants, HTTPS calls, usage, idempotency keys, project-owner earnings (SPEC §4, §5.1).

CREATE TABLE payment_keys (
    owner           TEXT          NOT NULL,
    nonce           BIGINT        NOT NULL,
    key_hash        CHAR(64)      NOT NULL,
    initial_balance NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_keys_initial_balance_check CHECK (initial_balance >= 0),
    project_ids     TEXT[]        NOT NULL DEFAULT '{}',
    max_per_call    NUMERIC(38,0) NULL
        CONSTRAINT payment_keys_max_per_call_check CHECK (max_per_call > 0),
    is_grant        BOOLEAN       NOT NULL DEFAULT false,
    funded_at       TIMESTAMPTZ,
    created_at      TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ   NOT NULL DEFAULT now(),
    deleted_at      TIMESTAMPTZ,
    CONSTRAINT payment_keys_pkey PRIMARY KEY (owner, nonce),
    CONSTRAINT payment_keys_nonce_check CHECK (nonce BETWEEN 0 AND 4294967295),
    CONSTRAINT payment_keys_key_hash_check CHECK (key_hash ~ '^[0-9a-f]{64}$')
);
COMMENT ON COLUMN payment_keys.project_ids IS 'empty = all projects';
CREATE INDEX payment_keys_created_at_live_grant_idx
    ON payment_keys (created_at) WHERE is_grant AND deleted_at IS NULL;

CREATE TABLE payment_key_balances (
    owner            TEXT          NOT NULL,
    nonce            BIGINT        NOT NULL,
    spent            NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_balances_spent_check CHECK (spent >= 0),
    reserved         NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_balances_reserved_check CHECK (reserved >= 0),
    last_used_at     TIMESTAMPTZ,
    last_reserved_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT payment_key_balances_pkey PRIMARY KEY (owner, nonce)
);

CREATE TABLE payment_key_topups (
    id                  BIGSERIAL     NOT NULL,
    owner               TEXT          NOT NULL,
    nonce               BIGINT        NOT NULL,
    amount              NUMERIC(38,0) NULL
        CONSTRAINT payment_key_topups_amount_check CHECK (amount >= 0),
    new_initial_balance NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_topups_new_initial_balance_check CHECK (new_initial_balance >= 0),
    mode                TEXT          NOT NULL,
    created_at          TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT payment_key_topups_pkey PRIMARY KEY (id),
    CONSTRAINT payment_key_topups_mode_check CHECK (mode IN ('add', 'set'))
);
CREATE UNIQUE INDEX payment_key_topups_owner_nonce_new_balance_amount_add_key
    ON payment_key_topups (owner, nonce, new_initial_balance, amount) WHERE mode = 'add';

CREATE TABLE payment_key_grants (
    id                    BIGSERIAL     NOT NULL,
    owner                 TEXT          NOT NULL,
    nonce                 BIGINT        NOT NULL,
    amount                NUMERIC(38,0) NOT NULL,
    note                  TEXT,
    source                TEXT          NOT NULL,
    initial_balance_after NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_grants_initial_balance_after_check CHECK (initial_balance_after >= 0),
    created_at            TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT payment_key_grants_pkey PRIMARY KEY (id),
    CONSTRAINT payment_key_grants_amount_check CHECK (amount > 0),
    CONSTRAINT payment_key_grants_source_check CHECK (source IN ('api', 'cli'))
);
CREATE INDEX payment_key_grants_owner_nonce_idx ON payment_key_grants (owner, nonce);

CREATE TABLE https_calls (
    call_id                 UUID          NOT NULL,
    owner                   TEXT          NOT NULL,
    nonce                   BIGINT        NOT NULL,
    project_id              TEXT          NOT NULL,
    project_uuid            TEXT,
    request_id              BIGINT,
    status                  TEXT          NOT NULL DEFAULT 'pending',
    is_async                BOOLEAN       NOT NULL,
    input_data              TEXT,
    output_data             TEXT,
    error_message           TEXT,
    instructions            BIGINT,
    time_ms                 BIGINT,
    compile_time_ms         BIGINT,
    compute_limit           NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT https_calls_compute_limit_check CHECK (compute_limit >= 0),
    attached_deposit        NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT https_calls_attached_deposit_check CHECK (attached_deposit >= 0),
    reserved_amount         NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT https_calls_reserved_amount_check CHECK (reserved_amount >= 0),
    actual_cost             NUMERIC(38,0) NULL
        CONSTRAINT https_calls_actual_cost_check CHECK (actual_cost >= 0),
    compute_cost            NUMERIC(38,0) NULL
        CONSTRAINT https_calls_compute_cost_check CHECK (compute_cost >= 0),
    refund_usd              NUMERIC(38,0) NULL
        CONSTRAINT https_calls_refund_usd_check CHECK (refund_usd >= 0),
    job_id                  BIGINT,
    wallet_id               TEXT,
    version_key             TEXT,
    created_at              TIMESTAMPTZ   NOT NULL DEFAULT now(),
    started_at              TIMESTAMPTZ,
    completed_at            TIMESTAMPTZ,
    reservation_released_at TIMESTAMPTZ,
    CONSTRAINT https_calls_pkey PRIMARY KEY (call_id),
    CONSTRAINT https_calls_request_id_key UNIQUE (request_id),
    CONSTRAINT https_calls_status_check CHECK (status IN ('pending', 'completed', 'failed')),
    CONSTRAINT https_calls_reserved_amount_sum_check
        CHECK (reserved_amount = compute_limit + attached_deposit),
    CONSTRAINT https_calls_pending_reservation_check
        CHECK ((status = 'pending') = (reservation_released_at IS NULL))
);
COMMENT ON COLUMN https_calls.compile_time_ms IS 'always NULL; reserved';
COMMENT ON COLUMN https_calls.started_at IS 'set by the first claim of its execute job (SPEC §3.2.3)';
CREATE INDEX https_calls_owner_nonce_pending_idx ON https_calls (owner, nonce) WHERE status = 'pending';
CREATE INDEX https_calls_created_at_pending_idx ON https_calls (created_at) WHERE status = 'pending';

CREATE TABLE payment_key_usage (
    id               BIGSERIAL     NOT NULL,
    owner            TEXT          NOT NULL,
    nonce            BIGINT        NOT NULL,
    call_id          UUID          NOT NULL
        CONSTRAINT payment_key_usage_call_id_fkey REFERENCES https_calls (call_id),
    job_id           BIGINT,
    project_id       TEXT          NOT NULL,
    compute_cost     NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_usage_compute_cost_check CHECK (compute_cost >= 0),
    attached_deposit NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_usage_attached_deposit_check CHECK (attached_deposit >= 0),
    refund_usd       NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_usage_refund_usd_check CHECK (refund_usd >= 0),
    charged          NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT payment_key_usage_charged_check CHECK (charged >= 0),
    status           TEXT          NOT NULL,
    error_message    TEXT,
    created_at       TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT payment_key_usage_pkey PRIMARY KEY (id),
    CONSTRAINT payment_key_usage_call_id_key UNIQUE (call_id),
    CONSTRAINT payment_key_usage_status_check CHECK (status IN ('completed', 'failed'))
);
CREATE INDEX payment_key_usage_owner_nonce_created_at_idx
    ON payment_key_usage (owner, nonce, created_at DESC);

CREATE TABLE idempotency_keys (
    owner                 TEXT        NOT NULL,
    nonce                 BIGINT      NOT NULL,
    idem_key              TEXT        NOT NULL,
    fingerprint           CHAR(64)    NOT NULL,
    state                 TEXT        NOT NULL,
    call_id               UUID,
    response_status       INTEGER,
    response_content_type TEXT,
    response_body         BYTEA,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at          TIMESTAMPTZ,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (owner, nonce, idem_key),
    CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_flight', 'done'))
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

CREATE TABLE project_owner_earnings (
    project_owner TEXT          NOT NULL,
    balance       NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT project_owner_earnings_balance_check CHECK (balance >= 0),
    total_earned  NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT project_owner_earnings_total_earned_check CHECK (total_earned >= 0),
    updated_at    TIMESTAMPTZ,
    CONSTRAINT project_owner_earnings_pkey PRIMARY KEY (project_owner)
);

CREATE TABLE project_owner_withdrawals (
    id            BIGSERIAL     NOT NULL,
    project_owner TEXT          NOT NULL,
    amount        NUMERIC(38,0) NOT NULL,
    tx_hash       TEXT,
    status        TEXT          NOT NULL,
    created_at    TIMESTAMPTZ   NOT NULL DEFAULT now(),
    completed_at  TIMESTAMPTZ,
    CONSTRAINT project_owner_withdrawals_pkey PRIMARY KEY (id),
    CONSTRAINT project_owner_withdrawals_amount_check CHECK (amount > 0)
);
COMMENT ON TABLE project_owner_withdrawals IS 'reserved; unused';

CREATE TABLE earnings_history (
    id                BIGSERIAL     NOT NULL,
    project_owner     TEXT          NOT NULL,
    project_id        TEXT          NOT NULL,
    attached_usd      NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT earnings_history_attached_usd_check CHECK (attached_usd >= 0),
    refund_usd        NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT earnings_history_refund_usd_check CHECK (refund_usd >= 0),
    amount            NUMERIC(38,0) NOT NULL DEFAULT 0
        CONSTRAINT earnings_history_amount_check CHECK (amount >= 0),
    source            TEXT          NOT NULL,
    tx_hash           TEXT,
    caller            TEXT,
    request_id        BIGINT,
    call_id           UUID,
    payment_key_owner TEXT,
    payment_key_nonce BIGINT,
    created_at        TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT earnings_history_pkey PRIMARY KEY (id),
    CONSTRAINT earnings_history_source_check CHECK (source IN ('blockchain', 'https')),
    CONSTRAINT earnings_history_amount_sum_check CHECK (amount = attached_usd - refund_usd)
);
CREATE UNIQUE INDEX earnings_history_call_id_key
    ON earnings_history (call_id) WHERE call_id IS NOT NULL;
CREATE UNIQUE INDEX earnings_history_request_id_blockchain_key
    ON earnings_history (request_id) WHERE source = 'blockchain';
CREATE INDEX earnings_history_project_owner_created_at_idx
    ON earnings_history (project_owner, created_at DESC);
