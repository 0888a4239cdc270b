-- Håndboka's database and its owner (docs/deployment.md, step 2). Run once, as a superuser, on
-- the PostgreSQL server:
--   runuser -u postgres -- psql -v role=handbook -v database=handbook -v password='…' < database.sql
-- tests/test_deployment.py runs this very file (with other names).
\set ON_ERROR_STOP on
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role" ENCODING 'UTF8' TEMPLATE template0;
-- Norwegian full-text search by default, and UTC, so Django never needs a session-level SET
-- (which PgBouncer's transaction pooling could not keep).
ALTER DATABASE :"database" SET default_text_search_config = 'pg_catalog.norwegian';
ALTER DATABASE :"database" SET timezone = 'UTC';
