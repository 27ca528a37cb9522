#!/usr/bin/env bash
# Make sure the local RabbitMQ (and, for tests, PostgreSQL) answer; start them if they are
# down, install them with apt-get on Debian if they are missing. `chromium`: the headless browser
# and its WebDriver the portal's browser tests drive (installed, nothing to start).
#   infra/local/ensure-services.sh rabbitmq [postgres] [chromium]
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done
  echo "$2 did not come up on 127.0.0.1:$1" >&2; return 1
}

apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "$1 is missing and this is not a Debian-like system: install $1 and start it on 127.0.0.1" >&2
    exit 1
  fi
  echo "installing $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

ensure_rabbitmq() {
  port_open 5672 && return 0
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  echo "starting RabbitMQ"
  $SUDO rabbitmq-server -detached || true
  wait_port 5672 RabbitMQ
  # the CLI answers a little after the port opens; tests use it to make vhosts
  for _ in $(seq 1 30); do $SUDO rabbitmqctl -q status >/dev/null 2>&1 && return 0; sleep 1; done
}

# `make test` runs two shares of the suite side by side, each of which may run a whole system of
# nine processes with their pools: more than PostgreSQL's default 100 connections
MIN_CONNECTIONS=300

enough_connections() {
  local version=$1 have
  have=$(psql -h 127.0.0.1 -U postgres -Atc "SHOW max_connections" 2>/dev/null) || return 0  # not ours to tune
  [ "$have" -ge "$MIN_CONNECTIONS" ] && return 0
  echo "PostgreSQL allows $have connections; the tests need $MIN_CONNECTIONS: raising it and restarting PostgreSQL $version"
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  wait_port 5432 PostgreSQL
}

ensure_postgres() {
  local version
  if port_open 5432; then
    [ -d /etc/postgresql ] && enough_connections "$(ls /etc/postgresql | sort -V | tail -n 1)"
    return 0
  fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version"
  # tests connect as postgres over TCP without a password, as on CI
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! $SUDO grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"  # first match wins: put it first
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 PostgreSQL
  enough_connections "$version"
}

ensure_chromium() {
  # Debian's packages: browsers that download themselves cannot be fetched on every machine
  local missing=()
  { command -v chromium || command -v chromium-browser; } >/dev/null && command -v chromedriver >/dev/null \
    || missing+=(chromium chromium-driver)
  # a Chinese font, so the pages' screenshots show their words
  { command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; } || missing+=(fonts-wqy-microhei)
  [ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
}

for service in "${@:-rabbitmq}"; do
  case "$service" in
    rabbitmq) ensure_rabbitmq ;;
    postgres) ensure_postgres ;;
    chromium) ensure_chromium ;;
    *) echo "unknown service $service" >&2; exit 2 ;;
  esac
done
