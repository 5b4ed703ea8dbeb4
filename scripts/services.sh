#!/usr/bin/env bash
# Installs (from Debian packages, when missing) and starts the services the integration tests use:
# PostgreSQL, Mosquitto and a Docker daemon. Idempotent: safe to run again while they are up. Prints the
# env to use. Docker is best effort: where dockerd cannot run (no cgroups or overlayfs, say), it says why
# on stderr and leaves DOCKER_AVAILABLE unset; the docker tests then fail under REQUIRE_SERVICES=1 and
# are skipped without it.
set -euo pipefail

PG_PORT="${PG_PORT:-5432}"
MQTT_PORT="${MQTT_TEST_PORT:-1884}"
DB_NAME="${DB_NAME:-tradedesk_test}"
DB_USER="${DB_USER:-tradedesk}"
DB_PASS="${DB_PASS:-tradedesk}"

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
if [ ${#need[@]} -gt 0 ]; then
  echo "services: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need[@]}" >&2
fi

# PostgreSQL: the Debian cluster that serves PG_PORT (another cluster being online proves nothing about
# this port), started if it is down, created if no cluster is configured for the port.
cluster=$(pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2, $4; exit }')
if [ -z "$cluster" ]; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  ver=${ver:-$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)}
  if [ -z "$ver" ]; then echo "services: no PostgreSQL server installed" >&2; exit 1; fi
  echo "services: no PostgreSQL cluster serves port $PG_PORT; creating $ver/tradedesk_$PG_PORT" >&2
  pg_createcluster -p "$PG_PORT" "$ver" "tradedesk_$PG_PORT" >&2
  cluster="$ver tradedesk_$PG_PORT down"
fi
read -r pg_ver pg_name pg_status <<<"$cluster"
case "$pg_status" in
  online*) ;;
  *) pg_ctlcluster "$pg_ver" "$pg_name" start >&2 ;;
esac
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || { echo "services: PostgreSQL ($pg_ver/$pg_name) did not come up on port $PG_PORT" >&2; exit 1; }
su postgres -c "psql -p $PG_PORT -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\"" | grep -q 1 ||
  su postgres -c "psql -p $PG_PORT -qc \"CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASS'\"" >&2
su postgres -c "psql -p $PG_PORT -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DB_NAME'\"" | grep -q 1 ||
  su postgres -c "createdb -p $PG_PORT -O $DB_USER $DB_NAME" >&2

# Mosquitto: a broker of our own on MQTT_PORT (the packaged service may hold 1883).
if ! (exec 3<>/dev/tcp/127.0.0.1/"$MQTT_PORT") 2>/dev/null; then
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  "$bin" -d -p "$MQTT_PORT" >&2
  for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/"$MQTT_PORT") 2>/dev/null && break; sleep 0.25; done
fi

# Docker: the daemon the docker bot runtime's tests use, without its own networking (bots run on the
# host's network, and a CI sandbox may not allow the bridge's iptables rules). No registry is needed: the
# bot image is built from local files (scripts/build-image.mjs).
docker_up() { timeout 10 docker info >/dev/null 2>&1; }
docker_ok=
if ! command -v dockerd >/dev/null 2>&1; then
  echo "services: installing docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq docker.io || { apt-get update -qq && apt-get install -y -qq docker.io; }; } >&2 || echo "services: could not install docker.io" >&2
fi
if command -v dockerd >/dev/null 2>&1; then
  if ! docker_up; then
    log=${DOCKERD_LOG:-/tmp/dockerd.log}
    nohup dockerd --bridge=none --iptables=false --ip-masq=false >"$log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 60); do docker_up && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    docker_up || { echo "services: dockerd did not come up; the end of $log:" >&2; tail -20 "$log" >&2; }
  fi
  docker_up && docker_ok=1
fi

echo "DATABASE_URL=postgres://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
echo "MQTT_URL=mqtt://127.0.0.1:$MQTT_PORT"
if [ -n "$docker_ok" ]; then echo "DOCKER_AVAILABLE=1"; fi
