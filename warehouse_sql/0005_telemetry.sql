-- Telemetry: the largest fact, range-partitioned by month of the reading
-- time so old months can be detached or dropped whole. The loader calls
-- warehouse.ensure_telemetry_partitions() for the months a batch touches
-- (plus the next one) before it inserts; a DEFAULT partition is deliberately
-- absent, so a reading outside every partition fails loudly instead of
-- piling up where no pruning helps.

CREATE TABLE warehouse.fact_telemetry (
    telemetry_id   text NOT NULL,
    event_time     timestamptz NOT NULL,      -- reading time
    vin            text NOT NULL,
    vehicle_key    bigint NOT NULL,
    date_key       integer NOT NULL,
    speed_kmh      double precision NOT NULL CHECK (speed_kmh BETWEEN 0 AND 350),
    fuel_level_pct double precision NOT NULL CHECK (fuel_level_pct BETWEEN 0 AND 100),
    engine_temp_c  double precision NOT NULL CHECK (engine_temp_c BETWEEN -50 AND 250),
    latitude       double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude      double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    odometer_km    integer NOT NULL CHECK (odometer_km >= 0),
    error_codes    text[] NOT NULL DEFAULT '{}',
    event_id       text NOT NULL,
    produced_at    timestamptz NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (telemetry_id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX fact_telemetry_vin ON warehouse.fact_telemetry (vin, event_time);

-- Creates the monthly partitions covering [p_from, p_to] that do not exist
-- yet, named fact_telemetry_yYYYYmMM; returns how many it created. Months are
-- UTC months. Safe to call concurrently with loads (it takes the lock a
-- CREATE TABLE ... PARTITION OF takes, only when something is missing).
CREATE FUNCTION warehouse.ensure_telemetry_partitions(p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m timestamp;
    created integer := 0;
    name text;
BEGIN
    FOR m IN
        SELECT generate_series(date_trunc('month', p_from AT TIME ZONE 'UTC'),
                               date_trunc('month', p_to AT TIME ZONE 'UTC'), interval '1 month')
    LOOP
        name := format('fact_telemetry_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'));
        IF to_regclass(format('warehouse.%I', name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE warehouse.%I PARTITION OF warehouse.fact_telemetry '
                'FOR VALUES FROM (%L) TO (%L)',
                name, (m AT TIME ZONE 'UTC'), ((m + interval '1 month') AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;
