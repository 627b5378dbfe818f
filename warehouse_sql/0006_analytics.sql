-- One view per business question (the seed README's list). `orion report`
-- lists them by name and titles them with their COMMENT. Money is ZAR.
-- Revenue is the final price of COMPLETED sales (a cancelled sale earns
-- nothing); "year" is Orion's financial year (March to February).

CREATE VIEW analytics.sales_enriched AS
SELECT s.sale_id, s.sale_date, d.fiscal_year, d.fiscal_quarter, d.fiscal_year_label,
       d.fiscal_quarter_label, s.sale_status, s.sale_channel, s.payment_method,
       s.sale_price, s.discount_amount, s.final_price,
       s.dealer_id, dl.dealer_name, dl.province AS dealer_province,
       s.vin, v.make, v.model, v.model_code, v.body_type, v.engine_type,
       s.customer_id, c.status AS customer_status_at_sale
FROM warehouse.fact_sales s
JOIN warehouse.dim_date d ON d.date_key = s.date_key
JOIN warehouse.dim_dealer dl ON dl.dealer_key = s.dealer_key
JOIN warehouse.dim_vehicle v ON v.vehicle_key = s.vehicle_key
JOIN warehouse.dim_customer c ON c.customer_key = s.customer_key;
COMMENT ON VIEW analytics.sales_enriched IS 'Every sale with its dealer, vehicle and fiscal period';

CREATE VIEW analytics.revenue_by_year AS
SELECT fiscal_year_label AS fiscal_year,
       count(*) FILTER (WHERE sale_status = 'COMPLETED') AS sales,
       coalesce(sum(final_price) FILTER (WHERE sale_status = 'COMPLETED'), 0) AS revenue,
       coalesce(sum(discount_amount) FILTER (WHERE sale_status = 'COMPLETED'), 0) AS discounts,
       count(*) FILTER (WHERE sale_status = 'CANCELLED') AS cancelled
FROM analytics.sales_enriched
GROUP BY fiscal_year_label
ORDER BY fiscal_year_label;
COMMENT ON VIEW analytics.revenue_by_year IS 'Revenue per financial year';

CREATE VIEW analytics.revenue_by_dealer AS
SELECT dealer_id, dealer_name, dealer_province AS province,
       count(*) AS sales, sum(final_price) AS revenue,
       round(100.0 * sum(final_price) / sum(sum(final_price)) OVER (), 2) AS revenue_share_pct
FROM analytics.sales_enriched
WHERE sale_status = 'COMPLETED'
GROUP BY dealer_id, dealer_name, dealer_province
ORDER BY revenue DESC;
COMMENT ON VIEW analytics.revenue_by_dealer IS 'Revenue by dealer';

CREATE VIEW analytics.revenue_by_brand AS
SELECT make AS brand, count(*) AS sales, sum(final_price) AS revenue,
       round(avg(final_price), 2) AS average_price
FROM analytics.sales_enriched
WHERE sale_status = 'COMPLETED'
GROUP BY make
ORDER BY revenue DESC;
COMMENT ON VIEW analytics.revenue_by_brand IS 'Revenue by brand';

CREATE VIEW analytics.revenue_by_model AS
SELECT make AS brand, model, count(*) AS sales, sum(final_price) AS revenue
FROM analytics.sales_enriched
WHERE sale_status = 'COMPLETED'
GROUP BY make, model
ORDER BY revenue DESC;
COMMENT ON VIEW analytics.revenue_by_model IS 'Revenue by model';

CREATE VIEW analytics.revenue_by_province AS
SELECT dealer_province AS province, count(*) AS sales, sum(final_price) AS revenue
FROM analytics.sales_enriched
WHERE sale_status = 'COMPLETED'
GROUP BY dealer_province
ORDER BY revenue DESC;
COMMENT ON VIEW analytics.revenue_by_province IS 'Revenue by province (of the selling dealer)';

CREATE VIEW analytics.discounts AS
SELECT count(*) AS sales,
       count(*) FILTER (WHERE discount_amount > 0) AS discounted_sales,
       sum(discount_amount) AS revenue_lost_to_discounts,
       round(avg(discount_amount), 2) AS average_discount_per_sale,
       round(100.0 * sum(discount_amount) / nullif(sum(sale_price), 0), 2) AS discount_pct_of_list
FROM warehouse.fact_sales
WHERE sale_status = 'COMPLETED';
COMMENT ON VIEW analytics.discounts IS 'Revenue lost to discounts and the average discount per sale';

CREATE VIEW analytics.top_dealers_this_quarter AS
WITH q AS (
    SELECT d.fiscal_year, d.fiscal_quarter, min(d2.date_actual) AS starts
    FROM warehouse.dim_date d
    JOIN warehouse.dim_date d2 ON (d2.fiscal_year, d2.fiscal_quarter) = (d.fiscal_year, d.fiscal_quarter)
    WHERE d.date_actual = (SELECT max(sale_date) FROM warehouse.fact_sales)
    GROUP BY d.fiscal_year, d.fiscal_quarter
)
SELECT 'FY' || q.fiscal_year || '-Q' || q.fiscal_quarter AS quarter,
       dl.dealer_id, dl.dealer_name, dl.province, count(*) AS sales, sum(s.final_price) AS revenue,
       rank() OVER (ORDER BY count(*) DESC, sum(s.final_price) DESC) AS rank
FROM q
JOIN warehouse.fact_sales s ON s.sale_date >= q.starts
JOIN warehouse.dim_dealer dl ON dl.dealer_key = s.dealer_key
WHERE s.sale_status = 'COMPLETED'
GROUP BY q.fiscal_year, q.fiscal_quarter, dl.dealer_id, dl.dealer_name, dl.province
ORDER BY rank;
COMMENT ON VIEW analytics.top_dealers_this_quarter IS 'Dealers that sold most in the latest financial quarter';

CREATE VIEW analytics.best_selling_models AS
SELECT make AS brand, model, body_type, count(*) AS units, sum(final_price) AS revenue,
       rank() OVER (ORDER BY count(*) DESC) AS rank
FROM analytics.sales_enriched
WHERE sale_status = 'COMPLETED'
GROUP BY make, model, body_type
ORDER BY rank, brand, model;
COMMENT ON VIEW analytics.best_selling_models IS 'Best-selling models by units';

CREATE VIEW analytics.vehicle_type_mix AS
SELECT body_type, engine_type, count(*) AS units,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct,
       sum(final_price) AS revenue
FROM analytics.sales_enriched
WHERE sale_status = 'COMPLETED'
GROUP BY body_type, engine_type
ORDER BY units DESC;
COMMENT ON VIEW analytics.vehicle_type_mix IS 'Which vehicle types (body and drive train) dominate sales';

CREATE VIEW analytics.revenue_growth AS
WITH m AS (
    SELECT date_trunc('month', sale_date)::date AS month, sum(final_price) AS revenue, count(*) AS sales
    FROM warehouse.fact_sales
    WHERE sale_status = 'COMPLETED'
    GROUP BY 1
)
SELECT month, sales, revenue,
       round(100.0 * (revenue - lag(revenue) OVER w) / nullif(lag(revenue) OVER w, 0), 2) AS growth_pct_mom,
       round(avg(revenue) OVER (ORDER BY month ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 2) AS revenue_3m_avg,
       sum(revenue) OVER (ORDER BY month) AS revenue_running
FROM m
WINDOW w AS (ORDER BY month)
ORDER BY month;
COMMENT ON VIEW analytics.revenue_growth IS 'Monthly revenue, month-on-month growth and trend';

CREATE VIEW analytics.production_costs AS
SELECT v.make AS brand, v.model, p.model_code, count(*) AS vehicles_built,
       round(avg(p.total_cost), 2) AS average_cost, sum(p.total_cost) AS total_cost,
       sum(p.materials_cost) AS materials, sum(p.labour_cost) AS labour, sum(p.overhead_cost) AS overhead
FROM warehouse.fact_production_costs p
JOIN warehouse.dim_vehicle v ON v.vehicle_key = p.vehicle_key
GROUP BY v.make, v.model, p.model_code
ORDER BY total_cost DESC;
COMMENT ON VIEW analytics.production_costs IS 'Vehicle production costs by model';

CREATE VIEW analytics.dealer_commissions AS
SELECT dl.dealer_id, dl.dealer_name, dl.province, count(*) AS commissions,
       sum(c.commission_amount) AS commission_total, round(avg(c.commission_rate), 6) AS average_rate
FROM warehouse.fact_commissions c
JOIN warehouse.dim_dealer dl ON dl.dealer_key = c.dealer_key
GROUP BY dl.dealer_id, dl.dealer_name, dl.province
ORDER BY commission_total DESC;
COMMENT ON VIEW analytics.dealer_commissions IS 'Dealer commissions';

CREATE VIEW analytics.operating_expenses AS
SELECT d.fiscal_year_label AS fiscal_year, e.category, count(*) AS expenses, sum(e.amount) AS amount
FROM warehouse.fact_expenses e
JOIN warehouse.dim_date d ON d.date_key = e.date_key
GROUP BY d.fiscal_year_label, e.category
ORDER BY fiscal_year, amount DESC;
COMMENT ON VIEW analytics.operating_expenses IS 'Operating expenses per financial year and category';

-- Gross profit of a sold vehicle: what the customer paid, less what it cost
-- to build, the dealer's commission and warranty work on it.
CREATE VIEW analytics.profit_per_vehicle AS
SELECT s.sale_id, s.vin, v.make AS brand, v.model, s.dealer_id, s.sale_date,
       s.final_price AS revenue,
       p.total_cost AS production_cost,
       coalesce(c.commission, 0) AS commission,
       coalesce(w.warranty, 0) AS warranty_cost,
       s.final_price - coalesce(p.total_cost, 0) - coalesce(c.commission, 0) - coalesce(w.warranty, 0) AS profit
FROM warehouse.fact_sales s
JOIN warehouse.dim_vehicle v ON v.vehicle_key = s.vehicle_key
LEFT JOIN warehouse.fact_production_costs p ON p.vin = s.vin
LEFT JOIN (SELECT sale_id, sum(commission_amount) AS commission
           FROM warehouse.fact_commissions GROUP BY sale_id) c ON c.sale_id = s.sale_id
LEFT JOIN (SELECT vin, sum(cost) AS warranty FROM warehouse.fact_service_events
           WHERE kind = 'WARRANTY_CLAIM' GROUP BY vin) w ON w.vin = s.vin
WHERE s.sale_status = 'COMPLETED';
COMMENT ON VIEW analytics.profit_per_vehicle IS 'Profit per sold vehicle (price - build cost - commission - warranty)';

CREATE VIEW analytics.profit_per_dealer AS
SELECT p.dealer_id, dl.dealer_name, count(*) AS vehicles, sum(p.revenue) AS revenue,
       sum(p.profit) AS profit, round(100.0 * sum(p.profit) / nullif(sum(p.revenue), 0), 2) AS margin_pct
FROM analytics.profit_per_vehicle p
JOIN warehouse.dim_dealer dl ON dl.dealer_id = p.dealer_id
GROUP BY p.dealer_id, dl.dealer_name
ORDER BY profit DESC;
COMMENT ON VIEW analytics.profit_per_dealer IS 'Profit per dealer';

CREATE VIEW analytics.profit_company AS
WITH g AS (
    SELECT d.fiscal_year_label AS fy, sum(p.revenue) AS revenue, sum(p.profit) AS gross_profit
    FROM analytics.profit_per_vehicle p JOIN warehouse.dim_date d ON d.date_actual = p.sale_date
    GROUP BY 1
), x AS (
    SELECT d.fiscal_year_label AS fy, sum(e.amount) AS expenses
    FROM warehouse.fact_expenses e JOIN warehouse.dim_date d ON d.date_key = e.date_key
    GROUP BY 1
)
SELECT coalesce(g.fy, x.fy) AS fiscal_year, coalesce(g.revenue, 0) AS revenue,
       coalesce(g.gross_profit, 0) AS gross_profit, coalesce(x.expenses, 0) AS operating_expenses,
       coalesce(g.gross_profit, 0) - coalesce(x.expenses, 0) AS net_profit
FROM g FULL JOIN x ON x.fy = g.fy
ORDER BY fiscal_year;
COMMENT ON VIEW analytics.profit_company IS 'Company-wide profit per financial year';

CREATE VIEW analytics.customer_activity AS
SELECT c.status, count(*) AS customers,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM warehouse.fact_sales s
                                      WHERE s.customer_id = c.customer_id
                                        AND s.sale_status = 'COMPLETED')) AS purchased
FROM warehouse.dim_customer c
WHERE c.is_current
GROUP BY c.status
ORDER BY c.status;
COMMENT ON VIEW analytics.customer_activity IS 'Active vs inactive customers, and how many of each purchased';

CREATE VIEW analytics.inactive_customer_attributes AS
WITH c AS (
    SELECT status, province, gender,
           CASE WHEN age < 30 THEN '<30' WHEN age < 45 THEN '30-44' WHEN age < 60 THEN '45-59' ELSE '60+' END AS age_band,
           CASE WHEN tenure < 1 THEN '<1y' WHEN tenure < 3 THEN '1-2y' ELSE '3y+' END AS tenure_band
    FROM (SELECT status, province, gender,
                 extract(year FROM age(valid_from::date, date_of_birth)) AS age,
                 extract(year FROM age(valid_from::date, customer_since)) AS tenure
          FROM warehouse.dim_customer WHERE is_current AND NOT is_inferred) x
)
SELECT attribute, value, count(*) AS customers,
       count(*) FILTER (WHERE status = 'INACTIVE') AS inactive,
       round(100.0 * count(*) FILTER (WHERE status = 'INACTIVE') / count(*), 2) AS inactive_pct
FROM c CROSS JOIN LATERAL (VALUES ('province', province), ('gender', gender),
                                  ('age_band', age_band), ('tenure', tenure_band)) a(attribute, value)
GROUP BY attribute, value
ORDER BY attribute, inactive_pct DESC;
COMMENT ON VIEW analytics.inactive_customer_attributes IS 'Customer attributes against inactive status';

CREATE VIEW analytics.stock_alerts AS
SELECT i.inventory_id, i.dealer_id, dl.dealer_name, i.make AS brand, i.model, i.quantity,
       i.reorder_level, i.stock_status, i.event_time AS as_of
FROM (SELECT DISTINCT ON (inventory_id) * FROM warehouse.fact_inventory
      ORDER BY inventory_id, event_time DESC) i
JOIN warehouse.dim_dealer dl ON dl.dealer_key = i.dealer_key
WHERE i.stock_status IN ('LOW_STOCK', 'OUT_OF_STOCK')
ORDER BY i.quantity, i.inventory_id;
COMMENT ON VIEW analytics.stock_alerts IS 'Low-stock and out-of-stock vehicles (latest level per dealer and model)';

CREATE VIEW analytics.payment_status_share AS
SELECT payment_status, count(*) AS payments, sum(payment_amount) AS amount,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct
FROM warehouse.fact_payments
GROUP BY payment_status
ORDER BY payment_status;
COMMENT ON VIEW analytics.payment_status_share IS 'Share of payments completed, failed or pending';

CREATE VIEW analytics.financing_methods AS
SELECT payment_method, count(*) AS sales,
       round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct,
       sum(final_price) AS revenue
FROM warehouse.fact_sales
WHERE sale_status = 'COMPLETED'
GROUP BY payment_method
ORDER BY sales DESC;
COMMENT ON VIEW analytics.financing_methods IS 'Most common payment and financing methods';

CREATE VIEW analytics.supplier_delays AS
SELECT sp.supplier_id, sp.supplier_name, count(*) AS orders,
       count(*) FILTER (WHERE p.status = 'DELAYED'
                           OR p.actual_delivery_date > p.expected_delivery_date) AS delayed,
       count(*) FILTER (WHERE p.status = 'CANCELLED') AS cancelled,
       round(100.0 * count(*) FILTER (WHERE p.status = 'DELAYED'
                                         OR p.actual_delivery_date > p.expected_delivery_date) / count(*), 2) AS delayed_pct,
       round(100.0 * count(*) FILTER (WHERE p.status = 'CANCELLED') / count(*), 2) AS cancelled_pct,
       round(avg(p.actual_delivery_date - p.expected_delivery_date)
             FILTER (WHERE p.actual_delivery_date IS NOT NULL), 1) AS avg_days_late
FROM warehouse.fact_procurement p
JOIN warehouse.dim_supplier sp ON sp.supplier_key = p.supplier_key
GROUP BY sp.supplier_id, sp.supplier_name
ORDER BY delayed_pct DESC, cancelled_pct DESC;
COMMENT ON VIEW analytics.supplier_delays IS 'Suppliers with frequent procurement delays or cancellations';

-- An anomaly: a reading with a trouble code or an engine above 110 C. Does a
-- service job follow within 30 days more often than after a normal month?
CREATE VIEW analytics.telemetry_anomalies_vs_maintenance AS
WITH v AS (
    SELECT t.vin, bool_or(cardinality(t.error_codes) > 0 OR t.engine_temp_c > 110) AS anomalous,
           min(t.event_time) FILTER (WHERE cardinality(t.error_codes) > 0 OR t.engine_temp_c > 110) AS first_anomaly
    FROM warehouse.fact_telemetry t
    GROUP BY t.vin
)
SELECT CASE WHEN v.anomalous THEN 'anomaly seen' ELSE 'no anomaly' END AS vehicles_with,
       count(*) AS vehicles,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM warehouse.fact_service_events s
           WHERE s.vin = v.vin
             AND s.service_date >= coalesce(v.first_anomaly::date, s.service_date)
             AND s.service_date < coalesce(v.first_anomaly::date + 30, 'infinity'::date))) AS serviced_within_30d,
       round(100.0 * count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM warehouse.fact_service_events s
           WHERE s.vin = v.vin
             AND s.service_date >= coalesce(v.first_anomaly::date, s.service_date)
             AND s.service_date < coalesce(v.first_anomaly::date + 30, 'infinity'::date))) / count(*), 2) AS serviced_pct
FROM v
GROUP BY 1
ORDER BY 1;
COMMENT ON VIEW analytics.telemetry_anomalies_vs_maintenance IS 'Whether telemetry anomalies predict service events';

CREATE VIEW analytics.warranty_liabilities AS
SELECT d.fiscal_year_label AS fiscal_year, v.make AS brand, v.model, s.kind,
       count(*) AS jobs, sum(s.cost) AS cost, round(avg(s.cost), 2) AS average_cost
FROM warehouse.fact_service_events s
JOIN warehouse.dim_date d ON d.date_key = s.date_key
JOIN warehouse.dim_vehicle v ON v.vehicle_key = s.vehicle_key
GROUP BY d.fiscal_year_label, v.make, v.model, s.kind
ORDER BY fiscal_year, s.kind DESC, cost DESC;
COMMENT ON VIEW analytics.warranty_liabilities IS 'Warranty claims and maintenance: service liabilities by model';
