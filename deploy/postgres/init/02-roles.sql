-- Logins for the pipeline's roles. warehouse_sql/0010_roles.sql creates the
-- roles when missing and grants their rights in each database; a migration
-- holds no secret, so the logins and passwords are given here, as a DBA
-- would. Development passwords, for docker compose on one machine only.
CREATE ROLE orion_migrator LOGIN CREATEDB PASSWORD 'orion-migrator';
CREATE ROLE orion_loader LOGIN PASSWORD 'orion-loader';
CREATE ROLE orion_analyst LOGIN PASSWORD 'orion-analyst';
-- The migrator owns the warehouse database, so it can create the schemas.
ALTER DATABASE warehouse OWNER TO orion_migrator;
