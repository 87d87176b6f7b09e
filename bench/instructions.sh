#!/usr/bin/env bash
# Instructions the service's event loop spends per ticket (POST /v1/uploads, production mode), counted by
# valgrind's callgrind: the same count for the same code whatever else the machine does, so changes of 1% show.
# Usage: bench/instructions.sh [dist folder] [warm-up requests] [measured requests]   (npm run build first)
# KEEP=1 keeps the callgrind output (for callgrind_annotate) and prints where it is; NODE_ARGS are given to node
# (--perf-basic-prof writes /tmp/perf-<pid>.map, which names the JIT code addresses in that output).
# Caveats (docs/performance.md): valgrind has no SHA extensions (hashing counts high), runs about 50 times slower
# (per-millisecond and per-second caches hit less), and system calls count as one instruction each: decide with
# `npm run bench`, not with this alone.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="$(cd "${1:-$ROOT/dist}" && pwd)"
WARM="${2:-3000}"
N="${3:-3000}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ -f "$DIST/server.js" ] || { echo "$DIST/server.js is missing: npm run build first" >&2; exit 1; }
WORK="$(mktemp -d)"
VG=""
trap '[ -n "$VG" ] && kill "$VG" 2>/dev/null; if [ "${KEEP:-}" = 1 ]; then echo "callgrind output kept in $WORK" >&2; else rm -rf "$WORK"; fi' EXIT
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
TOKEN=bench-token-0123456789abcdef
# vgdb finds the process by user and host names, taken from LOGNAME/USER and HOST: the same on both sides.
export LOGNAME="${LOGNAME:-$(id -un)}" USER="${USER:-$(id -un)}" HOST=127.0.0.1
env -i PATH="$PATH" HOME="$WORK" LOGNAME="$LOGNAME" USER="$USER" HOST=127.0.0.1 PORT="$PORT" ENVIRONMENT=production LOG_LEVEL=info \
  SERVICE_TOKENS="$TOKEN" SWEEP_INTERVAL_SECONDS=0 DATA_DIR="$WORK/data" AWS_S3_BUCKET=bench-bucket AWS_REGION=ap-southeast-1 \
  AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
  AWS_S3_ENDPOINT=http://127.0.0.1:1 AWS_S3_FORCE_PATH_STYLE=true S3_SELF_CHECK=false \
  valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --smc-check=all-non-file --vgdb-prefix="$WORK/vgdb" \
  --callgrind-out-file="$WORK/cg.out" node ${NODE_ARGS:-} "$DIST/server.js" > "$WORK/service.log" 2>&1 &
VG=$!
ready=""
for _ in $(seq 600); do
  if node -e 'require("http").get(process.argv[1],(r)=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' "http://127.0.0.1:$PORT/health"; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { echo "the service did not answer /health within 5 minutes; its log:" >&2; tail -20 "$WORK/service.log" >&2; exit 1; }
load () {
  node "$ROOT/node_modules/autocannon/autocannon.js" -t 300 -c 50 -a "$1" -j -m POST -I -H content-type=application/json \
    -H "authorization=Bearer $TOKEN" -b '{"ownerId":"user-[<id>]","contentType":"image/png","contentLength":48213}' \
    "http://127.0.0.1:$PORT/v1/uploads" 2>/dev/null
}
load "$WARM" > /dev/null
callgrind_control --vgdb-prefix="$WORK/vgdb" -i on "$VG" > /dev/null 2>&1
OK="$(load "$N" | node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{const r=JSON.parse(s.trim().split("\n").pop());console.log(r.non2xx>0||r.errors>0?0:r["2xx"])})')"
callgrind_control --vgdb-prefix="$WORK/vgdb" -i off "$VG" > /dev/null 2>&1
callgrind_control --vgdb-prefix="$WORK/vgdb" -d "$VG" > /dev/null 2>&1
[ "$OK" -gt 0 ] || { echo "no ticket was answered 201 (or some failed); see the service's log" >&2; KEEP=1; exit 1; }
# One totals line per file (a file written at exit repeats it as summary:).
sum () { cat "$@" 2>/dev/null | awk '/^totals:/ { s += $2 } END { print s + 0 }'; }
MAIN="$(sum "$WORK"/cg.out.*-01)"
ALL="$(sum "$WORK"/cg.out.*)"
echo "{\"requests\":$OK,\"mainThreadPerTicket\":$((MAIN / OK)),\"allThreadsPerTicket\":$((ALL / OK))}"
