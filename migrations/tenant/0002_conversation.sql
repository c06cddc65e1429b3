-- Conversation threads, the verbatim hand-off log (and its archive twin), and
-- the channel-agnostic customer identity layer.

CREATE TABLE conversation_threads (
    customer_phone   VARCHAR(20) NOT NULL,
    thread_id        VARCHAR(100) NOT NULL,
    created_at       TIMESTAMPTZ DEFAULT NOW(),
    closed_at        TIMESTAMPTZ,
    closed_reason    TEXT
        CONSTRAINT ck_conversation_threads_closed_reason
        CHECK (closed_reason IN ('done', 'abandon', 'closed_by_human')),
    channel_started  TEXT NOT NULL
        CONSTRAINT ck_conversation_threads_channel_started
        CHECK (channel_started IN ('whatsapp', 'voice', 'web', 'instagram', 'messenger')),
    actor_type       TEXT NOT NULL
        CONSTRAINT ck_conversation_threads_actor_type CHECK (actor_type IN ('customer', 'admin')),
    PRIMARY KEY (customer_phone, thread_id)
);

CREATE INDEX idx_threads_active_customer ON conversation_threads (customer_phone)
    WHERE closed_at IS NULL AND actor_type = 'customer';
CREATE INDEX idx_threads_active_admin ON conversation_threads (customer_phone)
    WHERE closed_at IS NULL AND actor_type = 'admin';

CREATE TABLE handoff_log (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    thread_id            TEXT NOT NULL,
    actor                TEXT NOT NULL
        CONSTRAINT ck_handoff_log_actor CHECK (actor IN ('customer', 'admin')),
    actor_phone          TEXT NOT NULL,
    content              TEXT NOT NULL,
    language             TEXT,
    sent_at              TIMESTAMPTZ DEFAULT NOW(),
    message_metadata     JSONB,
    claimed_by_admin_id  UUID,
    claimed_at           TIMESTAMPTZ,
    admin_replied_at     TIMESTAMPTZ,
    claimed_via          TEXT
        CONSTRAINT ck_handoff_log_claimed_via CHECK (claimed_via IN ('dashboard', 'whatsapp'))
);

CREATE INDEX idx_handoff_log_thread ON handoff_log (thread_id, sent_at);

-- Same columns, defaults, checks and indexes: the reaper moves rows across
-- with INSERT ... SELECT *, which only works while the two stay identical.
CREATE TABLE handoff_log_archive (LIKE handoff_log INCLUDING ALL);

CREATE TABLE customers (
    customer_id    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    phone_e164     TEXT,
    name           TEXT,
    dob            DATE,
    language_pref  TEXT,
    created_at     TIMESTAMPTZ DEFAULT NOW()
);

CREATE UNIQUE INDEX uq_customers_phone_e164 ON customers (phone_e164)
    WHERE phone_e164 IS NOT NULL;

CREATE TABLE customer_sessions (
    id                        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id               UUID REFERENCES customers (customer_id) ON DELETE SET NULL,
    name                      TEXT,
    language_pref             TEXT,
    unverified                BOOLEAN NOT NULL DEFAULT FALSE,
    handoff_token             TEXT,
    handoff_token_expires_at  TIMESTAMPTZ,
    created_at                TIMESTAMPTZ DEFAULT NOW(),
    promoted_at               TIMESTAMPTZ
);

CREATE UNIQUE INDEX uq_customer_sessions_handoff_token ON customer_sessions (handoff_token)
    WHERE handoff_token IS NOT NULL;

CREATE TABLE customer_identities (
    customer_id  UUID NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    provider     TEXT NOT NULL
        CONSTRAINT ck_customer_identities_provider
        CHECK (provider IN ('whatsapp', 'voice', 'web_cookie', 'instagram', 'messenger')),
    external_id  TEXT NOT NULL,
    created_at   TIMESTAMPTZ DEFAULT NOW(),
    PRIMARY KEY (customer_id, provider, external_id)
);

CREATE INDEX ix_customer_identities_alias ON customer_identities (provider, external_id);
