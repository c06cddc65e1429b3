-- Provider message ids are looked up on every WhatsApp turn (duplicate
-- deliveries) and every delivery status: an index, not a scan.
CREATE INDEX IF NOT EXISTS idx_interactions_wamid
    ON interactions ((metadata->>'wamid'));
