#!/usr/bin/env bash
# The secrets infra/k8s refers to and never commits, made once per cluster with random values:
#   infra/k8s/create-secrets.sh [namespace]        (default yijianshi; kubectl's current context)
# A secret that already exists is left as it is, so a rerun changes nothing. To rotate one, delete
# it and rerun, then restart the pods that read it (README "Running it for real").
#   yjs-secrets           JWT_SECRET, POSTGRES_USER, POSTGRES_PASSWORD
#   yjs-broker-admin      the broker's administrator: RABBITMQ_DEFAULT_USER/PASS for the broker,
#                         AMQP_URI and RABBITMQ_MANAGEMENT_URL for the topology init containers
#   yjs-broker-passwords  AMQP_PASSWORD_<SERVICE>, each service's own broker user (docs/adr/0012)
#   yjs-broker-admin-login  the same administrator, as the RabbitMQ Messaging Topology Operator
#                         reads it (infra/k8s: username, password)
#   yjs-postgres-superuser  the same PostgreSQL login as yjs-secrets, as CloudNativePG reads it
#                         (infra/k8s: username, password; kubernetes.io/basic-auth)
# With External Secrets or a vault instead, make the same names and keys there.
set -euo pipefail

NAMESPACE="${1:-yijianshi}"
KUBECTL="${KUBECTL:-kubectl}"

# hex: URL-safe, since the pods build AMQP_URI and DATABASE_URL from these values
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

exists() { "$KUBECTL" -n "$NAMESPACE" get secret "$1" >/dev/null 2>&1; }

create() {
  local name="$1"; shift
  if exists "$name"; then echo "$name: exists, left as it is"; return 0; fi
  "$KUBECTL" -n "$NAMESPACE" create secret generic "$name" "$@" >/dev/null
  echo "$name: created"
}

"$KUBECTL" get namespace "$NAMESPACE" >/dev/null 2>&1 || "$KUBECTL" create namespace "$NAMESPACE"

postgres_password="$(random)"
create yjs-secrets \
  --from-literal=JWT_SECRET="$(random)$(random)" \
  --from-literal=POSTGRES_USER=postgres \
  --from-literal=POSTGRES_PASSWORD="$postgres_password"
if exists yjs-secrets && ! exists yjs-postgres-superuser; then  # the login the services already have
  postgres_password="$("$KUBECTL" -n "$NAMESPACE" get secret yjs-secrets -o 'jsonpath={.data.POSTGRES_PASSWORD}' | base64 -d)"
fi
create yjs-postgres-superuser --type=kubernetes.io/basic-auth \
  --from-literal=username=postgres \
  --from-literal=password="$postgres_password"

admin_password="$(random)"
create yjs-broker-admin \
  --from-literal=RABBITMQ_DEFAULT_USER=yjs-admin \
  --from-literal=RABBITMQ_DEFAULT_PASS="$admin_password" \
  --from-literal=AMQP_URI="amqp://yjs-admin:${admin_password}@rabbitmq:5672/" \
  --from-literal=RABBITMQ_MANAGEMENT_URL="http://yjs-admin:${admin_password}@rabbitmq:15672"
if exists yjs-broker-admin && ! exists yjs-broker-admin-login; then  # the administrator already made
  admin_password="$("$KUBECTL" -n "$NAMESPACE" get secret yjs-broker-admin -o 'jsonpath={.data.RABBITMQ_DEFAULT_PASS}' | base64 -d)"
fi
create yjs-broker-admin-login \
  --from-literal=username=yjs-admin \
  --from-literal=password="$admin_password"

passwords=()
for service in GATEWAY CASE REGISTRATION SEAL_CARVING TAX BANK_ACCOUNT LICENSING DEREGISTRATION SOCIAL_INSURANCE; do
  passwords+=(--from-literal="AMQP_PASSWORD_${service}=$(random)")
done
create yjs-broker-passwords "${passwords[@]}"
