-- The calendar. Orion Motors' financial year runs March to February and is
-- named after the year it ends in: FY2026 = 2025-03-01 .. 2026-02-28.
-- Generated for 1900..2100, which covers every date the data can hold (dates
-- of birth, model years 1980-2100, delivery promises), so loads never have
-- to extend it.

CREATE TABLE warehouse.dim_date (
    date_key        integer  PRIMARY KEY,           -- yyyymmdd
    date_actual     date     NOT NULL UNIQUE,
    year            smallint NOT NULL,
    quarter         smallint NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    month           smallint NOT NULL CHECK (month BETWEEN 1 AND 12),
    month_name      text     NOT NULL,
    day             smallint NOT NULL CHECK (day BETWEEN 1 AND 31),
    day_of_week     smallint NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),  -- ISO: Monday = 1
    day_name        text     NOT NULL,
    week_of_year    smallint NOT NULL,
    is_weekend      boolean  NOT NULL,
    fiscal_year     smallint NOT NULL,
    fiscal_quarter  smallint NOT NULL CHECK (fiscal_quarter BETWEEN 1 AND 4),
    fiscal_month    smallint NOT NULL CHECK (fiscal_month BETWEEN 1 AND 12),
    fiscal_year_label text   NOT NULL,                -- 'FY2026'
    fiscal_quarter_label text NOT NULL                -- 'FY2026-Q1'
);

CREATE FUNCTION warehouse.date_key(d date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(year FROM d) * 10000 + extract(month FROM d) * 100 + extract(day FROM d))::integer;

CREATE FUNCTION warehouse.fiscal_year(d date) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(year FROM d) + CASE WHEN extract(month FROM d) >= 3 THEN 1 ELSE 0 END)::smallint;

INSERT INTO warehouse.dim_date
SELECT warehouse.date_key(d),
       d,
       extract(year FROM d),
       extract(quarter FROM d),
       extract(month FROM d),
       trim(to_char(d, 'Month')),
       extract(day FROM d),
       extract(isodow FROM d),
       trim(to_char(d, 'Day')),
       extract(week FROM d),
       extract(isodow FROM d) >= 6,
       warehouse.fiscal_year(d),
       (extract(month FROM d)::int + 9) % 12 / 3 + 1,
       (extract(month FROM d)::int + 9) % 12 + 1,
       'FY' || warehouse.fiscal_year(d),
       'FY' || warehouse.fiscal_year(d) || '-Q' || ((extract(month FROM d)::int + 9) % 12 / 3 + 1)
FROM generate_series(date '1900-01-01', date '2100-12-31', interval '1 day') AS g(t),
     LATERAL (SELECT g.t::date AS d) AS x;

CREATE INDEX dim_date_fiscal ON warehouse.dim_date (fiscal_year, fiscal_quarter);
