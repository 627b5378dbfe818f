-- Dimensions. Business columns are named as in schemas/avro/clean/*.avsc.
--
-- dim_customer and dim_vehicle are SCD Type 2. Validity comes from the
-- source's updated_at, not from load time: [valid_from, valid_to) intervals
-- of one business key never overlap (exclusion constraint), and exactly one
-- row per key is current unless the source deleted it (partial unique index).
-- Their history is derived from *_changes, the log of every distinct master
-- event received, so a change that arrives late lands at its right place and
-- the result does not depend on arrival order (see merge/scd2_rebuild.sql).
--
-- An inferred member (is_inferred) stands in for a key a fact referenced
-- before its master record arrived: valid from -infinity, attributes NULL.
-- The first real version takes it over, keeping its surrogate key.

CREATE TABLE warehouse.dim_customer (
    customer_key   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    text        NOT NULL,
    first_name     text,
    last_name      text,
    customer_name  text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED,
    email          text,
    phone          text,
    date_of_birth  date,
    gender         text CHECK (gender IN ('FEMALE', 'MALE', 'OTHER', 'UNDISCLOSED')),
    street_number  text,
    street_name    text,
    suburb         text,
    city           text,
    province       text,
    postal_code    text,
    country        text,
    customer_since date,
    status         text CHECK (status IN ('ACTIVE', 'INACTIVE')),
    valid_from     timestamptz NOT NULL,
    valid_to       timestamptz NOT NULL DEFAULT 'infinity',
    is_current     boolean     NOT NULL,
    deleted_at     timestamptz,            -- set when a DELETE closed this version
    row_hash       text,                   -- md5 of the business columns
    is_inferred    boolean     NOT NULL DEFAULT false,
    event_id       text,                   -- the event that started this version
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dim_customer_version UNIQUE (customer_id, valid_from),
    CONSTRAINT dim_customer_interval CHECK (valid_from < valid_to),
    CONSTRAINT dim_customer_current CHECK (is_current = (valid_to = 'infinity' AND deleted_at IS NULL)),
    CONSTRAINT dim_customer_filled CHECK (is_inferred OR (row_hash IS NOT NULL AND first_name IS NOT NULL)),
    CONSTRAINT dim_customer_no_overlap EXCLUDE USING gist
        (customer_id WITH =, tstzrange(valid_from, valid_to) WITH &&) DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX dim_customer_one_current ON warehouse.dim_customer (customer_id) WHERE is_current;

CREATE TABLE warehouse.dim_customer_changes (
    customer_id    text        NOT NULL,
    updated_at     timestamptz NOT NULL,
    operation      text        NOT NULL CHECK (operation IN ('UPSERT', 'DELETE')),
    row_hash       text        NOT NULL,
    first_name     text        NOT NULL,
    last_name      text        NOT NULL,
    email          text        NOT NULL,
    phone          text        NOT NULL,
    date_of_birth  date        NOT NULL,
    gender         text        NOT NULL,
    street_number  text        NOT NULL,
    street_name    text        NOT NULL,
    suburb         text        NOT NULL,
    city           text        NOT NULL,
    province       text        NOT NULL,
    postal_code    text        NOT NULL,
    country        text        NOT NULL,
    customer_since date        NOT NULL,
    status         text        NOT NULL,
    event_id       text        NOT NULL,
    PRIMARY KEY (customer_id, updated_at, operation, row_hash)
);

CREATE TABLE warehouse.dim_vehicle (
    vehicle_key         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vin                 text        NOT NULL,
    make                text,
    model               text,
    model_code          text,
    body_type           text CHECK (body_type IN ('SEDAN', 'HATCHBACK', 'SUV', 'BAKKIE', 'COUPE', 'VAN')),
    model_year          integer CHECK (model_year BETWEEN 1980 AND 2100),
    color               text,
    engine_type         text CHECK (engine_type IN ('PETROL', 'DIESEL', 'HYBRID', 'ELECTRIC')),
    transmission        text CHECK (transmission IN ('MANUAL', 'AUTOMATIC')),
    manufacture_country text,
    manufacture_date    date,
    list_price          numeric(18, 2) CHECK (list_price >= 0),
    status              text,
    dealer_id           text,
    valid_from          timestamptz NOT NULL,
    valid_to            timestamptz NOT NULL DEFAULT 'infinity',
    is_current          boolean     NOT NULL,
    deleted_at          timestamptz,
    row_hash            text,
    is_inferred         boolean     NOT NULL DEFAULT false,
    event_id            text,
    loaded_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dim_vehicle_version UNIQUE (vin, valid_from),
    CONSTRAINT dim_vehicle_interval CHECK (valid_from < valid_to),
    CONSTRAINT dim_vehicle_current CHECK (is_current = (valid_to = 'infinity' AND deleted_at IS NULL)),
    CONSTRAINT dim_vehicle_filled CHECK (is_inferred OR (row_hash IS NOT NULL AND make IS NOT NULL)),
    CONSTRAINT dim_vehicle_no_overlap EXCLUDE USING gist
        (vin WITH =, tstzrange(valid_from, valid_to) WITH &&) DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX dim_vehicle_one_current ON warehouse.dim_vehicle (vin) WHERE is_current;

CREATE TABLE warehouse.dim_vehicle_changes (
    vin                 text        NOT NULL,
    updated_at          timestamptz NOT NULL,
    operation           text        NOT NULL CHECK (operation IN ('UPSERT', 'DELETE')),
    row_hash            text        NOT NULL,
    make                text        NOT NULL,
    model               text        NOT NULL,
    model_code          text        NOT NULL,
    body_type           text        NOT NULL,
    model_year          integer     NOT NULL,
    color               text        NOT NULL,
    engine_type         text        NOT NULL,
    transmission        text        NOT NULL,
    manufacture_country text        NOT NULL,
    manufacture_date    date        NOT NULL,
    list_price          numeric(18, 2) NOT NULL,
    status              text        NOT NULL,
    dealer_id           text        NOT NULL,
    event_id            text        NOT NULL,
    PRIMARY KEY (vin, updated_at, operation, row_hash)
);

-- SCD Type 1: the latest state by the source's updated_at; a DELETE keeps the
-- row (facts point at it) and flags it.

CREATE TABLE warehouse.dim_dealer (
    dealer_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dealer_id       text NOT NULL UNIQUE,
    dealer_name     text,
    dealer_code     text,
    dealer_type     text CHECK (dealer_type IN ('FRANCHISE', 'INDEPENDENT', 'FLEET_CENTRE')),
    contact_name    text,
    contact_email   text,
    contact_phone   text,
    street          text,
    city            text,
    province        text,
    postal_code     text,
    country         text,
    commission_rate numeric(8, 6) CHECK (commission_rate BETWEEN 0 AND 1),
    status          text CHECK (status IN ('ACTIVE', 'INACTIVE')),
    updated_at      timestamptz,
    is_deleted      boolean NOT NULL DEFAULT false,
    row_hash        text,
    is_inferred     boolean NOT NULL DEFAULT false,
    event_id        text,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dim_dealer_filled CHECK (is_inferred OR (row_hash IS NOT NULL AND dealer_name IS NOT NULL))
);

CREATE TABLE warehouse.dim_supplier (
    supplier_key   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    supplier_id    text NOT NULL UNIQUE,
    supplier_name  text,
    supplier_type  text CHECK (supplier_type IN ('PARTS', 'ELECTRONICS', 'MATERIALS', 'TYRES', 'LOGISTICS')),
    country        text,
    contact_email  text,
    contact_phone  text,
    lead_time_days integer CHECK (lead_time_days >= 0),
    status         text CHECK (status IN ('ACTIVE', 'INACTIVE')),
    updated_at     timestamptz,
    is_deleted     boolean NOT NULL DEFAULT false,
    row_hash       text,
    is_inferred    boolean NOT NULL DEFAULT false,
    event_id       text,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dim_supplier_filled CHECK (is_inferred OR (row_hash IS NOT NULL AND supplier_name IS NOT NULL))
);

-- Point-in-time lookups: the version valid at `at`; before the first version,
-- the first version (a fact may precede its master record by moments).
-- Both probes use the (key, valid_from) unique index.

CREATE FUNCTION warehouse.customer_key_at(p_id text, p_at timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(
    (SELECT customer_key FROM warehouse.dim_customer
      WHERE customer_id = p_id AND valid_from <= p_at ORDER BY valid_from DESC LIMIT 1),
    (SELECT customer_key FROM warehouse.dim_customer
      WHERE customer_id = p_id ORDER BY valid_from LIMIT 1));

CREATE FUNCTION warehouse.vehicle_key_at(p_vin text, p_at timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce(
    (SELECT vehicle_key FROM warehouse.dim_vehicle
      WHERE vin = p_vin AND valid_from <= p_at ORDER BY valid_from DESC LIMIT 1),
    (SELECT vehicle_key FROM warehouse.dim_vehicle
      WHERE vin = p_vin ORDER BY valid_from LIMIT 1));
