#!/usr/bin/env bash
# npm test: lint and type-check, start the real S3 gateway (Ceph radosgw) when it is installed, run every tap
# test, stop the gateway. Without radosgw the S3 tests skip loudly; under CI=true they fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."

npx eslint .
npx tsc -p tsconfig.json --noEmit

gateway_dir="${TMPDIR:-/tmp}/image-service-rgw-$$"
if [ -z "${TEST_S3_ENDPOINT:-}" ] && bash scripts/s3-gateway.sh available; then
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  trap 'bash scripts/s3-gateway.sh stop "$gateway_dir" >/dev/null 2>&1 || true' EXIT
  TEST_S3_ENDPOINT=$(bash scripts/s3-gateway.sh start "$gateway_dir" "$port" | tail -n 1)
  export TEST_S3_ENDPOINT
  echo "S3 gateway (radosgw) at $TEST_S3_ENDPOINT"
elif [ -z "${TEST_S3_ENDPOINT:-}" ]; then
  echo "!!! radosgw is not installed: S3 tests will be SKIPPED (install ceph-mon ceph-osd radosgw; see .ci/run) !!!" >&2
fi

log=$(mktemp)
trap 'rm -f "$log"; bash scripts/s3-gateway.sh stop "$gateway_dir" >/dev/null 2>&1 || true' EXIT
status=0
npx tap "$@" | tee "$log" || status=$?
# A closing line any CI reads: tap's own summary is "# { total: N, pass: N, fail: N, skip: N }".
node -e '
  const m = /# \{ total: \d+(.*)\}/.exec(require("fs").readFileSync(process.argv[1], "utf8"))
  const n = (k) => Number((new RegExp(k + ": (\\d+)").exec(m ? m[1] : "") || [0, 0])[1])
  console.log(`${n("pass")} passed, ${n("fail")} failed, ${n("skip")} skipped`)
' "$log"
exit $status
