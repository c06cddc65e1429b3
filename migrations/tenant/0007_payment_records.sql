-- Engine-owned records of the payment and reaper machinery.
--
-- processed_callbacks: the third idempotency layer of payment callbacks.
-- A callback that changes a payment is recorded here in the same
-- transaction as the change; a second delivery of it (the same provider
-- and key: Daraja CheckoutRequestID + ResultCode, PesaPal OrderTrackingId +
-- status) finds its row and changes nothing.
CREATE TABLE IF NOT EXISTS processed_callbacks (
    provider      TEXT NOT NULL
        CONSTRAINT ck_processed_callbacks_provider CHECK (provider IN ('mpesa', 'pesapal')),
    callback_key  TEXT NOT NULL,
    payment_id    UUID,
    received_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_processed_callbacks_key UNIQUE (provider, callback_key)
);

-- Archive twins of the checkpoint tables (the daily reaper moves rows older
-- than 90 days here). Cloned with LIKE so `INSERT ... SELECT *` from the live
-- table stays valid. IF NOT EXISTS: the reaper used to create them on first
-- use, so some schemas already have them.
CREATE TABLE IF NOT EXISTS checkpoints_archive (LIKE checkpoints INCLUDING ALL);
CREATE TABLE IF NOT EXISTS checkpoint_blobs_archive (LIKE checkpoint_blobs INCLUDING ALL);
CREATE TABLE IF NOT EXISTS checkpoint_writes_archive (LIKE checkpoint_writes INCLUDING ALL);
