-- Schemas, extensions and the loader's own bookkeeping.
-- metadata.schema_migrations is created by the migrator itself (it must exist
-- before this file can be recorded); everything else starts here.

CREATE SCHEMA IF NOT EXISTS warehouse;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS metadata;

-- GiST on (text =, tstzrange &&): the SCD2 "no overlapping validity" constraints.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- Consumer positions of every sink that writes here, stored in the same
-- transaction as the rows they produced: the warehouse's exactly-once.
CREATE TABLE metadata.sink_offsets (
    sink        text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL CHECK (partition >= 0),
    next_offset bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, topic, partition)
);

-- Records of a clean topic that could not be loaded (undecodable bytes):
-- kept for people to inspect, counted, and skipped so the stream moves on.
CREATE TABLE metadata.rejected_records (
    sink        text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    reason      text        NOT NULL,
    detail      text        NOT NULL,
    value       bytea,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, topic, partition, "offset")
);

-- One row per committed batch: the audit trail and the source of the
-- report's "freshness" line.
CREATE TABLE metadata.load_batches (
    batch_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sink        text        NOT NULL,
    records     integer     NOT NULL,
    rows_written integer    NOT NULL,
    started_at  timestamptz NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
