-- Commission rules and frozen monthly commission snapshots.

CREATE TABLE commission_rules (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    staff_id          UUID REFERENCES staff (id) ON DELETE CASCADE,
    service_category  VARCHAR(50),
    rule_type         VARCHAR(10) NOT NULL
        CONSTRAINT ck_commission_rules_rule_type CHECK (rule_type IN ('pct', 'fixed', 'tiered')),
    value             JSONB NOT NULL,
    valid_from        TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    valid_to          TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    -- Every rule applies to exactly one axis: a staff member or a category.
    CONSTRAINT ck_commission_rules_staff_xor_category
        CHECK ((staff_id IS NULL) <> (service_category IS NULL)),
    CONSTRAINT ck_commission_rules_valid_range
        CHECK (valid_to IS NULL OR valid_to > valid_from)
);

CREATE INDEX idx_commission_rules_staff_active ON commission_rules (staff_id)
    WHERE valid_to IS NULL;

CREATE TABLE commission_period (
    id                       UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    staff_id                 UUID NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    period_start             DATE NOT NULL,
    period_end               DATE NOT NULL,
    commission_kes_minor     INT NOT NULL DEFAULT 0,
    tip_kes_minor            INT NOT NULL DEFAULT 0,
    hours_worked             NUMERIC(8,2) NOT NULL DEFAULT 0,
    services_rendered_count  INT NOT NULL DEFAULT 0,
    type                     VARCHAR(15) NOT NULL DEFAULT 'close'
        CONSTRAINT ck_commission_period_type CHECK (type IN ('close', 'amendment')),
    amendment_of_id          UUID REFERENCES commission_period (id),
    frozen_at                TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    vendor_period_id         VARCHAR(100),
    CONSTRAINT ck_commission_period_range CHECK (period_end >= period_start),
    -- Close rows stand alone; an amendment always points at what it amends.
    CONSTRAINT ck_commission_period_amendment_link CHECK (
        (type = 'close' AND amendment_of_id IS NULL)
        OR (type = 'amendment' AND amendment_of_id IS NOT NULL)),
    CONSTRAINT uq_commission_period_idempotency
        UNIQUE (staff_id, period_start, period_end, type)
);

CREATE INDEX idx_commission_period_staff_period ON commission_period (staff_id, period_start);
