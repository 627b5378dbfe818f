-- Least-privilege roles, and the PII the analysts may see (masked only).
--
--   orion_migrator  owns the schemas and everything in them; runs migrations
--                   (sinks/warehouse/migrations.py runs every later migration
--                   under SET ROLE orion_migrator, so what they create is its).
--   orion_loader    the warehouse and dq sinks: reads and writes the tables
--                   they load, nothing else. Not an owner, so it cannot DROP,
--                   ALTER or TRUNCATE; no CREATE on any schema. TEMP for its
--                   staging tables; telemetry partitions come from a SECURITY
--                   DEFINER function the migrator owns.
--   orion_analyst   `orion report`, `orion dq`, the HTML report: SELECT on
--                   analytics.* and the dq / load-history views the report
--                   reads; no access to any warehouse table, so no PII column.
--
-- Roles belong to the cluster, grants to a database: the roles are created
-- only when missing (NOLOGIN; no secret lives in a migration, `orion stack up`
-- or the DBA gives them LOGIN and a password), the grants are made in every
-- database this file runs in. Running it as a non-superuser needs CREATEROLE
-- the first time in a cluster, and membership in orion_migrator.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['orion_migrator', 'orion_loader', 'orion_analyst'] LOOP
        IF to_regrole(r) IS NULL THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migration created it at the same moment
            END;
        END IF;
    END LOOP;
    IF NOT pg_has_role('orion_migrator', 'MEMBER') THEN
        EXECUTE format('GRANT orion_migrator TO %I', current_user);
    END IF;
END;
$$;

-- The migrator owns the schemas and every object in them (a no-op when it
-- ran the earlier migrations itself). Sequences of identity columns and
-- indexes move with their table.
DO $$
DECLARE
    o record;
BEGIN
    FOR o IN SELECT nspname FROM pg_namespace
             WHERE nspname IN ('warehouse', 'analytics', 'metadata', 'dq') LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO orion_migrator', o.nspname);
    END LOOP;
    FOR o IN SELECT c.oid::regclass AS rel FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('warehouse', 'analytics', 'metadata', 'dq')
               AND c.relkind IN ('r', 'p', 'v', 'm') LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO orion_migrator', o.rel);
    END LOOP;
    FOR o IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('warehouse', 'analytics', 'metadata', 'dq') LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO orion_migrator', o.fn);
    END LOOP;
END;
$$;

-- Every PII column of the warehouse, declared once: what it is and how the
-- analytics views show it. The tests hold the roles to this list; the
-- customers' and dealers' .avsc fields of orion.kind email/phone must be here.
CREATE TABLE metadata.pii_columns (
    table_name  text NOT NULL,
    column_name text NOT NULL,
    shown_as    text NOT NULL CHECK (shown_as IN ('masked', 'year only', 'initial', 'never')),
    PRIMARY KEY (table_name, column_name)
);
INSERT INTO metadata.pii_columns (table_name, column_name, shown_as)
SELECT t, c, s
FROM (VALUES ('first_name', 'initial'), ('last_name', 'initial'), ('customer_name', 'never'),
             ('email', 'masked'), ('phone', 'masked'), ('date_of_birth', 'year only'),
             ('street_number', 'never'), ('street_name', 'never')) x(c, s)
CROSS JOIN (VALUES ('dim_customer'), ('dim_customer_changes')) y(t)
WHERE NOT (t = 'dim_customer_changes' AND c = 'customer_name')
UNION ALL
VALUES ('dim_dealer', 'contact_name', 'never'), ('dim_dealer', 'contact_email', 'never'),
       ('dim_dealer', 'contact_phone', 'never'), ('dim_supplier', 'contact_email', 'never'),
       ('dim_supplier', 'contact_phone', 'never'),
       ('fact_interactions', 'notes', 'never'),
       ('dead_letters', 'key', 'never'), ('dead_letters', 'payload', 'never'),
       ('dead_letters', 'value', 'never'), ('dead_letters', 'exception_message', 'never'),
       ('rejected_records', 'value', 'never'), ('rejected_records', 'detail', 'never');
COMMENT ON TABLE metadata.pii_columns IS
    'Columns holding personal data; orion_analyst may select none of them';

-- Masking, for the analytics views. NULL in, NULL out.
-- j***@example.co.za: the first letter of the local part and the whole domain.
CREATE FUNCTION analytics.mask_email(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p IS NULL THEN NULL
            WHEN strpos(p, '@') < 2 THEN '***'
            ELSE left(p, 1) || '***' || substr(p, strpos(p, '@')) END;

-- *******123: only the last three digits, every other digit a star.
CREATE FUNCTION analytics.mask_phone(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p IS NULL THEN NULL
            ELSE repeat('*', greatest(length(regexp_replace(p, '\D', '', 'g')) - 3, 0))
                 || right(regexp_replace(p, '\D', '', 'g'), 3) END;

-- A name as its initial: T.
CREATE FUNCTION analytics.mask_name(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p IS NULL OR p = '' THEN p ELSE left(p, 1) || '.' END;

CREATE FUNCTION analytics.birth_year(p date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(year FROM p)::integer;

ALTER FUNCTION analytics.mask_email(text) OWNER TO orion_migrator;
ALTER FUNCTION analytics.mask_phone(text) OWNER TO orion_migrator;
ALTER FUNCTION analytics.mask_name(text) OWNER TO orion_migrator;
ALTER FUNCTION analytics.birth_year(date) OWNER TO orion_migrator;

-- The customers as an analyst sees them: no street, no full name, no date of
-- birth; the rest of the address (suburb, city, province) stays for segments.
CREATE VIEW analytics.customer_directory AS
SELECT customer_id, analytics.mask_name(first_name) AS first_initial,
       analytics.mask_name(last_name) AS last_initial,
       analytics.mask_email(email) AS email, analytics.mask_phone(phone) AS phone,
       analytics.birth_year(date_of_birth) AS birth_year, gender, suburb, city, province,
       postal_code, country, customer_since, status
FROM warehouse.dim_customer
WHERE is_current AND NOT is_inferred
ORDER BY customer_id;
COMMENT ON VIEW analytics.customer_directory IS 'Current customers, personal data masked';
ALTER VIEW analytics.customer_directory OWNER TO orion_migrator;

-- The report's data-quality section counts inferred members per dimension;
-- through this view the analyst needs no column of a dimension table.
CREATE VIEW metadata.inferred_members AS
SELECT 'dim_customer' AS dimension, count(*) FILTER (WHERE is_inferred) AS inferred, count(*) AS total
FROM warehouse.dim_customer WHERE is_current
UNION ALL
SELECT 'dim_dealer', count(*) FILTER (WHERE is_inferred), count(*) FROM warehouse.dim_dealer
UNION ALL
SELECT 'dim_supplier', count(*) FILTER (WHERE is_inferred), count(*) FROM warehouse.dim_supplier
UNION ALL
SELECT 'dim_vehicle', count(*) FILTER (WHERE is_inferred), count(*)
FROM warehouse.dim_vehicle WHERE is_current;
COMMENT ON VIEW metadata.inferred_members IS 'Inferred members and current rows per dimension';
ALTER VIEW metadata.inferred_members OWNER TO orion_migrator;
ALTER TABLE metadata.pii_columns OWNER TO orion_migrator;

-- Telemetry partitions are created while loading: as the migrator, for the
-- loader only.
ALTER FUNCTION warehouse.ensure_telemetry_partitions(timestamptz, timestamptz)
    SECURITY DEFINER SET search_path = pg_catalog, warehouse;
REVOKE EXECUTE ON FUNCTION warehouse.ensure_telemetry_partitions(timestamptz, timestamptz) FROM PUBLIC;

-- Grants of this database.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO orion_loader', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO orion_analyst', current_database());
END;
$$;

GRANT USAGE ON SCHEMA warehouse, metadata, dq TO orion_loader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA warehouse TO orion_loader;
GRANT SELECT, INSERT, UPDATE, DELETE ON dq.outcomes, dq.counted, dq.dead_letters TO orion_loader;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON metadata.sink_offsets, metadata.rejected_records, metadata.load_batches TO orion_loader;
GRANT SELECT ON metadata.schema_migrations TO orion_loader;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA warehouse, metadata, dq TO orion_loader;
GRANT EXECUTE ON FUNCTION warehouse.ensure_telemetry_partitions(timestamptz, timestamptz)
    TO orion_loader;

GRANT USAGE ON SCHEMA analytics, dq, metadata TO orion_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO orion_analyst;
GRANT SELECT ON dq.scorecard, dq.defects_by_rule, dq.daily_rates, dq.dead_letter_fields,
    dq.outcomes TO orion_analyst;
GRANT SELECT ON metadata.schema_migrations, metadata.load_batches, metadata.inferred_members,
    metadata.pii_columns TO orion_analyst;
GRANT SELECT (sink, topic, partition, "offset", reason, rejected_at)
    ON metadata.rejected_records TO orion_analyst;

-- Tables and views later migrations create get the same grants (default
-- privileges are per database and per creating role: the migrator). A new
-- dq view for the analyst, or a new metadata table, still needs its GRANT.
ALTER DEFAULT PRIVILEGES FOR ROLE orion_migrator IN SCHEMA warehouse, dq
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO orion_loader;
ALTER DEFAULT PRIVILEGES FOR ROLE orion_migrator IN SCHEMA warehouse, metadata, dq
    GRANT USAGE, SELECT ON SEQUENCES TO orion_loader;
ALTER DEFAULT PRIVILEGES FOR ROLE orion_migrator IN SCHEMA analytics
    GRANT SELECT ON TABLES TO orion_analyst;
