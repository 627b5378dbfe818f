-- End-to-end latency: every dimension version, change-log row and fact names
-- the load that wrote it (metadata.load_batches.batch_id), so a row's latency
-- is its batch's committed_at minus its raw_timestamp (the moment the producer
-- handed the event to Kafka, 0008_lineage.sql). The loader takes the batch id
-- from the sequence at the start of the transaction and writes the
-- load_batches row as the transaction's last statement; committed_at
-- (clock_timestamp()) therefore precedes the COMMIT by the commit's own fsync.
-- A rebuilt SCD2 version keeps the batch of the change event that started it,
-- like the rest of its lineage. NULL for rows loaded before this migration.
-- `python -m bench.e2e` reads it; orion_warehouse_e2e_latency_seconds is the
-- same figure as a metric.

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
        EXECUTE format('ALTER TABLE warehouse.%I ADD COLUMN load_batch_id bigint', t);
    END LOOP;
END;
$$;
