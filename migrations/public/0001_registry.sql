-- The shared registry (public.*): one row per tenant plus the tenant-less
-- routing and dead-letter tables. Tenant domain rows never live here, and no
-- foreign key crosses from a tenant schema into this one.

CREATE TABLE tenants (
    id                              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name                            VARCHAR(255) NOT NULL,
    slug                            VARCHAR(100) UNIQUE,
    schema_name                     VARCHAR(100),
    vertical                        VARCHAR(20) NOT NULL
        CONSTRAINT ck_tenants_vertical CHECK (vertical IN
            ('spa', 'salon', 'barbershop', 'dental', 'physio', 'medical', 'tutoring', 'legal')),
    whatsapp_number                 VARCHAR(20),
    voice_number                    VARCHAR(20),
    timezone                        VARCHAR(50) DEFAULT 'Africa/Nairobi',
    currency                        VARCHAR(3) DEFAULT 'KES',
    locale                          VARCHAR(10) DEFAULT 'en',
    mpesa_enabled                   BOOLEAN DEFAULT FALSE,
    mpesa_shortcode                 VARCHAR(20),
    mpesa_passkey                   TEXT,
    status                          VARCHAR(20)
        CONSTRAINT ck_tenants_status CHECK (status IN ('active', 'suspended', 'trial', 'deleted')),
    trial_ends_at                   TIMESTAMPTZ,
    deleted_at                      TIMESTAMPTZ,
    pesapal_consumer_key            TEXT,
    pesapal_consumer_secret         TEXT,
    pesapal_ipn_id                  UUID,
    cost_ceiling_soft_usd           NUMERIC(6,4) NOT NULL DEFAULT 0.05,
    cost_ceiling_hard_usd           NUMERIC(6,4) NOT NULL DEFAULT 0.20,
    llm_role_overrides              JSONB NOT NULL DEFAULT '{}'::jsonb,
    handoff_admin_notice_seconds    INT NOT NULL DEFAULT 120,
    handoff_admin_reminder_seconds  INT NOT NULL DEFAULT 600,
    handoff_escalation_seconds      INT NOT NULL DEFAULT 3600,
    handoff_thresholds              JSONB NOT NULL DEFAULT '{}'::jsonb,
    pesapal_nudge_seconds           INT NOT NULL DEFAULT 480,
    pesapal_abandon_seconds         INT NOT NULL DEFAULT 1800,
    voice_stk_max_hold_seconds      INT NOT NULL DEFAULT 90,
    whatsapp_phone_number_id        VARCHAR(50),
    whatsapp_access_token           TEXT,
    whatsapp_business_account_id    VARCHAR(50),
    daraja_credentials              BYTEA,
    pesapal_credentials             BYTEA,
    payment_environment_override    TEXT
        CONSTRAINT ck_tenants_payment_environment_override
        CHECK (payment_environment_override IS NULL
               OR payment_environment_override IN ('sandbox', 'production')),
    payment_enabled                 BOOLEAN NOT NULL DEFAULT FALSE,
    preferred_payment_provider      TEXT NOT NULL DEFAULT 'mpesa'
        CONSTRAINT ck_tenants_preferred_payment_provider
        CHECK (preferred_payment_provider IN ('mpesa', 'pesapal')),
    voice_enabled                   BOOLEAN NOT NULL DEFAULT FALSE,
    voice_greeting_language         TEXT
        CONSTRAINT ck_tenants_voice_greeting_language
        CHECK (voice_greeting_language IS NULL OR voice_greeting_language IN ('en', 'sw')),
    voice_default_speaker           TEXT,
    voice_eot_silence_ms            INT,
    voice_full_duplex_enabled       BOOLEAN NOT NULL DEFAULT FALSE,
    voice_backchannel_filter        BOOLEAN NOT NULL DEFAULT FALSE,
    voice_hard_interrupt            BOOLEAN NOT NULL DEFAULT FALSE,
    voice_streaming                 BOOLEAN NOT NULL DEFAULT FALSE,
    voice_listening_ack             BOOLEAN NOT NULL DEFAULT FALSE,
    voice_adaptive_speed            BOOLEAN NOT NULL DEFAULT FALSE,
    voice_endpointing_min_delay_ms  INT,
    voice_endpointing_max_delay_ms  INT,
    admin_whatsapp_briefing_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    instagram_business_account_id   TEXT,
    instagram_access_token          TEXT,
    instagram_enabled               BOOLEAN NOT NULL DEFAULT FALSE,
    facebook_page_id                TEXT,
    facebook_page_access_token      TEXT,
    messenger_enabled               BOOLEAN NOT NULL DEFAULT FALSE,
    widget_primary_color            TEXT NOT NULL DEFAULT '#0F766E',
    widget_logo_url                 TEXT,
    widget_display_name             TEXT,
    channel_steering_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    phone_otp_required              BOOLEAN NOT NULL DEFAULT FALSE,
    reminder_lead_seconds           INT NOT NULL DEFAULT 86400,
    created_at                      TIMESTAMPTZ DEFAULT NOW(),
    updated_at                      TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_tenants_status ON tenants (status);
CREATE UNIQUE INDEX uq_tenants_whatsapp_number ON tenants (whatsapp_number)
    WHERE whatsapp_number IS NOT NULL;
CREATE UNIQUE INDEX uq_tenants_voice_number ON tenants (voice_number)
    WHERE voice_number IS NOT NULL;
CREATE UNIQUE INDEX uq_tenants_schema_name ON tenants (schema_name)
    WHERE schema_name IS NOT NULL;
CREATE UNIQUE INDEX uq_tenants_whatsapp_phone_number_id ON tenants (whatsapp_phone_number_id)
    WHERE whatsapp_phone_number_id IS NOT NULL;

CREATE TABLE tenant_admins (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         UUID REFERENCES tenants (id),
    phone_number      VARCHAR(20) NOT NULL,
    keycloak_user_id  UUID,
    role              VARCHAR(20) DEFAULT 'owner',
    is_active         BOOLEAN DEFAULT TRUE,
    created_at        TIMESTAMPTZ DEFAULT NOW(),
    CONSTRAINT uq_tenant_admins_tenant_phone UNIQUE (tenant_id, phone_number)
);

CREATE INDEX idx_tenant_admins_phone ON tenant_admins (phone_number);

CREATE TABLE payment_routing (
    merchant_reference  VARCHAR(40) PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants (id),
    schema_name         VARCHAR(100) NOT NULL,
    thread_id           VARCHAR(100) NOT NULL,
    provider            VARCHAR(20) NOT NULL
        CONSTRAINT ck_payment_routing_provider
        CHECK (provider IN ('mpesa', 'airtel', 'equitel', 'pesapal')),
    expires_at          TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_payment_routing_tenant ON payment_routing (tenant_id);
CREATE INDEX idx_payment_routing_expires ON payment_routing (expires_at);

CREATE TABLE payment_callbacks_unrouted (
    id                            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    provider                      VARCHAR(20) NOT NULL
        CONSTRAINT ck_payment_callbacks_unrouted_provider
        CHECK (provider IN ('mpesa', 'airtel', 'equitel', 'pesapal')),
    raw_payload                   JSONB NOT NULL,
    received_at                   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    attempted_merchant_reference  VARCHAR(40),
    reviewed_at                   TIMESTAMPTZ,
    reviewed_by                   UUID,
    resolution_note               TEXT
);

CREATE INDEX idx_payment_callbacks_unrouted_unreviewed
    ON payment_callbacks_unrouted (received_at)
    WHERE reviewed_at IS NULL;

CREATE TABLE inbound_quarantine (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    received_at         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    to_phone_number_id  VARCHAR(50) NOT NULL,
    from_phone          VARCHAR(20) NOT NULL,
    raw_payload         JSONB NOT NULL,
    reviewed_at         TIMESTAMPTZ,
    reviewed_by         UUID,
    resolution_note     TEXT
);

CREATE INDEX idx_inbound_quarantine_unreviewed
    ON inbound_quarantine (received_at)
    WHERE reviewed_at IS NULL;
