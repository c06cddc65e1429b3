-- The web chat widget records its messages as channel 'web'. The seed's
-- interactions CHECK allowed whatsapp / voice / dashboard only; widened here
-- to the same channels as conversation_threads.channel_started and
-- appointments.booking_channel (instagram and messenger included, so the
-- Meta channels need no migration of their own).
ALTER TABLE interactions DROP CONSTRAINT ck_interactions_channel;
ALTER TABLE interactions ADD CONSTRAINT ck_interactions_channel
    CHECK (channel IN ('whatsapp', 'voice', 'dashboard', 'web', 'instagram', 'messenger'));
