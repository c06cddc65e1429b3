-- dial_audits also records the Instagram and Messenger dials (account id,
-- page id, each channel's switch) and the channel credentials (WhatsApp,
-- Instagram and page access tokens: audited as set or cleared, never their
-- value). Idempotent: the constraint is replaced whole.
ALTER TABLE dial_audits DROP CONSTRAINT IF EXISTS ck_dial_audits_dial;
ALTER TABLE dial_audits ADD CONSTRAINT ck_dial_audits_dial CHECK (
    dial IN ('tone', 'greeting_mode', 'greeting_custom', 'upsell', 'cancellation_tone',
             'honorific', 'cross_sell', 'whatsapp_access_token', 'messenger_enabled')
    OR dial ~ '^(voice|handoff|payment|mpesa|pesapal|preferred_payment|reminder|admin_whatsapp|instagram|facebook)_[a-z_]+$');
