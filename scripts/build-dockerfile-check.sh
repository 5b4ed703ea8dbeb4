#!/usr/bin/env bash
# Builds the user-facing ./Dockerfile for real, where no image registry can be reached.
#
# The Dockerfile starts FROM node:20-slim. When that image is neither on this Docker host nor pullable,
# this script makes a local stand-in under the same tag: a Debian bookworm root filesystem from the
# Debian mirror (debootstrap --variant=minbase, then trimmed of apt lists, docs and locales as the
# -slim images are), with this machine's node 20 binary at /usr/local/bin/node and its npm at
# /usr/local/lib/node_modules/npm, where the official image keeps them. The Dockerfile is then built
# unchanged with `docker build --network host` (its `npm ci` steps reach the npm registry).
#
# Usage: scripts/build-dockerfile-check.sh [tag]      (default tradedesk:dockerfile; IMAGE_TAG works too)
# Needs: root (debootstrap, only for the stand-in), docker, and node 20 on PATH (for the stand-in).
# Prints the time of each step and the image's size; the last line is "<tag> <size in MB> MB".
set -euo pipefail

TAG="${1:-${IMAGE_TAG:-tradedesk:dockerfile}}"
BASE=node:20-slim
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { printf 'build-dockerfile: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

make_stand_in() {
  local node npm_dir work started
  node="$(readlink -f "$(command -v node)")"
  case "$("$node" --version)" in v20.*) ;; *) say "node on PATH is $("$node" --version), not 20: cannot stand in for $BASE"; exit 1 ;; esac
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  command -v debootstrap >/dev/null || {
    say 'installing debootstrap'
    apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -q debootstrap >/dev/null; }
  }
  work="$(mktemp -d /tmp/node-slim-standin.XXXXXX)"
  trap 'rm -rf "$work"' RETURN
  started="$(now)"
  say "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # What the -slim images leave out: package lists and caches, documentation, man pages, locales.
  rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/* "$work"/rootfs/usr/share/doc/* \
    "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/locale/* "$work"/rootfs/var/log/*
  install -D -m 0755 "$node" "$work/rootfs/usr/local/bin/node"
  mkdir -p "$work/rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$work/rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  local changes=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["node"]')
  # Where HTTPS goes through an intercepting proxy (this host trusts its CA through NODE_EXTRA_CA_CERTS),
  # the stand-in carries this host's CA bundle so that `npm ci` in the build trusts it too. The official
  # image needs nothing of the kind, so the Dockerfile stays as users build it.
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
    changes+=(-c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  fi
  tar --numeric-owner -C "$work/rootfs" -c . | docker import "${changes[@]}" - "$BASE" >/dev/null
  say "stand-in $BASE made in $(since "$started") s"
}

if docker image inspect "$BASE" >/dev/null 2>&1; then
  say "$BASE is on this host"
elif docker pull -q "$BASE" >/dev/null 2>&1; then
  say "$BASE pulled"
else
  say "$BASE cannot be pulled: making a local stand-in"
  make_stand_in
fi

started="$(now)"
say "docker build --network host -t $TAG $ROOT"
docker build --network host -q -t "$TAG" "$ROOT" >/dev/null
say "built in $(since "$started") s"
size="$(docker image inspect -f '{{.Size}}' "$TAG")"
base_size="$(docker image inspect -f '{{.Size}}' "$BASE")"
say "$BASE is $((base_size / 1000000)) MB"
echo "$TAG $((size / 1000000)) MB"
