-- Facts. Each has its natural key as primary key, so a replay or a re-sent
-- event upserts instead of doubling; the version of an event that wins is the
-- newest by (event_time, produced_at, event_id), so a later status change of a
-- payment, sale or order updates the row whatever order events arrive in.
-- Business ids (customer_id, vin, dealer_id, supplier_id) are kept beside the
-- surrogate keys: they let the loader re-resolve a fact when a late master
-- change splits the history it points into.
-- No foreign keys: point-in-time keys are re-pointed set-wise inside the load
-- transaction, and tests check referential integrity instead.

CREATE TABLE warehouse.fact_sales (
    sale_id         text PRIMARY KEY,
    sale_date       date NOT NULL,
    date_key        integer NOT NULL,
    customer_key    bigint NOT NULL,
    vehicle_key     bigint NOT NULL,
    dealer_key      bigint NOT NULL,
    customer_id     text NOT NULL,
    vin             text NOT NULL,
    dealer_id       text NOT NULL,
    sale_price      numeric(18, 2) NOT NULL CHECK (sale_price >= 0),
    discount_amount numeric(18, 2) NOT NULL CHECK (discount_amount >= 0),
    final_price     numeric(18, 2) NOT NULL CHECK (final_price >= 0),
    sale_channel    text NOT NULL CHECK (sale_channel IN ('SHOWROOM', 'ONLINE', 'FLEET', 'REFERRAL')),
    sale_status     text NOT NULL CHECK (sale_status IN ('COMPLETED', 'PENDING', 'CANCELLED')),
    payment_method  text NOT NULL,
    event_id        text NOT NULL,
    event_time      timestamptz NOT NULL,
    produced_at     timestamptz NOT NULL,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fact_sales_price CHECK (final_price = sale_price - discount_amount)
);
CREATE INDEX fact_sales_date ON warehouse.fact_sales (sale_date);
CREATE INDEX fact_sales_dealer ON warehouse.fact_sales (dealer_key, sale_date);
CREATE INDEX fact_sales_vehicle ON warehouse.fact_sales (vehicle_key);
CREATE INDEX fact_sales_customer_id ON warehouse.fact_sales (customer_id);
CREATE INDEX fact_sales_vin ON warehouse.fact_sales (vin);

CREATE TABLE warehouse.fact_payments (
    payment_id            text PRIMARY KEY,
    sale_id               text NOT NULL,
    payment_date          date NOT NULL,
    date_key              integer NOT NULL,
    payment_amount        numeric(18, 2) NOT NULL CHECK (payment_amount >= 0),
    payment_method        text NOT NULL CHECK (payment_method IN ('CASH', 'EFT', 'CARD', 'BANK_FINANCE', 'DEALER_FINANCE', 'LEASE')),
    payment_type          text NOT NULL CHECK (payment_type IN ('FULL', 'DEPOSIT', 'INSTALMENT')),
    instalment_number     integer NOT NULL CHECK (instalment_number >= 0),
    payment_status        text NOT NULL CHECK (payment_status IN ('PENDING', 'COMPLETED', 'FAILED')),
    transaction_reference text NOT NULL,
    event_id              text NOT NULL,
    event_time            timestamptz NOT NULL,
    produced_at           timestamptz NOT NULL,
    loaded_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_payments_sale ON warehouse.fact_payments (sale_id);
CREATE INDEX fact_payments_status ON warehouse.fact_payments (payment_status, payment_date);

CREATE TABLE warehouse.fact_commissions (
    commission_id     text PRIMARY KEY,
    sale_id           text NOT NULL,
    dealer_key        bigint NOT NULL,
    dealer_id         text NOT NULL,
    commission_date   date NOT NULL,
    date_key          integer NOT NULL,
    commission_rate   numeric(8, 6) NOT NULL CHECK (commission_rate BETWEEN 0 AND 1),
    commission_amount numeric(18, 2) NOT NULL CHECK (commission_amount >= 0),
    event_id          text NOT NULL,
    event_time        timestamptz NOT NULL,
    produced_at       timestamptz NOT NULL,
    loaded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_commissions_dealer ON warehouse.fact_commissions (dealer_key, commission_date);
CREATE INDEX fact_commissions_sale ON warehouse.fact_commissions (sale_id);

CREATE TABLE warehouse.fact_expenses (
    expense_id   text PRIMARY KEY,
    expense_date date NOT NULL,
    date_key     integer NOT NULL,
    category     text NOT NULL,
    cost_centre  text NOT NULL,
    province     text NOT NULL,
    amount       numeric(18, 2) NOT NULL CHECK (amount >= 0),
    description  text,
    event_id     text NOT NULL,
    event_time   timestamptz NOT NULL,
    produced_at  timestamptz NOT NULL,
    loaded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_expenses_date ON warehouse.fact_expenses (expense_date, category);

CREATE TABLE warehouse.fact_production_costs (
    vin             text PRIMARY KEY,
    vehicle_key     bigint NOT NULL,
    model_code      text NOT NULL,
    production_date date NOT NULL,
    date_key        integer NOT NULL,
    plant           text NOT NULL,
    materials_cost  numeric(18, 2) NOT NULL CHECK (materials_cost >= 0),
    labour_cost     numeric(18, 2) NOT NULL CHECK (labour_cost >= 0),
    overhead_cost   numeric(18, 2) NOT NULL CHECK (overhead_cost >= 0),
    total_cost      numeric(18, 2) NOT NULL CHECK (total_cost >= 0),
    event_id        text NOT NULL,
    event_time      timestamptz NOT NULL,
    produced_at     timestamptz NOT NULL,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fact_production_costs_total CHECK (total_cost = materials_cost + labour_cost + overhead_cost)
);
CREATE INDEX fact_production_costs_model ON warehouse.fact_production_costs (model_code, production_date);

CREATE TABLE warehouse.fact_service_events (
    service_id   text PRIMARY KEY,
    vin          text NOT NULL,
    vehicle_key  bigint NOT NULL,
    dealer_key   bigint NOT NULL,
    dealer_id    text NOT NULL,
    service_date date NOT NULL,
    date_key     integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('WARRANTY_CLAIM', 'MAINTENANCE')),
    description  text NOT NULL,
    odometer_km  integer NOT NULL CHECK (odometer_km >= 0),
    cost         numeric(18, 2) NOT NULL CHECK (cost >= 0),
    event_id     text NOT NULL,
    event_time   timestamptz NOT NULL,
    produced_at  timestamptz NOT NULL,
    loaded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_service_events_vin ON warehouse.fact_service_events (vin, service_date);
CREATE INDEX fact_service_events_kind ON warehouse.fact_service_events (kind, service_date);

CREATE TABLE warehouse.fact_procurement (
    procurement_id         text PRIMARY KEY,
    supplier_key           bigint NOT NULL,
    dealer_key             bigint NOT NULL,
    supplier_id            text NOT NULL,
    dealer_id              text NOT NULL,
    model_code             text NOT NULL,
    order_date             date NOT NULL,
    date_key               integer NOT NULL,
    expected_delivery_date date NOT NULL,
    actual_delivery_date   date,
    quantity               integer NOT NULL CHECK (quantity > 0),
    cost_price             numeric(18, 2) NOT NULL CHECK (cost_price >= 0),
    status                 text NOT NULL CHECK (status IN ('ORDERED', 'DELAYED', 'DELIVERED', 'CANCELLED')),
    event_id               text NOT NULL,
    event_time             timestamptz NOT NULL,
    produced_at            timestamptz NOT NULL,
    loaded_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_procurement_supplier ON warehouse.fact_procurement (supplier_key, status);

-- A stock level per line and instant it changed: the periodic-snapshot fact
-- (current stock = the latest row per inventory_id).
CREATE TABLE warehouse.fact_inventory (
    inventory_id  text NOT NULL,
    event_time    timestamptz NOT NULL,
    dealer_key    bigint NOT NULL,
    dealer_id     text NOT NULL,
    model_code    text NOT NULL,
    make          text NOT NULL,
    model         text NOT NULL,
    snapshot_date date NOT NULL,
    date_key      integer NOT NULL,
    quantity      integer NOT NULL CHECK (quantity >= 0),
    reorder_level integer NOT NULL CHECK (reorder_level >= 0),
    stock_status  text NOT NULL CHECK (stock_status IN ('IN_STOCK', 'LOW_STOCK', 'OUT_OF_STOCK')),
    event_id      text NOT NULL,
    produced_at   timestamptz NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (inventory_id, event_time)
);
CREATE INDEX fact_inventory_latest ON warehouse.fact_inventory (inventory_id, event_time DESC)
    INCLUDE (quantity, stock_status);

CREATE TABLE warehouse.fact_interactions (
    interaction_id      text PRIMARY KEY,
    customer_key        bigint NOT NULL,
    dealer_key          bigint NOT NULL,
    customer_id         text NOT NULL,
    dealer_id           text NOT NULL,
    employee_id         text NOT NULL,
    interaction_date    date NOT NULL,
    date_key            integer NOT NULL,
    interaction_type    text NOT NULL,
    interaction_channel text NOT NULL,
    outcome             text NOT NULL,
    notes               text,
    event_id            text NOT NULL,
    event_time          timestamptz NOT NULL,
    produced_at         timestamptz NOT NULL,
    loaded_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_interactions_customer_id ON warehouse.fact_interactions (customer_id);
