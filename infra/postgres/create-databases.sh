#!/bin/bash
# docker-entrypoint-initdb.d script: runs once, when the data volume is empty.
# One database per service, because no service reads another's tables.
# Keep in step with the copy in infra/k8s-dev/postgres.yaml.
set -euo pipefail

databases=(
  yjs_case
  yjs_registration
  yjs_seal_carving
  yjs_tax
  yjs_bank_account
  yjs_licensing
  yjs_deregistration
  yjs_social_insurance
)

for db in "${databases[@]}"; do
  # \gexec runs the CREATE only when the database is missing, so a rerun is harmless.
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres <<EOSQL
SELECT 'CREATE DATABASE ${db}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\gexec
EOSQL
done
