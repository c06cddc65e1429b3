-- The admin API audits every catalogue change, not only services': the
-- entity column says which table the row's id (still in service_id, the
-- documented NOT NULL column) belongs to. Older rows are services'.
ALTER TABLE catalog_audits
    ADD COLUMN IF NOT EXISTS entity TEXT NOT NULL DEFAULT 'service'
        CONSTRAINT ck_catalog_audits_entity
        CHECK (entity IN ('service', 'staff', 'staff_service', 'schedule', 'block'));

-- dial_audits also records the tenant's own dials (public.tenants voice_*,
-- handoff_* and payment columns) changed through the admin API, not only
-- the seven personality dials.
ALTER TABLE dial_audits DROP CONSTRAINT IF EXISTS ck_dial_audits_dial;
ALTER TABLE dial_audits ADD CONSTRAINT ck_dial_audits_dial CHECK (
    dial IN ('tone', 'greeting_mode', 'greeting_custom', 'upsell', 'cancellation_tone',
             'honorific', 'cross_sell')
    OR dial ~ '^(voice|handoff|payment|mpesa|pesapal|preferred_payment|reminder|admin_whatsapp)_[a-z_]+$');
