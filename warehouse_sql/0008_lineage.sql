-- Lineage: every dimension version, change-log row and fact keeps where it
-- came from, beside the event_id it already has: the clean record's Kafka
-- coordinates, and the raw record's (topic, partition, offset, Kafka
-- timestamp) from the clean record's provenance headers (orion/provenance.py).
-- `orion lineage` follows them back to Kafka and the bronze archive.
--
-- The loader fills them (sinks/warehouse/tables.py: LINEAGE names them once);
-- rows loaded before this migration, records without provenance headers and
-- inferred members have NULLs. A version of an SCD2 dimension keeps the
-- coordinates of the change event that started it; a fact those of the event
-- whose values it holds. Adding nullable columns without defaults rewrites no
-- table. No index on them or on event_id: lookups by event id are an
-- operator's occasional query and scan the tables; the loader pays nothing.

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'dim_customer', 'dim_customer_changes', 'dim_vehicle', 'dim_vehicle_changes',
        'dim_dealer', 'dim_supplier',
        'fact_sales', 'fact_payments', 'fact_commissions', 'fact_expenses',
        'fact_production_costs', 'fact_service_events', 'fact_procurement',
        'fact_inventory', 'fact_interactions', 'fact_telemetry'
    ] LOOP
        EXECUTE format(
            'ALTER TABLE warehouse.%I '
            'ADD COLUMN clean_topic text, ADD COLUMN clean_partition integer, '
            'ADD COLUMN clean_offset bigint, ADD COLUMN raw_topic text, '
            'ADD COLUMN raw_partition integer, ADD COLUMN raw_offset bigint, '
            'ADD COLUMN raw_timestamp timestamptz', t);
    END LOOP;
END;
$$;
