#!/usr/bin/env bash
# Production mode on one machine, without AWS or MinIO: starts the project's own S3 gateway (Ceph radosgw, the one the
# tests use: scripts/s3-gateway.sh), sets up a bucket as docs/production.md does on AWS (CORS for browser uploads,
# `profile-images/*` publicly readable through a bucket policy, `incoming/` private) and prints the service's
# variables for it on stdout, as an env file (`KEY=value` lines). What to do next goes to stderr.
#
#   npm run -s s3:local > local-s3.env     # start (again: a fresh, empty gateway)
#   npm run s3:local:stop                  # stop; its objects go with it (memory-backed)
#
# LOCAL_S3_PORT (default 7480; the gateway's monitor takes the next port too), LOCAL_S3_DIR (default
# $TMPDIR/image-service-local-s3), LOCAL_S3_BUCKET (default profile-images-local).
# Needs the Ceph binaries: apt-get install -y ceph-mon ceph-osd radosgw
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${LOCAL_S3_DIR:-${TMPDIR:-/tmp}/image-service-local-s3}"
port="${LOCAL_S3_PORT:-7480}"
export LOCAL_S3_BUCKET="${LOCAL_S3_BUCKET:-profile-images-local}"

case "${1:-start}" in
  start) ;;
  stop) exec bash scripts/s3-gateway.sh stop "$dir" ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac

bash scripts/s3-gateway.sh available ||
  { echo "local-s3: the Ceph binaries are missing; install them: apt-get install -y ceph-mon ceph-osd radosgw" >&2; exit 1; }
endpoint="$(bash scripts/s3-gateway.sh start "$dir" "$port" | tail -n 1)"
# The gateway keeps running if the bucket cannot be set up: `stop` removes it.
npx tsx scripts/local-s3.ts "$endpoint"
file=local-s3.env
if [ -t 1 ]; then save="Save them (this starts a fresh gateway): npm run -s s3:local > $file"; else save="With them in $file:"; fi
cat >&2 <<EOF

local-s3: gateway at $endpoint, bucket $LOCAL_S3_BUCKET (browser POSTs from any origin; profile-images/* public).
The variables above run the service in production mode against it. $save
  (set -a; . ./$file; set +a; npm start)                               # then http://localhost:3000/demo
  docker run --rm --network host --env-file $file image-service    # the image: README, "Docker"
Stop the gateway: npm run s3:local:stop
EOF
