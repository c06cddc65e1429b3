-- Curated knowledge for free-form questions. Scoped to the tenant by its
-- schema alone, so no tenant id column.

CREATE TABLE knowledge_snippets (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    category    TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    language    TEXT NOT NULL DEFAULT 'en',
    is_active   BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_knowledge_snippets_category ON knowledge_snippets (category)
    WHERE is_active;
