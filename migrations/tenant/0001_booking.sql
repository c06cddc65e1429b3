-- The core booking domain of one tenant. Every statement is unqualified: the
-- migrator runs with search_path set to exactly this tenant's schema.

CREATE TABLE services (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name          VARCHAR(255) NOT NULL,
    name_sw       VARCHAR(255),
    description   TEXT,
    duration_min  INT NOT NULL,
    price         NUMERIC(10,2) NOT NULL,
    currency      VARCHAR(3) DEFAULT 'KES',
    buffer_min    INT DEFAULT 15,
    is_active     BOOLEAN DEFAULT TRUE,
    sort_order    INT DEFAULT 0,
    created_at    TIMESTAMPTZ DEFAULT NOW(),
    updated_at    TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE staff (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name                VARCHAR(255) NOT NULL,
    phone_number        VARCHAR(20),
    is_active           BOOLEAN DEFAULT TRUE,
    created_at          TIMESTAMPTZ DEFAULT NOW(),
    updated_at          TIMESTAMPTZ DEFAULT NOW(),
    kra_pin             TEXT
        CONSTRAINT ck_staff_kra_pin CHECK (kra_pin ~ '^[AP][0-9]{9}[A-Z]$'),
    nssf_number         TEXT,
    shif_number         TEXT,
    hire_date           DATE,
    employment_type     VARCHAR(20) DEFAULT 'permanent'
        CONSTRAINT ck_staff_employment_type
        CHECK (employment_type IN ('permanent', 'casual', 'commission_only', 'apprentice')),
    base_pay_kes_minor  INT
);

CREATE TABLE staff_services (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    staff_id    UUID REFERENCES staff (id) ON DELETE CASCADE,
    service_id  UUID REFERENCES services (id) ON DELETE CASCADE,
    CONSTRAINT uq_staff_services_staff_service UNIQUE (staff_id, service_id)
);

CREATE TABLE staff_schedules (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    staff_id      UUID REFERENCES staff (id) ON DELETE CASCADE,
    day_of_week   SMALLINT NOT NULL
        CONSTRAINT ck_staff_schedules_day_of_week CHECK (day_of_week BETWEEN 0 AND 6),
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    is_available  BOOLEAN DEFAULT TRUE,
    CONSTRAINT uq_staff_schedules_staff_day UNIQUE (staff_id, day_of_week)
);

CREATE TABLE staff_blocks (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    staff_id    UUID REFERENCES staff (id) ON DELETE CASCADE,
    start_at    TIMESTAMPTZ NOT NULL,
    end_at      TIMESTAMPTZ NOT NULL,
    reason      VARCHAR(255),
    created_at  TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE contacts (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    phone_number    VARCHAR(20) NOT NULL UNIQUE,
    name            TEXT,
    email           TEXT,
    language_pref   TEXT DEFAULT 'en',
    tags            TEXT[] DEFAULT '{}',
    notes           TEXT,
    total_bookings  INT DEFAULT 0,
    total_spent     NUMERIC DEFAULT 0,
    last_visit_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ DEFAULT NOW(),
    updated_at      TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE appointments (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    contact_id       UUID REFERENCES contacts (id),
    service_id       UUID REFERENCES services (id),
    staff_id         UUID REFERENCES staff (id),
    start_at         TIMESTAMPTZ NOT NULL,
    end_at           TIMESTAMPTZ NOT NULL,
    status           VARCHAR(20) DEFAULT 'pending'
        CONSTRAINT ck_appointments_status
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
    payment_status   VARCHAR(20) DEFAULT 'unpaid'
        CONSTRAINT ck_appointments_payment_status
        CHECK (payment_status IN ('unpaid', 'pending', 'paid', 'refunded')),
    payment_ref      TEXT,
    amount           NUMERIC,
    booking_channel  TEXT
        CONSTRAINT ck_appointments_booking_channel
        CHECK (booking_channel IN ('whatsapp', 'voice', 'dashboard', 'web', 'instagram', 'messenger')),
    cancelled_by     TEXT
        CONSTRAINT ck_appointments_cancelled_by
        CHECK (cancelled_by IN ('customer', 'admin', 'system')),
    cancel_reason    TEXT,
    reminder_sent    BOOLEAN DEFAULT FALSE,
    actual_start_at  TIMESTAMPTZ,
    actual_end_at    TIMESTAMPTZ,
    tip_amount       NUMERIC(10,2),
    staff_notes      TEXT,
    created_at       TIMESTAMPTZ DEFAULT NOW(),
    updated_at       TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_appointments_staff_date ON appointments (staff_id, start_at)
    WHERE status != 'cancelled';
CREATE INDEX idx_appointments_contact ON appointments (contact_id);
CREATE INDEX idx_appointments_status_date ON appointments (status, start_at);

CREATE TABLE interactions (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    contact_id    UUID REFERENCES contacts (id),
    channel       VARCHAR(20) NOT NULL
        CONSTRAINT ck_interactions_channel CHECK (channel IN ('whatsapp', 'voice', 'dashboard')),
    direction     VARCHAR(10) NOT NULL
        CONSTRAINT ck_interactions_direction CHECK (direction IN ('inbound', 'outbound')),
    message_type  TEXT,
    content       TEXT,
    intent        TEXT,
    language      TEXT,
    duration_ms   INT,
    metadata      JSONB,
    created_at    TIMESTAMPTZ DEFAULT NOW()
);

CREATE INDEX idx_interactions_contact ON interactions (contact_id, created_at DESC);

CREATE TABLE payments (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    appointment_id     UUID REFERENCES appointments (id),
    contact_id         UUID REFERENCES contacts (id),
    amount             NUMERIC(10,2) NOT NULL,
    currency           VARCHAR(3) DEFAULT 'KES',
    provider           VARCHAR(20)
        CONSTRAINT ck_payments_provider CHECK (provider IN ('mpesa', 'airtel', 'equitel', 'pesapal')),
    mpesa_receipt      VARCHAR(50),
    mpesa_checkout_id  VARCHAR(100),
    phone_number       TEXT,
    status             VARCHAR(30)
        CONSTRAINT ck_payments_status CHECK (status IN
            ('initiated', 'pending', 'completed', 'failed', 'timeout', 'cancelled_by_customer')),
    initiated_at       TIMESTAMPTZ,
    completed_at       TIMESTAMPTZ,
    callback_payload   JSONB,
    created_at         TIMESTAMPTZ DEFAULT NOW(),
    CONSTRAINT uq_payments_mpesa_receipt UNIQUE (mpesa_receipt) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX idx_payments_checkout ON payments (mpesa_checkout_id);
CREATE INDEX idx_payments_appointment ON payments (appointment_id);
