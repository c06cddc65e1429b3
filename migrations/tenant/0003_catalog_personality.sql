-- Catalog graph, imports and audits, and the personality dials.

CREATE TABLE service_relations (
    service_a_id   UUID NOT NULL,
    service_b_id   UUID NOT NULL,
    relation_type  TEXT NOT NULL
        CONSTRAINT ck_service_relations_relation_type
        CHECK (relation_type IN ('complementary', 'alternative', 'sequential')),
    source         TEXT NOT NULL
        CONSTRAINT ck_service_relations_source
        CHECK (source IN ('llm_inferred', 'tenant_pinned', 'association_rule')),
    confidence     DOUBLE PRECISION,
    reason         TEXT,
    created_at     TIMESTAMPTZ DEFAULT NOW(),
    PRIMARY KEY (service_a_id, service_b_id, relation_type)
);

CREATE INDEX idx_service_relations_complementary
    ON service_relations (service_a_id, confidence DESC)
    WHERE relation_type = 'complementary' AND confidence >= 0.7;

CREATE TABLE catalog_imports (
    import_id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    modality            TEXT NOT NULL
        CONSTRAINT ck_catalog_imports_modality
        CHECK (modality IN ('image', 'multi_image', 'pdf', 'text', 'csv')),
    type                TEXT NOT NULL
        CONSTRAINT ck_catalog_imports_type CHECK (type IN ('initial', 're-import', 'manual')),
    snapshot_jsonb      JSONB NOT NULL,
    extracted_jsonb     JSONB NOT NULL,
    committed_jsonb     JSONB,
    actor_admin_id      UUID,
    confidence_summary  JSONB,
    created_at          TIMESTAMPTZ DEFAULT NOW(),
    committed_at        TIMESTAMPTZ
);

CREATE INDEX idx_catalog_imports_actor ON catalog_imports (actor_admin_id, created_at);

CREATE TABLE catalog_audits (
    audit_id        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    action          TEXT NOT NULL
        CONSTRAINT ck_catalog_audits_action CHECK (action IN ('insert', 'update', 'delete', 'toggle')),
    service_id      UUID NOT NULL,
    before          JSONB,
    after           JSONB,
    actor_admin_id  UUID,
    source          TEXT NOT NULL
        CONSTRAINT ck_catalog_audits_source CHECK (source IN ('slash', 'nl', 'import', 'dashboard')),
    created_at      TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_catalog_audits_service_time ON catalog_audits (service_id, created_at);

CREATE TABLE tenant_personality_config (
    tenant_personality_id  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    is_singleton           BOOLEAN NOT NULL DEFAULT TRUE,
    tone                   TEXT,
    greeting_mode          TEXT,
    greeting_custom        TEXT,
    upsell                 TEXT,
    cancellation_tone      TEXT,
    honorific              TEXT,
    cross_sell             TEXT,
    updated_at             TIMESTAMPTZ DEFAULT NOW(),
    updated_by_admin_id    UUID
);

CREATE UNIQUE INDEX uq_tenant_personality_singleton ON tenant_personality_config (is_singleton)
    WHERE is_singleton = TRUE;

CREATE TABLE dial_audits (
    audit_id        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    dial            TEXT NOT NULL
        CONSTRAINT ck_dial_audits_dial CHECK (dial IN
            ('tone', 'greeting_mode', 'greeting_custom', 'upsell', 'cancellation_tone',
             'honorific', 'cross_sell')),
    before          JSONB,
    after           JSONB,
    actor_admin_id  UUID,
    created_at      TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_dial_audits_time ON dial_audits (created_at);
