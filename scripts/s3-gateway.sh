#!/usr/bin/env bash
# Throw-away S3 server for tests: Ceph's RADOS Gateway (radosgw) backed by one
# monitor and one in-memory OSD, all on 127.0.0.1, no Docker or systemd.
# See /work/shared/S3-TESTING.md (why RGW and not an in-process fake).
#
#   scripts/s3-gateway.sh start DIR PORT   # last stdout line: http://127.0.0.1:PORT
#   scripts/s3-gateway.sh stop DIR
#   scripts/s3-gateway.sh available        # exit 0 if the Ceph binaries are installed
#
# Needs (Debian/Ubuntu): apt-get install -y ceph-mon ceph-osd radosgw
# Users: test-access-key/test-secret-key and other-access-key/other-secret-key.
# The monitor listens on PORT+1; the OSD picks free ports in 6800-7300.
# Start-up about 2-3 s, stop about 1 s, ~140 MB resident.
# Daemons run as the invoking user: setuser is empty by default, only the
# systemd units pass --setuser ceph.
set -euo pipefail

BINARIES=(ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool)
MARKER=.s3-gateway  # only folders holding this file are ever wiped
RGW_NAME=client.rgw.gw

log() { echo "s3-gateway: $*" >&2; }

die() {
  log "ERROR: $1"
  if [[ -n "${2:-}" ]]; then
    for f in $2; do # space separated list of logs (globs allowed)
      [[ -f "$f" ]] || continue
      log "---- tail of $f ----"
      tail -n 40 "$f" >&2 || true
    done
  fi
  exit 1
}

usage() { die "usage: $0 start DIR PORT | stop DIR | available"; }

available() {
  local b missing=0
  for b in "${BINARIES[@]}"; do
    command -v "$b" >/dev/null 2>&1 || { log "missing: $b"; missing=1; }
  done
  return "$missing"
}

# Something accepts TCP connections on 127.0.0.1:$1?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Does radosgw answer HTTP on the port? (pure bash: curl may be missing in CI)
http_answers() {
  local line
  line=$({ exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
    IFS= read -r -t 5 line <&3 && echo "$line"; } 2>/dev/null) || true
  [[ "$line" == HTTP/* ]]
}

# wait_for SECONDS WHAT LOGS CMD...: poll CMD every 0.5 s, fail with log tails.
wait_for() {
  local limit=$1 what=$2 logs=$3 start=$SECONDS
  shift 3
  until "$@"; do
    ((SECONDS - start < limit)) || die "timed out after ${limit}s waiting for $what" "$logs"
    sleep 0.5
  done
  log "$what after $((SECONDS - start))s"
}

# ours DIR PID...: those PIDs that are still our daemons, i.e. have the argument
# DIR/ceph.conf. An exited (or zombie) process has an empty command line.
ours() {
  local conf="$1/ceph.conf" pid
  shift
  for pid; do
    [[ "$pid" =~ ^[0-9]+$ ]] && grep -qzxF "$conf" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  done
  return 0
}

# daemon_pids DIR: PIDs in the pid files plus any process started with our
# ceph.conf (catches daemons whose pid file or folder is gone), filtered by
# ours(), so a reused PID is never hit. /proc/PID/cmdline is NUL separated.
daemon_pids() {
  local f pids=()
  for f in "$1"/pids/*.pid "$1"/run/*.pid; do
    [[ -f "$f" ]] && pids+=("$(<"$f")")
  done
  while IFS= read -r f; do
    f=${f#/proc/}
    pids+=("${f%/cmdline}")
  done < <(grep -lzxF "$1/ceph.conf" /proc/[0-9]*/cmdline 2>/dev/null)
  ours "$1" "${pids[@]}" | sort -un
}

# terminate DIR PID...: SIGTERM, wait up to 10 s, then SIGKILL the rest.
terminate() {
  local dir=$1 start=$SECONDS left
  shift
  mapfile -t left < <(ours "$dir" "$@")
  ((${#left[@]})) || return 0
  log "stopping ${left[*]}"
  kill "${left[@]}" 2>/dev/null || true
  while mapfile -t left < <(ours "$dir" "${left[@]}") && ((${#left[@]})); do
    if ((SECONDS - start >= 10)); then
      log "still running after 10s, kill -9 ${left[*]}"
      kill -9 "${left[@]}" 2>/dev/null || true
      return 0
    fi
    sleep 0.2
  done
}

stop_daemons() {
  local dir=$1 name others
  # One at a time, clients first: radosgw stopped together with the OSD can
  # hang (seen >10 s), and an OSD that cannot tell the monitor it is going
  # down waits 5 s (osd_mon_shutdown_timeout).
  for name in rgw osd.0 mon.a; do
    terminate "$dir" "$(cat "$dir/pids/$name.pid" 2>/dev/null || true)"
  done
  # Anything else started with our conf, even if DIR itself was deleted.
  mapfile -t others < <(daemon_pids "$dir")
  terminate "$dir" "${others[@]}"
}

stop() {
  local dir
  dir=$(realpath -m "$1")
  if [[ -d "$dir" && ! -f "$dir/$MARKER" && -n "$(ls -A "$dir")" ]]; then
    die "$dir was not made by this script (no $MARKER); not touching it"
  fi
  stop_daemons "$dir"
  rm -rf "$dir"
  log "stopped; removed $dir"
}

# spawn NAME CMD...: run a daemon in the foreground (-f) in the background, so
# we know its PID at once. Its stdio goes to a file: a daemon holding the
# caller's stdout would hang `$(s3-gateway.sh start ...)`.
spawn() {
  local name=$1
  shift
  "$@" -f </dev/null >"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/pids/$name.pid"
}

# run_ceph CMD...: a one-shot Ceph client command with a time limit.
run_ceph() { timeout 60 "$1" -c "$CONF" "${@:2}" || die "failed ($?): $*" "$DIR/log/*.log"; }

start() {
  DIR=$(realpath -m "$1")
  local port=$2
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65534)); then die "bad PORT: $port"; fi
  local mon_port=$((port + 1))
  available || die "Ceph binaries missing; install: apt-get install -y ceph-mon ceph-osd radosgw"

  if [[ -e "$DIR" ]]; then
    if [[ -f "$DIR/$MARKER" || (-d "$DIR" && -z "$(ls -A "$DIR")") ]]; then
      log "cleaning up previous run in $DIR"
      stop "$DIR"
    else
      die "$DIR exists and was not made by this script; refusing to wipe it"
    fi
  fi
  port_open "$port" && die "port $port is already in use"
  port_open "$mon_port" && die "port $mon_port (monitor, PORT+1) is already in use"

  CONF=$DIR/ceph.conf
  # A failed start leaves no daemon behind, but keeps the logs.
  trap 'stop_daemons "$DIR"; log "logs kept in $DIR; remove with: $0 stop $DIR"' EXIT
  mkdir -p "$DIR"/{run,log,pids,data/mon.a,data/osd.0,data/rgw}
  touch "$DIR/$MARKER"
  local fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)

  # $name/$id are expanded by Ceph, not by bash (escaped below).
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
# without it the OSD binds 0.0.0.0
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# keep everything out of /var/run/ceph, /var/log/ceph, /var/lib/ceph, /etc/ceph
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
keyring = $DIR/mon.keyring
mon data = $DIR/data/mon.\$id
osd data = $DIR/data/osd.\$id
# single in-memory OSD: pools of size 1, few PGs, no failure domain
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# radosgw creates ~4 pools at first start, each waiting for a monitor commit
# (default every 1 s): 0.1 s takes start-up from ~13 s to ~2.5 s
paxos propose interval = 0.1

[client]
# without it radosgw waits forever for a secure monitor session that
# auth = none cannot give ("get_initial_auth_request returned -13")
ms mon client mode = crc
# one-shot clients (ceph, radosgw-admin) must not clash on log/socket names
admin socket = $DIR/run/\$name.\$pid.asok
log file = $DIR/log/\$name.\$pid.log

[$RGW_NAME]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $DIR/data/rgw
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
EOF

  log "starting monitor on 127.0.0.1:$mon_port ($DIR)"
  {
    run_ceph ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *'
    run_ceph monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap"
    run_ceph ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
  } >>"$DIR/log/setup.log"
  spawn mon.a ceph-mon -c "$CONF" -i a

  log "starting OSD"
  local osd_id
  osd_id=$(run_ceph ceph --connect-timeout 30 osd create)
  [[ "$osd_id" == 0 ]] || die "expected OSD id 0, got '$osd_id'" "$DIR/log/mon.a.log"
  # (prints a harmless "-1 memstore(...)" line on a fresh folder)
  run_ceph ceph-osd -i 0 --mkfs >>"$DIR/log/setup.log" 2>&1
  spawn osd.0 ceph-osd -c "$CONF" -i 0
  osd_up() { timeout 10 ceph -c "$CONF" --connect-timeout 5 osd stat 2>/dev/null | grep -q ' 1 up'; }
  wait_for 60 "OSD up" "$DIR/log/osd.0.log $DIR/log/osd.0.out" osd_up

  log "starting radosgw on 127.0.0.1:$port"
  spawn rgw radosgw -c "$CONF" -n "$RGW_NAME"
  gw_up() {
    kill -0 "$(cat "$DIR/pids/rgw.pid")" 2>/dev/null || die "radosgw exited" "$DIR/log/$RGW_NAME.log $DIR/log/rgw.out"
    http_answers "$port"
  }
  wait_for 90 "radosgw answering HTTP" "$DIR/log/$RGW_NAME.log $DIR/log/rgw.out" gw_up

  # Users are stored in RADOS, so this works while radosgw runs.
  local user
  for user in test other; do
    run_ceph radosgw-admin user create --uid="$user" --display-name="$user" \
      --access-key="$user-access-key" --secret-key="$user-secret-key" >/dev/null
  done
  trap - EXIT
  log "ready"
  echo "http://127.0.0.1:$port"
}

case "${1:-}" in
  start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  available) [[ $# -eq 1 ]] || usage; available ;;
  *) usage ;;
esac
