-- Data-quality outcomes (#18): what the dq sink (`orion sink dq`, sinks/dq/) counts
-- from the raw, clean and dead-letter topics, and the scorecard computed from them.
--
-- Every count is bucketed by the hour the raw record reached Kafka (its Kafka
-- timestamp; clean records and dead letters carry it as orion.source.timestamp),
-- so an event's arrival and its verdict fall into the same hour and
-- events in - accepted - rejected holds per hour, not only in total.
--
-- Views in this schema are the report's data-quality section (each titled by
-- its comment) and the Grafana panels; `orion dq` calls the functions. The
-- numbers are computed here, once.

CREATE SCHEMA IF NOT EXISTS dq;

-- One row per (system, entity, hour, outcome, rule or reason); counts only grow.
--   in        every raw record, poison included ('' rule)
--   accepted  every clean record ('' rule): ACCEPT and REPAIR together
--   repaired  clean records some repair rule changed ('' rule)
--   repair    per repair rule (orion.repairs): a record two rules changed counts under both
--   rejected  dead letters, per reason (orion.reason)
CREATE TABLE dq.outcomes (
    system         text        NOT NULL,
    entity         text        NOT NULL,
    hour           timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
    outcome        text        NOT NULL
                   CHECK (outcome IN ('in', 'accepted', 'repaired', 'repair', 'rejected')),
    rule_or_reason text        NOT NULL DEFAULT '',
    count          bigint      NOT NULL CHECK (count >= 0),
    PRIMARY KEY (system, entity, hour, outcome, rule_or_reason)
);
CREATE INDEX outcomes_hour ON dq.outcomes (hour);

-- How far each partition has been counted. Never moves back: a replay of the
-- dq sink (its offsets in metadata.sink_offsets rewound) re-reads records below
-- it without counting them again, while their dead letters upsert unchanged.
-- To count everything again: TRUNCATE dq.outcomes, dq.counted, then rewind.
CREATE TABLE dq.counted (
    topic      text    NOT NULL,
    partition  integer NOT NULL CHECK (partition >= 0),
    counted_to bigint  NOT NULL CHECK (counted_to >= 0),
    PRIMARY KEY (topic, partition)
);

-- Every dead letter, keyed by its DLQ coordinates (a replay upserts, never doubles).
-- field and value: the offending field and its raw value where the rule's
-- message names them (NULL otherwise; value NULL also for a missing field).
CREATE TABLE dq.dead_letters (
    topic             text        NOT NULL,
    partition         integer     NOT NULL CHECK (partition >= 0),
    "offset"          bigint      NOT NULL CHECK ("offset" >= 0),
    dlq_timestamp     timestamptz,
    system            text        NOT NULL,
    entity            text        NOT NULL,
    reason            text        NOT NULL,
    rule              text,
    source_topic      text,
    source_partition  integer,
    source_offset     bigint,
    source_timestamp  timestamptz,
    exception_class   text,
    exception_message text,
    field             text,
    value             text,
    replayed_from     text,
    key               bytea,
    payload           bytea,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX dead_letters_reason ON dq.dead_letters (system, entity, reason);
CREATE INDEX dead_letters_source ON dq.dead_letters (source_topic, source_partition, source_offset);

-- Per entity over [since, until). duplicates = events in - accepted - rejected:
-- dropped duplicates appear on no topic, so this difference is all that shows them.
-- It also holds records still in flight: raw records the processors have not
-- judged yet and facts parked until their master data arrives (decided within
-- `orion process --reference-grace` once the processors have read past them).
-- So it is exact for hours the pipeline has caught up on; `settled` says whether
-- the window's last hour ended more than 15 minutes ago.
CREATE FUNCTION dq.entity_totals(since timestamptz, until timestamptz)
RETURNS TABLE (
    system text, entity text, events_in bigint, accepted bigint, repaired bigint,
    rejected bigint, duplicates bigint, settled boolean
)
LANGUAGE sql STABLE AS $$
    SELECT system, entity, events_in, accepted, repaired, rejected,
           events_in - accepted - rejected, last_hour + interval '75 minutes' <= now()
    FROM (
        SELECT system, entity,
               coalesce(sum(count) FILTER (WHERE outcome = 'in'), 0)::bigint AS events_in,
               coalesce(sum(count) FILTER (WHERE outcome = 'accepted'), 0)::bigint AS accepted,
               coalesce(sum(count) FILTER (WHERE outcome = 'repaired'), 0)::bigint AS repaired,
               coalesce(sum(count) FILTER (WHERE outcome = 'rejected'), 0)::bigint AS rejected,
               max(hour) AS last_hour
        FROM dq.outcomes WHERE hour >= since AND hour < until
        GROUP BY system, entity
    ) t
$$;

-- A share as a percentage with two decimals; NULL when nothing came in.
CREATE FUNCTION dq.pct(part bigint, whole bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN whole > 0 THEN round(100.0 * part / whole, 2) END
$$;

-- The scorecard of `orion dq --by system|entity`: counts and defect rates (%) over
-- the last `span` before `until`, and the change of each rate against the
-- window before it (percentage points; NULL when that window saw nothing).
CREATE FUNCTION dq.scorecard_by(dim text, span interval, until timestamptz DEFAULT now())
RETURNS TABLE (
    name text, events_in bigint, accepted bigint, repaired bigint, rejected bigint,
    duplicates bigint, reject_pct numeric, repair_pct numeric, duplicate_pct numeric,
    reject_trend numeric, repair_trend numeric, duplicate_trend numeric, settled boolean
)
LANGUAGE sql STABLE AS $$
    WITH cur AS (
        SELECT CASE dim WHEN 'system' THEN t.system ELSE t.system || '.' || t.entity END AS name,
               sum(t.events_in)::bigint AS events_in, sum(t.accepted)::bigint AS accepted,
               sum(t.repaired)::bigint AS repaired, sum(t.rejected)::bigint AS rejected,
               sum(t.duplicates)::bigint AS duplicates, bool_and(t.settled) AS settled
        FROM dq.entity_totals(until - span, until) t GROUP BY 1
    ), prev AS (
        SELECT CASE dim WHEN 'system' THEN t.system ELSE t.system || '.' || t.entity END AS name,
               sum(t.events_in)::bigint AS events_in, sum(t.repaired)::bigint AS repaired,
               sum(t.rejected)::bigint AS rejected, sum(t.duplicates)::bigint AS duplicates
        FROM dq.entity_totals(until - 2 * span, until - span) t GROUP BY 1
    )
    SELECT c.name, c.events_in, c.accepted, c.repaired, c.rejected, c.duplicates,
           dq.pct(c.rejected, c.events_in), dq.pct(c.repaired, c.events_in),
           dq.pct(c.duplicates, c.events_in),
           dq.pct(c.rejected, c.events_in) - dq.pct(p.rejected, p.events_in),
           dq.pct(c.repaired, c.events_in) - dq.pct(p.repaired, p.events_in),
           dq.pct(c.duplicates, c.events_in) - dq.pct(p.duplicates, p.events_in),
           c.settled
    FROM cur c LEFT JOIN prev p USING (name)
    WHERE dim IN ('system', 'entity')
    ORDER BY c.name
$$;

-- The scorecard of `orion dq --by rule`: dead letters per reason and repairs per
-- rule over the window, as a share (%) of every event that came in, and the
-- change against the window before.
CREATE FUNCTION dq.scorecard_by_rule(span interval, until timestamptz DEFAULT now())
RETURNS TABLE (
    outcome text, rule_or_reason text, records bigint, pct numeric, trend numeric
)
LANGUAGE sql STABLE AS $$
    WITH total AS (
        SELECT coalesce(sum(count) FILTER (WHERE hour >= until - span), 0)::bigint AS cur,
               coalesce(sum(count) FILTER (WHERE hour < until - span), 0)::bigint AS prev
        FROM dq.outcomes WHERE outcome = 'in' AND hour >= until - 2 * span AND hour < until
    ), r AS (
        SELECT outcome, rule_or_reason,
               coalesce(sum(count) FILTER (WHERE hour >= until - span), 0)::bigint AS cur,
               coalesce(sum(count) FILTER (WHERE hour < until - span), 0)::bigint AS prev
        FROM dq.outcomes
        WHERE outcome IN ('repair', 'rejected') AND hour >= until - 2 * span AND hour < until
        GROUP BY 1, 2
    )
    SELECT r.outcome, r.rule_or_reason, r.cur, dq.pct(r.cur, total.cur),
           dq.pct(r.cur, total.cur) - dq.pct(r.prev, total.prev)
    FROM r CROSS JOIN total
    WHERE r.cur > 0
    ORDER BY r.outcome <> 'rejected', r.cur DESC, r.rule_or_reason
$$;

CREATE VIEW dq.scorecard AS
    SELECT t.system, t.entity, t.events_in, t.accepted, t.repaired, t.rejected, t.duplicates,
           dq.pct(t.rejected, t.events_in) AS reject_pct,
           dq.pct(t.repaired, t.events_in) AS repair_pct,
           dq.pct(t.duplicates, t.events_in) AS duplicate_pct,
           t.settled
    FROM dq.entity_totals('-infinity', 'infinity') t
    ORDER BY t.system, t.entity;
COMMENT ON VIEW dq.scorecard IS
    'Data quality per entity: events in, accepted, repaired, rejected, duplicates (in - accepted - rejected) and their rates';

CREATE VIEW dq.defects_by_rule AS
    SELECT outcome, rule_or_reason, sum(count)::bigint AS records,
           dq.pct(sum(count)::bigint,
                  (SELECT coalesce(sum(count), 0)::bigint FROM dq.outcomes WHERE outcome = 'in'))
               AS pct_of_events_in
    FROM dq.outcomes WHERE outcome IN ('repair', 'rejected')
    GROUP BY outcome, rule_or_reason
    ORDER BY outcome <> 'rejected', records DESC, rule_or_reason;
COMMENT ON VIEW dq.defects_by_rule IS
    'Dead letters per reason and repairs per rule, as a share of every event in';

CREATE VIEW dq.daily_rates AS
    SELECT (hour AT TIME ZONE 'UTC')::date AS day,
           coalesce(sum(count) FILTER (WHERE outcome = 'in'), 0)::bigint AS events_in,
           dq.pct(coalesce(sum(count) FILTER (WHERE outcome = 'rejected'), 0)::bigint,
                  sum(count) FILTER (WHERE outcome = 'in')::bigint) AS reject_pct,
           dq.pct(coalesce(sum(count) FILTER (WHERE outcome = 'repaired'), 0)::bigint,
                  sum(count) FILTER (WHERE outcome = 'in')::bigint) AS repair_pct,
           dq.pct((sum(count) FILTER (WHERE outcome = 'in')
                   - coalesce(sum(count) FILTER (WHERE outcome IN ('accepted', 'rejected')), 0))::bigint,
                  sum(count) FILTER (WHERE outcome = 'in')::bigint) AS duplicate_pct
    FROM dq.outcomes GROUP BY 1 ORDER BY 1;
COMMENT ON VIEW dq.daily_rates IS
    'Defect rates per day of arrival (%): rejected, repaired, duplicates';

CREATE VIEW dq.dead_letter_fields AS
    SELECT system, entity, reason, coalesce(field, '') AS field, count(*)::bigint AS records
    FROM dq.dead_letters GROUP BY 1, 2, 3, 4 ORDER BY records DESC, 1, 2, 3, 4;
COMMENT ON VIEW dq.dead_letter_fields IS
    'Dead letters per entity, reason and offending field (dq.dead_letters)';
