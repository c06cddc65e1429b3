-- One row per tenant and local day whose admin briefing was sent: the
-- node that inserts it (in the sending transaction) sends; others find it.
CREATE TABLE IF NOT EXISTS admin_briefings (
    tenant_id   UUID NOT NULL,
    local_date  DATE NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    admins      INT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, local_date)
);
