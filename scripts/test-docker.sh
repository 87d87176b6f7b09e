#!/usr/bin/env bash
# npm run test:docker: builds the image and checks it against real containers (test/docker/): healthy by its own
# HEALTHCHECK, the README walk-through through the published port, non-root, writable volumes, graceful SIGTERM with
# a webhook in flight, production mode against the project's S3 gateway (radosgw), `docker compose up`/`down -v`.
# Needs a working Docker with Compose v2 (on the project's offline machines: bash scripts/docker-prepare.sh) and,
# for production mode, the Ceph binaries (apt-get install -y ceph-mon ceph-osd radosgw).
# Removes the containers, volumes and images it made, also on failure; DOCKER_TEST_KEEP_CACHE=1 keeps the build's
# intermediate images (the build cache) for a quicker next run.
set -euo pipefail
cd "$(dirname "$0")/.."

run="$$-$(date +%s)"
image="image-service:test-$run"
project="image-service-test-$run"
export DOCKER_TEST_RUN="$run" DOCKER_TEST_IMAGE="$image"

docker info >/dev/null 2>&1 || { echo "test:docker: Docker is not usable here (bash scripts/docker-prepare.sh sets it up)" >&2; exit 1; }
docker compose version >/dev/null 2>&1 || { echo "test:docker: Compose v2 (docker compose) is missing" >&2; exit 1; }
bash scripts/s3-gateway.sh available ||
  { echo "test:docker: the production check needs the Ceph binaries: apt-get install -y ceph-mon ceph-osd radosgw" >&2; exit 1; }

images_before="$(mktemp)" build_log="$(mktemp)"
docker images -aq --no-trunc | sort -u >"$images_before"

cleanup() {
  local status=$?
  set +e
  echo "== cleaning up"
  docker compose --project-directory . --env-file /dev/null -p "$project" down -v --remove-orphans >/dev/null 2>&1
  docker ps -aq --filter "label=image-service-test=$run" | xargs -r docker rm -f -v >/dev/null
  docker volume ls -q --filter "label=image-service-test=$run" | xargs -r docker volume rm -f >/dev/null
  docker rmi "$image" >/dev/null 2>&1
  if [ "${DOCKER_TEST_KEEP_CACHE:-}" != 1 ]; then
    # The build's own intermediate images: untagged and new since the start (never a tagged image: `rmi` without -f
    # also refuses images another build or container still uses).
    docker images -aq --no-trunc --filter dangling=true | sort -u | comm -13 "$images_before" - | xargs -r docker rmi >/dev/null 2>&1
  fi
  rm -f "$images_before" "$build_log"
  exit "$status"
}
trap cleanup EXIT

echo "== docker build -t $image ($(docker version --format 'engine {{.Server.Version}}'))"
started=$SECONDS
# The classic builder: BuildKit would pull its frontend image, which an offline machine cannot.
if ! DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" docker build --network host -t "$image" . >"$build_log" 2>&1; then
  tail -n 60 "$build_log" >&2
  echo "not ok - the image did not build" >&2
  exit 1
fi
echo "ok - image built in $((SECONDS - started)) s ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1 / 1e6}'))"

# One file at a time: the checks start containers and a gateway on a shared machine. The raw TAP report shows every
# check's name, so CI's log lists them.
# Arguments: only those test files (e.g. test/docker/shutdown.test.ts).
[ $# -gt 0 ] || set -- test/docker/*.test.ts
npx tap --reporter=tap --disable-coverage --jobs=1 --timeout=600 "$@"
echo "test:docker: passed in $((SECONDS - started)) s"
