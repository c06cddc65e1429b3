-- The web widget's phone check and STK-as-oracle (docs/web.md).
--
-- web_phone_codes: the current SMS code of a web session (one row per
-- session; a resend replaces it). Only a salted SHA-256 of the code is
-- kept; attempts, expiry and the resend window are enforced by the engine
-- (core/phone_check.rs).
CREATE TABLE IF NOT EXISTS web_phone_codes (
    session_id         UUID PRIMARY KEY REFERENCES customer_sessions (id) ON DELETE CASCADE,
    phone_e164         TEXT NOT NULL,
    code_hash          TEXT NOT NULL,
    attempts           INT NOT NULL DEFAULT 0,
    expires_at         TIMESTAMPTZ NOT NULL,
    sent_at            TIMESTAMPTZ NOT NULL,
    sends              INT NOT NULL DEFAULT 1,
    window_started_at  TIMESTAMPTZ NOT NULL
);

-- With phone_otp_required off, the number a web customer types is only
-- claimed: the booking and the M-Pesa prompt use it, but the session stays
-- unverified (customer_id and promoted_at NULL) until the prompt for
-- proof_appointment_id is paid.
ALTER TABLE customer_sessions ADD COLUMN IF NOT EXISTS claimed_phone TEXT;
ALTER TABLE customer_sessions ADD COLUMN IF NOT EXISTS proof_appointment_id UUID;
CREATE INDEX IF NOT EXISTS ix_customer_sessions_proof
    ON customer_sessions (proof_appointment_id) WHERE proof_appointment_id IS NOT NULL;

-- A returning web session is shown its earlier messages (by thread).
CREATE INDEX IF NOT EXISTS idx_interactions_thread
    ON interactions ((metadata ->> 'thread_id'), created_at);
