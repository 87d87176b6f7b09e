#!/usr/bin/env bash
# Makes Docker usable for `npm run test:docker` on the project's offline Debian 12 machines, through the machine's
# own preparation script (shared/docker/prepare.sh: engine, Compose v2, dockerd, a stand-in base image).
#
#   bash scripts/docker-prepare.sh
#
# Where the preparation script is: $DOCKER_PREPARE if set, else shared/docker/prepare.sh beside the clone or one of
# its parents, else /work/shared/docker/prepare.sh. Where Docker already works and the base image can be pulled,
# nothing is needed: DOCKER_PREPARE=none skips it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

find_prepare() {
  if [ -n "${DOCKER_PREPARE:-}" ]; then echo "$DOCKER_PREPARE"; return; fi
  local dir="$repo"
  while [ "$dir" != / ]; do
    dir="$(dirname "$dir")"
    if [ -f "$dir/shared/docker/prepare.sh" ]; then echo "$dir/shared/docker/prepare.sh"; return; fi
  done
  echo /work/shared/docker/prepare.sh
}

# prepare.sh finds Compose's package with `curl | xz -dc | awk '…{…; exit}'` under pipefail: awk's early exit
# kills the pipe's writers (SIGPIPE, exit 141) before they finish, on most runs. The same package, installed here
# without the early exit, lets prepare.sh skip that step.
install_compose() {
  docker compose version >/dev/null 2>&1 && return 0
  command -v curl >/dev/null && command -v xz >/dev/null || return 0 # prepare.sh installs curl; its retry comes here
  local pool=http://deb.debian.org/debian tmp file
  tmp="$(mktemp -d)"
  curl -fsS -o "$tmp/Packages.xz" "$pool/dists/trixie/main/binary-amd64/Packages.xz"
  file="$(xz -dc "$tmp/Packages.xz" | awk '/^Package: docker-compose$/{f=1} f&&/^Filename:/&&!p{print $2; p=1}')"
  [ -n "$file" ] || { echo "docker-prepare: no docker-compose package in Debian trixie's index" >&2; return 1; }
  curl -fsS -o "$tmp/compose.deb" "$pool/$file"
  dpkg-deb -x "$tmp/compose.deb" "$tmp/x"
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" /usr/local/lib/docker/cli-plugins/
  rm -rf "$tmp"
  echo "docker-prepare: installed Compose $(docker compose version --short)"
}

if [ "${DOCKER_PREPARE:-}" = none ]; then
  docker info >/dev/null && docker compose version >/dev/null || {
    echo "docker-prepare: DOCKER_PREPARE=none but Docker or Compose v2 is not usable" >&2
    exit 1
  }
  exit 0
fi

prepare="$(find_prepare)"
if [ ! -f "$prepare" ]; then
  if [ -n "${DOCKER_PREPARE:-}" ]; then
    echo "docker-prepare: DOCKER_PREPARE=$DOCKER_PREPARE: no such file" >&2
  else
    echo "docker-prepare: cannot find the machine's Docker preparation script: no shared/docker/prepare.sh beside" \
      "$repo or any folder above it, nor at $prepare. Set DOCKER_PREPARE=/path/to/prepare.sh, or DOCKER_PREPARE=none" \
      "where Docker, Compose v2 and node:22-bookworm-slim are already available." >&2
  fi
  exit 1
fi

echo "docker-prepare: using $prepare"
command -v docker >/dev/null && install_compose
# One retry: a first run on a fresh machine may still stop on a transient download failure.
bash "$prepare" || { echo "docker-prepare: $prepare failed ($?); retrying once" >&2; install_compose; bash "$prepare"; }
