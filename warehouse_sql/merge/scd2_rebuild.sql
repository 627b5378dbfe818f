-- SCD2 history of the business keys in {affected}, rebuilt from every change
-- event ever received ({changes}) and applied to {dim} as a diff.
--
-- Why rebuild instead of "close the current row, insert the new one": a change
-- that arrives after a newer one belongs in the middle of the history, and an
-- event that changed nothing when it arrived (same row hash as the version it
-- followed) can become a real change once an older event lands before it. A
-- history computed from the whole log of the key is the same whatever order
-- events came in, so crashes, replays and late arrivals give one answer.
--
-- Rules, per key, events ordered by updated_at (one event per instant: the
-- greatest (operation, row_hash), so ties resolve the same on every run):
--   * an UPSERT starts a version when nothing is live (first event, or after
--     a DELETE) or its row hash differs from the live one;
--   * a DELETE closes the live version at its updated_at (deleted_at set);
--   * a version is valid [its updated_at, the next boundary), current when
--     nothing follows it.
-- Existing rows keep their surrogate key when a version with the same
-- valid_from survives; an inferred member is taken over by the first version.
-- A version keeps the event_id and lineage columns ({lineage}) of the change
-- event that started it.
-- Placeholders are psycopg2.sql identifiers, filled in by sinks/warehouse/merge.py.

DROP TABLE IF EXISTS pg_temp.scd2_versions;
CREATE TEMP TABLE scd2_versions ON COMMIT DROP AS
WITH ev AS (
    SELECT DISTINCT ON (c.{key}, c.updated_at) c.*
    FROM {changes} c
    JOIN {affected} a ON a.{key} = c.{key}
    ORDER BY c.{key}, c.updated_at, c.operation DESC, c.row_hash DESC
), marked AS (
    SELECT ev.*,
           lag(ev.operation) OVER w AS prev_op,
           lag(ev.row_hash) OVER w AS prev_hash
    FROM ev
    WINDOW w AS (PARTITION BY ev.{key} ORDER BY ev.updated_at)
), boundaries AS (
    SELECT *
    FROM marked
    WHERE (operation = 'UPSERT' AND (prev_op IS NULL OR prev_op = 'DELETE' OR prev_hash <> row_hash))
       OR (operation = 'DELETE' AND prev_op = 'UPSERT')
), spans AS (
    SELECT b.*,
           lead(b.updated_at) OVER w AS next_at,
           lead(b.operation) OVER w AS next_op
    FROM boundaries b
    WINDOW w AS (PARTITION BY b.{key} ORDER BY b.updated_at)
)
SELECT s.{key}, {s_attributes}, s.row_hash, s.event_id, {s_lineage},
       s.updated_at AS valid_from,
       coalesce(s.next_at, 'infinity') AS valid_to,
       s.next_at IS NULL AS is_current,
       CASE WHEN s.next_op = 'DELETE' THEN s.next_at END AS deleted_at,
       row_number() OVER (PARTITION BY s.{key} ORDER BY s.updated_at) AS rn
FROM spans s
WHERE s.operation = 'UPSERT';

DROP TABLE IF EXISTS pg_temp.scd2_map;
CREATE TEMP TABLE scd2_map ON COMMIT DROP AS
SELECT v.*, d.{surrogate} AS existing
FROM scd2_versions v
LEFT JOIN {dim} d
       ON d.{key} = v.{key}
      AND (d.valid_from = v.valid_from OR (d.is_inferred AND v.rn = 1));

-- Versions that no longer exist (absorbed by a late event). An inferred
-- member stays while its key has no version at all (only DELETEs so far).
DELETE FROM {dim} d
USING {affected} a
WHERE d.{key} = a.{key}
  AND NOT EXISTS (SELECT 1 FROM scd2_map m WHERE m.existing = d.{surrogate})
  AND NOT (d.is_inferred AND NOT EXISTS (SELECT 1 FROM scd2_versions v WHERE v.{key} = d.{key}));

-- Closed versions first, then current ones, so the partial unique index on
-- current rows never sees two at once (the overlap constraint is deferred).
UPDATE {dim} d
SET valid_from = m.valid_from, valid_to = m.valid_to, is_current = m.is_current,
    deleted_at = m.deleted_at, row_hash = m.row_hash, event_id = m.event_id,
    is_inferred = false, loaded_at = now(), {set_attributes}
FROM scd2_map m
WHERE d.{surrogate} = m.existing
  AND NOT m.is_current
  AND (d.valid_from, d.valid_to, d.is_current, d.deleted_at, d.row_hash, d.event_id, d.is_inferred, {d_lineage})
      IS DISTINCT FROM (m.valid_from, m.valid_to, m.is_current, m.deleted_at, m.row_hash, m.event_id, false, {m_lineage});

UPDATE {dim} d
SET valid_from = m.valid_from, valid_to = m.valid_to, is_current = m.is_current,
    deleted_at = m.deleted_at, row_hash = m.row_hash, event_id = m.event_id,
    is_inferred = false, loaded_at = now(), {set_attributes}
FROM scd2_map m
WHERE d.{surrogate} = m.existing
  AND m.is_current
  AND (d.valid_from, d.valid_to, d.is_current, d.deleted_at, d.row_hash, d.event_id, d.is_inferred, {d_lineage})
      IS DISTINCT FROM (m.valid_from, m.valid_to, m.is_current, m.deleted_at, m.row_hash, m.event_id, false, {m_lineage});

INSERT INTO {dim} ({key}, {attributes}, row_hash, event_id, {lineage}, valid_from, valid_to, is_current, deleted_at)
SELECT m.{key}, {m_attributes}, m.row_hash, m.event_id, {m_lineage}, m.valid_from, m.valid_to, m.is_current, m.deleted_at
FROM scd2_map m
WHERE m.existing IS NULL
ORDER BY m.{key}, m.valid_from;
