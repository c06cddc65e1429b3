-- Credentials changed through the admin API are audited in dial_audits
-- too (dial 'credential_<name>'; before/after say only whether one was
-- set, never the secret). Keeps what 0012 allowed (the Instagram and
-- Messenger dials).
ALTER TABLE dial_audits DROP CONSTRAINT IF EXISTS ck_dial_audits_dial;
ALTER TABLE dial_audits ADD CONSTRAINT ck_dial_audits_dial CHECK (
    dial IN ('tone', 'greeting_mode', 'greeting_custom', 'upsell', 'cancellation_tone',
             'honorific', 'cross_sell', 'whatsapp_access_token', 'messenger_enabled')
    OR dial ~ '^(voice|handoff|payment|mpesa|pesapal|preferred_payment|reminder|admin_whatsapp|instagram|facebook|credential)_[a-z_]+$');
