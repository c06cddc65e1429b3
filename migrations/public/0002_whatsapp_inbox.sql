-- The durable WhatsApp inbox: every inbound message (and delivery status)
-- of a routed number is stored here, in the webhook's own transaction,
-- before Meta gets its 200. Processing runs from these rows: one customer's
-- rows in order (seq), different customers in parallel, retried with
-- backoff, and parked (status 'parked', last_error kept) when they keep
-- failing. Done rows stay: they are the record that a redelivered message
-- id was already taken.
CREATE TABLE whatsapp_inbox (
    -- The provider's id: the wamid of a message; for a delivery status
    -- 'status:<wamid>:<status>' (one message has several statuses).
    message_id       TEXT PRIMARY KEY,
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    kind             TEXT NOT NULL
        CONSTRAINT ck_whatsapp_inbox_kind CHECK (kind IN ('message', 'status')),
    tenant_id        UUID NOT NULL REFERENCES tenants (id),
    -- '<phone_number_id>:<wa_id>': the lane whose order is kept.
    customer_key     TEXT NOT NULL,
    -- The event as the engine reads it back (NUL characters normalised out:
    -- Postgres text cannot hold them).
    payload          JSONB NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    status           TEXT NOT NULL DEFAULT 'pending'
        CONSTRAINT ck_whatsapp_inbox_status
        CHECK (status IN ('pending', 'processing', 'done', 'parked')),
    attempts         INT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    -- A 'processing' row whose lease ran out belongs to a worker that died.
    locked_until     TIMESTAMPTZ,
    last_error       TEXT,
    done_at          TIMESTAMPTZ
);

-- The work still to do stays small however many done rows accumulate.
CREATE INDEX idx_whatsapp_inbox_open_lane
    ON whatsapp_inbox (customer_key, seq)
    WHERE status IN ('pending', 'processing');
CREATE INDEX idx_whatsapp_inbox_open_seq
    ON whatsapp_inbox (seq)
    WHERE status IN ('pending', 'processing');
CREATE INDEX idx_whatsapp_inbox_parked
    ON whatsapp_inbox (received_at)
    WHERE status = 'parked';

-- The review queue of unknown numbers is deduplicated by the provider's
-- message id: Meta redelivering one message makes one row. Nullable, so
-- the documented columns and older rows are unchanged.
ALTER TABLE inbound_quarantine ADD COLUMN provider_message_id TEXT;
CREATE UNIQUE INDEX uq_inbound_quarantine_provider_message_id
    ON inbound_quarantine (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
