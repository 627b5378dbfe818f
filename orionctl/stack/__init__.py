"""The local no-Docker stack: Kafka, Apicurio Registry, PostgreSQL, versitygw, Prometheus."""
