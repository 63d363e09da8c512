-- Workers: auth tokens, TEE challenges and sessions, worker status (SPEC §5.1).

CREATE TABLE worker_auth_tokens (
    token_hash          CHAR(64)    NOT NULL,
    worker_name         TEXT        NOT NULL,
    is_active           BOOLEAN     NOT NULL DEFAULT true,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at        TIMESTAMPTZ,
    revoked_at          TIMESTAMPTZ,
    last_seen_rtmr3     CHAR(96),
    last_attestation_at TIMESTAMPTZ,
    CONSTRAINT worker_auth_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT worker_auth_tokens_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX worker_auth_tokens_worker_name_idx ON worker_auth_tokens (worker_name);

CREATE TABLE tee_challenges (
    challenge  CHAR(64)    NOT NULL,
    token_hash TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tee_challenges_pkey PRIMARY KEY (challenge)
);
CREATE INDEX tee_challenges_created_at_idx ON tee_challenges (created_at);

CREATE TABLE worker_tee_sessions (
    session_id        UUID        NOT NULL DEFAULT gen_random_uuid(),
    token_hash        TEXT        NOT NULL,
    worker_public_key TEXT        NOT NULL,
    is_active         BOOLEAN     NOT NULL DEFAULT true,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT worker_tee_sessions_pkey PRIMARY KEY (session_id)
);
CREATE INDEX worker_tee_sessions_token_hash_worker_public_key_active_idx
    ON worker_tee_sessions (token_hash, worker_public_key) WHERE is_active;
CREATE INDEX worker_tee_sessions_expires_at_active_idx
    ON worker_tee_sessions (expires_at) WHERE is_active;

CREATE TABLE worker_status (
    worker_id                  TEXT        NOT NULL,
    worker_name                TEXT        NOT NULL,
    status                     TEXT        NOT NULL DEFAULT 'offline',
    current_task_id            BIGINT,
    token_hash                 TEXT,
    last_heartbeat_at          TIMESTAMPTZ,
    last_poll_at               TIMESTAMPTZ,
    last_task_completed_at     TIMESTAMPTZ,
    total_tasks_completed      BIGINT      NOT NULL DEFAULT 0,
    total_tasks_failed         BIGINT      NOT NULL DEFAULT 0,
    event_monitor_block_height BIGINT,
    event_monitor_updated_at   TIMESTAMPTZ,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT worker_status_pkey PRIMARY KEY (worker_id),
    CONSTRAINT worker_status_status_check CHECK (status IN ('online', 'busy', 'offline', 'stale'))
);
CREATE INDEX worker_status_last_heartbeat_at_idx ON worker_status (last_heartbeat_at DESC);
