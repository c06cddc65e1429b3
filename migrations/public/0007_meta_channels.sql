-- Instagram and Messenger messages go through the same durable inbox as
-- WhatsApp's (stored before the webhook is answered, one customer's
-- messages in order, retried, parked): a third kind of row. Messages to an
-- Instagram account or Facebook page no tenant has (or has switched off)
-- go to the same review queue, which now says which channel they came on.
-- Idempotent: a database that already has either change is left as it is.
ALTER TABLE whatsapp_inbox DROP CONSTRAINT IF EXISTS ck_whatsapp_inbox_kind;
ALTER TABLE whatsapp_inbox ADD CONSTRAINT ck_whatsapp_inbox_kind
    CHECK (kind IN ('message', 'status', 'meta_message'));

ALTER TABLE inbound_quarantine ADD COLUMN IF NOT EXISTS channel TEXT NOT NULL DEFAULT 'whatsapp';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_inbound_quarantine_channel') THEN
        ALTER TABLE inbound_quarantine ADD CONSTRAINT ck_inbound_quarantine_channel
            CHECK (channel IN ('whatsapp', 'instagram', 'messenger'));
    END IF;
END $$;
