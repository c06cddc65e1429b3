-- A version per tenant, bumped by every change to its registry row or to
-- its admins, however made (the admin API, an operator's SQL): a node
-- keeps a tenant's record and admin list in memory and reads them again
-- when a message is claimed with a newer version (`storage::inbox::claim`
-- returns it), so a suspension, a new token or a new admin applies from
-- the next message on every node, without a query per message.
-- Idempotent: a database that already has it is left as it is.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS registry_version BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION bump_tenant_registry_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.registry_version := OLD.registry_version + 1;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION bump_tenant_registry_version_for_admins() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE public.tenants SET registry_version = registry_version + 1 WHERE id = NEW.tenant_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE public.tenants SET registry_version = registry_version + 1 WHERE id = OLD.tenant_id;
    ELSE
        UPDATE public.tenants SET registry_version = registry_version + 1
        WHERE id = OLD.tenant_id OR id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS trg_tenants_registry_version ON tenants;
CREATE TRIGGER trg_tenants_registry_version
    BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION bump_tenant_registry_version();

DROP TRIGGER IF EXISTS trg_tenant_admins_registry_version ON tenant_admins;
CREATE TRIGGER trg_tenant_admins_registry_version
    AFTER INSERT OR UPDATE OR DELETE ON tenant_admins
    FOR EACH ROW EXECUTE FUNCTION bump_tenant_registry_version_for_admins();
