-- Callbacks that change nothing are kept with their reason, once per
-- provider id (engine-owned columns on the platform's dead-letter table).
--
-- reason           why the callback is here: unknown_reference,
--                  routing_expired, malformed, checkout_mismatch,
--                  amount_mismatch, receipt_used_on_another_payment,
--                  duplicate, late_after_<status>, ...
-- provider_ref     the provider's id of the callback (Daraja
--                  CheckoutRequestID:ResultCode, PesaPal
--                  OrderTrackingId:type, or sha256:<hex> of an unreadable
--                  body): a redelivery (same id, same reason) bumps
--                  times_received instead of adding a row.
-- payment_id       the payment it was routed to, when it was.
-- Traces that need no one (a duplicate, a failure after a success) are
-- stored with reviewed_at set, so the unreviewed queue holds only what
-- needs a person.
ALTER TABLE payment_callbacks_unrouted
    ADD COLUMN IF NOT EXISTS reason TEXT,
    ADD COLUMN IF NOT EXISTS provider_ref TEXT,
    ADD COLUMN IF NOT EXISTS payment_id UUID,
    ADD COLUMN IF NOT EXISTS times_received INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS last_received_at TIMESTAMPTZ;

CREATE UNIQUE INDEX IF NOT EXISTS uq_payment_callbacks_unrouted_provider_ref
    ON payment_callbacks_unrouted (provider, provider_ref, reason);
