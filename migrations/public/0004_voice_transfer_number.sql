-- Where a caller who asks for a person is put through: the business's own
-- phone (E.164), dialled by the telephony provider when the bot hands a
-- call over. NULL = no transfer; the caller is promised a call back (or a
-- WhatsApp message) and the bot hangs up politely. Engine-owned column on
-- the platform's registry (the schema reference has no business phone).
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS voice_transfer_number VARCHAR(20);
