#!/usr/bin/env bash
# Throwaway PostgreSQL for tests (recipe: ../shared/RECIPES.md).
#   eval "$(.ci/postgres.sh start)"   -> exports DATABASE_URL, PGCI_ROOT
#   .ci/postgres.sh stop [PGCI_ROOT]  -> stops the server and removes its folder
# The server runs as the `postgres` user (initdb refuses root), listens on loopback only,
# with fsync off, on the first free port from $PGPORT (default 54329): several engineers
# or test runs on one machine never collide.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

free_port() {
  local port=$1
  while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

start() {
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "postgres.sh: installing PostgreSQL (apt-get)" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    else
      echo "postgres.sh: PostgreSQL binaries not found (apt-get install postgresql)" >&2
      exit 1
    fi
  fi
  local root port
  root=$(mktemp -d /tmp/pgci.XXXXXX)
  chmod 755 "$root"
  port=$(free_port "${PGPORT:-54329}")
  local run=(sh -c)
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$root"
    run=(su postgres -s /bin/sh -c)
  fi
  "${run[@]}" "$PGBIN/initdb -D $root/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync" >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; exit 1; }
  "${run[@]}" "$PGBIN/pg_ctl -D $root/data -l $root/server.log -w -t 60 -o '-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start" >&2 \
    || { cat "$root/server.log" >&2; exit 1; }
  echo "export DATABASE_URL=postgresql://postgres@127.0.0.1:$port/postgres"
  echo "export PGCI_ROOT=$root"
}

stop() {
  local root=${1:-${PGCI_ROOT:-}}
  [ -n "$root" ] && [ -d "$root/data" ] || { echo "postgres.sh: nothing to stop" >&2; return 0; }
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $root/data -m fast -w stop" >&2 || true
  else
    "$PGBIN/pg_ctl" -D "$root/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$root"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start|stop [PGCI_ROOT]" >&2; exit 2 ;;
esac
