-- Bearer tokens of the admin API (/api/v1). A token is shown once, when it
-- is made; only its SHA-256 is kept. A tenant token acts for one admin of
-- one tenant (public.tenant_admins) and stops working when that admin is
-- deactivated; a platform token (platform = TRUE, no tenant, no admin) can
-- onboard tenants and read every review queue. Tokens expire and can be
-- revoked; revoked and expired rows stay as the record of who had access.
CREATE TABLE admin_api_tokens (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    token_sha256  BYTEA NOT NULL
        CONSTRAINT uq_admin_api_tokens_sha256 UNIQUE,
    platform      BOOLEAN NOT NULL DEFAULT FALSE,
    tenant_id     UUID REFERENCES tenants (id),
    admin_id      UUID REFERENCES tenant_admins (id),
    label         TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    CONSTRAINT ck_admin_api_tokens_scope CHECK (
        (platform AND tenant_id IS NULL AND admin_id IS NULL)
        OR (NOT platform AND tenant_id IS NOT NULL AND admin_id IS NOT NULL))
);

CREATE INDEX idx_admin_api_tokens_admin ON admin_api_tokens (admin_id);
