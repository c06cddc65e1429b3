-- Commission rules and period closes changed through the admin API are
-- audited in catalog_audits like the catalogue (entity 'commission_rule'
-- or 'commission_period'; the row's id in service_id). Keeps what 0011
-- allowed.
ALTER TABLE catalog_audits DROP CONSTRAINT IF EXISTS ck_catalog_audits_entity;
ALTER TABLE catalog_audits ADD CONSTRAINT ck_catalog_audits_entity CHECK (
    entity IN ('service', 'staff', 'staff_service', 'schedule', 'block',
               'commission_rule', 'commission_period'));
