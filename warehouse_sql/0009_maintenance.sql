-- Scheduled upkeep (the Airflow DAGs in deploy/airflow/dags/): when each DAG
-- last succeeded, which the DAG exporter serves to Prometheus, and the
-- monthly partitions of every range-partitioned table with the month each
-- one holds, which partition upkeep creates ahead and retires past retention.

CREATE TABLE metadata.dag_success (
    dag_id        text PRIMARY KEY,
    logical_date  timestamptz NOT NULL,   -- of the run that last succeeded
    succeeded_at  timestamptz NOT NULL DEFAULT now()
);

-- Monthly partitions are named <parent>_yYYYYmMM (see
-- warehouse.ensure_telemetry_partitions); attached ones name their parent,
-- detached ones (a retirement interrupted after its DETACH) have parent NULL.
CREATE VIEW metadata.monthly_partitions AS
SELECT c.relname::text AS partition,
       p.relname::text AS parent,
       substring(c.relname FROM '^(.*)_y[0-9]{4}m[0-9]{2}$') AS family,
       to_date(substring(c.relname FROM '_y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM') AS month
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'warehouse'
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
LEFT JOIN pg_class p ON p.oid = i.inhparent
WHERE c.relkind = 'r' AND c.relname ~ '_y[0-9]{4}m[0-9]{2}$';
