#!/bin/bash
# Runs once, when the postgres volume is initialised (docker-entrypoint-initdb.d).
# Creates the reclaim_analyst login role: read-only by default, no privileges beyond CONNECT here.
# The read-model migrations grant it SELECT on the read-model schema and masked views only (R20).
set -euo pipefail

# Docker secrets: ANALYST_DB_PASSWORD_FILE (compose.secrets.yaml) wins over ANALYST_DB_PASSWORD.
if [ -n "${ANALYST_DB_PASSWORD_FILE:-}" ]; then
  ANALYST_DB_PASSWORD="$(cat "$ANALYST_DB_PASSWORD_FILE")"
fi

if [ -z "${ANALYST_DB_PASSWORD:-}" ]; then
  echo "ANALYST_DB_PASSWORD is not set; refusing to create reclaim_analyst without a password" >&2
  exit 1
fi

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v analyst_password="$ANALYST_DB_PASSWORD" -v dbname="$POSTGRES_DB" <<'EOSQL'
SELECT 'CREATE ROLE reclaim_analyst' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reclaim_analyst') \gexec
ALTER ROLE reclaim_analyst WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT 20 PASSWORD :'analyst_password';
ALTER ROLE reclaim_analyst SET default_transaction_read_only = on;
ALTER ROLE reclaim_analyst SET statement_timeout = '60s';
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dbname" TO reclaim_analyst;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EOSQL
