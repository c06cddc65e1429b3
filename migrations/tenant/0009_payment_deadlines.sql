-- A payment's deadlines and the notices it owes (engine-owned), one row per
-- payment and kind:
--   nudge, abandon  a chat payment's reminder and release, claimed once
--                   when they fall due;
--   outcome         telling the customer the final outcome: owed from the
--                   transaction that records it, settled once told (on
--                   WhatsApp, or on the call for a failure the caller heard);
--   late_success    telling them a payment recorded as failed was paid.
-- An owed notice is claimed by a node for a lease (claimed_by,
-- locked_until): a node that dies mid-send leaves a lease that runs out and
-- another node takes the notice over; a failed send is retried after
-- next_attempt_at. These claims used to be `interactions` rows of type
-- `payment_deadline`; they are carried over and removed from there.
CREATE TABLE payment_deadlines (
    payment_id       UUID NOT NULL,
    deadline         TEXT NOT NULL
        CONSTRAINT ck_payment_deadlines_deadline
        CHECK (deadline IN ('nudge', 'abandon', 'outcome', 'late_success')),
    -- The conversation to tell (owed notices).
    thread_id        TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    claimed_by       TEXT,
    locked_until     TIMESTAMPTZ,
    attempts         INT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    last_error       TEXT,
    done_at          TIMESTAMPTZ,
    -- whatsapp | call | no_chat | gave_up | sent
    done_how         TEXT,
    CONSTRAINT pk_payment_deadlines PRIMARY KEY (payment_id, deadline)
);

-- The notices still owed stay few however many are done.
CREATE INDEX idx_payment_deadlines_owed
    ON payment_deadlines (next_attempt_at)
    WHERE done_at IS NULL;

INSERT INTO payment_deadlines (payment_id, deadline, created_at, done_at, done_how)
SELECT DISTINCT ON (payment_id, deadline) payment_id, deadline, created_at, created_at, done_how
FROM (
    SELECT (metadata->>'payment_id')::uuid AS payment_id,
           CASE metadata->>'deadline'
               WHEN 'failure_told_on_call' THEN 'outcome'
               ELSE metadata->>'deadline'
           END AS deadline,
           CASE metadata->>'deadline'
               WHEN 'failure_told_on_call' THEN 'call'
               WHEN 'outcome' THEN 'whatsapp'
               ELSE 'sent'
           END AS done_how,
           COALESCE(created_at, NOW()) AS created_at
    FROM interactions
    WHERE message_type = 'payment_deadline'
      AND metadata->>'payment_id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      AND metadata->>'deadline' IN ('nudge', 'abandon', 'outcome', 'failure_told_on_call')
) AS earlier
ORDER BY payment_id, deadline, created_at
ON CONFLICT DO NOTHING;

DELETE FROM interactions WHERE message_type = 'payment_deadline';
