-- Airflow's metadata (the airflow-* services) in a database of its own.
CREATE DATABASE airflow;
