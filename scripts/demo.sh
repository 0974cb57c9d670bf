#!/usr/bin/env bash
# make demo: the whole terminal on loopback — a demo CA and device certificate, the reference
# center publishing signed lists behind nginx with mutual TLS and serving the uplink, gpsd fed
# by gpsfake replaying a drive through Taipei, mpoliced syncing from the center, and the
# officer's screen (mpolice-screen). Then a scripted session through the API, each step
# printed. It stays up for you to try things until Ctrl-C; with standard input not a
# terminal (CI, `make demo < /dev/null`) it stops after the session and exits 0.
set -euo pipefail
BIN=${MPOLICE_BIN_DIR:-.build/debug}
BIN=$(cd "$BIN" && pwd)
REPO=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$(mkdir -p "${DEMO_STATE:-demo-state}" && cd "${DEMO_STATE:-demo-state}" && pwd)
UNIT=TPE-DA-01
OFFICER=OF-0042 PIN=420042

pids=()
cleanup() {
  local status=$?
  # Each service was started in a process group of its own (setsid): the group goes, children
  # (gpsfake's gpsd, nginx's workers) included.
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  echo "demo: stopped everything it started (files stay in $DEMO)"
  exit $status
}
trap cleanup EXIT
trap 'exit 0' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() { printf '\033[1m$ %s\033[0m\n' "$*"; "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: $what did not come up; logs are in $DEMO/*.log" >&2; exit 1
}

rm -rf "${DEMO:?}"/*
mkdir -p "$DEMO"/{pki,nginx/tmp,www,state}
chmod 755 "$DEMO" "$DEMO/www"

say "keys and certificates: a demo CA, the server, the terminal's device certificate (CN=unit-$UNIT)"
cd "$DEMO/pki"
ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -subj "/CN=M-Police demo CA" -days 30
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for pair in "server:127.0.0.1:server.ext" "device:unit-$UNIT:client.ext"; do
  IFS=: read -r name cn ext <<<"$pair"
  ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
  ssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days 30 -extfile "$ext"
done
chmod 644 ./*.crt server.key
cd "$REPO"
"$BIN/mpolice-central" keys init --dir "$DEMO/keys" | sed 's/^/   /'

say "the center publishes the demo lists (20,000 records, 500 persons' photos) as signed files"
"$BIN/mpolice-central" generate --out "$DEMO/center" --records 20000 --seed 110 --photos 500 \
    --registrations 50000 --licences 20000 >/dev/null
# --uplink-db: the center keeps the published records (it answers hit confirmations from them).
"$BIN/mpolice-central" publish --dataset "$DEMO/center/dataset" --keys "$DEMO/keys" --out "$DEMO/www" --uplink-db "$DEMO/central.db" | sed 's/^/   /'
chmod -R a+rX "$DEMO/www"

say "the center's uplink and nginx with mutual TLS in front of both"
if [ "$(id -u)" -eq 0 ]; then nginx_user="user nobody nogroup;"; socket_group=nogroup; else nginx_user=""; socket_group=$(id -gn); fi
setsid "$BIN/mpolice-central" serve --db "$DEMO/central.db" --socket "$DEMO/central.sock" --socket-group "$socket_group" 2>"$DEMO/central.log" &
pids+=($!)
wait_for 20 "the center's uplink" test -S "$DEMO/central.sock"
NGINX_PORT=$(free_port)
cat > "$DEMO/nginx/nginx.conf" <<NGINX
worker_processes 1;
$nginx_user
daemon off;
pid $DEMO/nginx/nginx.pid;
error_log $DEMO/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $DEMO/nginx/tmp/body; proxy_temp_path $DEMO/nginx/tmp/proxy; fastcgi_temp_path $DEMO/nginx/tmp/fastcgi;
    uwsgi_temp_path $DEMO/nginx/tmp/uwsgi; scgi_temp_path $DEMO/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $DEMO/pki/server.crt; ssl_certificate_key $DEMO/pki/server.key;
        ssl_client_certificate $DEMO/pki/ca.crt; ssl_verify_client on;
        root $DEMO/www;
        location /uplink/ {
            proxy_pass http://unix:$DEMO/central.sock:;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Client-Verify \$ssl_client_verify;
            proxy_set_header X-Client-DN \$ssl_client_s_dn;
            proxy_read_timeout 90s;
            proxy_buffering off;
        }
    }
}
NGINX
setsid /usr/sbin/nginx -c "$DEMO/nginx/nginx.conf" -p "$DEMO/nginx" -e "$DEMO/nginx/error.log" 2>>"$DEMO/nginx/error.log" &
pids+=($!)
wait_for 10 "nginx" bash -c "exec 3<>/dev/tcp/127.0.0.1/$NGINX_PORT"
echo "   https://127.0.0.1:$NGINX_PORT/ (lists) and /uplink/ (the center), client certificates required"

say "gpsd fed by gpsfake: a patrol car's drive through Xinyi, Taipei, at 1 Hz"
GPSD_PORT=$(free_port)
setsid gpsfake -q -P "$GPSD_PORT" -c 1 "$REPO/Tests/Fixtures/gps/drive.nmea" >"$DEMO/gpsfake.log" 2>&1 &
pids+=($!)
wait_for 20 "gpsd" bash -c "exec 3<>/dev/tcp/127.0.0.1/$GPSD_PORT"

say "mpoliced: syncing from the center, reading gpsd, serving its API on a Unix socket"
cat > "$DEMO/mpoliced.conf" <<CONF
[terminal]
unit = $UNIT
state_directory = $DEMO/state
region = 臺北

[api]
socket = $DEMO/api.sock
socket_group =
allowed_groups =

[sync]
central = https://127.0.0.1:$NGINX_PORT/
ca = $DEMO/pki/ca.crt
certificate = $DEMO/pki/device.crt
key = $DEMO/pki/device.key
trust_root = $DEMO/keys/root.json
interval = 60

[uplink]
central = https://127.0.0.1:$NGINX_PORT/uplink/
dispatch_wait = 20
idle_interval = 2
first_retry = 1
max_retry = 5

[gps]
gpsd = 127.0.0.1:$GPSD_PORT
# The recorded drive is from 2026-11-26: accept its date.
max_time_skew = 3153600000

[photos]
# A few megabytes: the armed and violent first, the rest fetched when a check hits them.
budget_mb = 8
region = 臺北

[log]
level = notice
CONF
setsid "$BIN/mpoliced" --config "$DEMO/mpoliced.conf" 2>"$DEMO/mpoliced.log" &
pids+=($!)
export MPOLICE_SOCKET=$DEMO/api.sock
wait_for 20 "mpoliced" test -S "$DEMO/api.sock"
wait_for 60 "the first sync" bash -c "'$BIN/mpolicectl' status --json | grep -q '\"version\":[1-9]'"
step "$BIN/mpolicectl" status

say "the officer's screen (mpolice-screen, loopback only, a per-boot token)"
SCREEN_PORT=$(free_port)
setsid "$BIN/mpolice-screen" --socket "$DEMO/api.sock" --port "$SCREEN_PORT" --assets "$REPO/Sources/mpolice-screen/Assets" \
    --token-file "$DEMO/screen-token" --token-group "$(id -gn)" 2>"$DEMO/screen.log" &
pids+=($!)
wait_for 20 "mpolice-screen" test -s "$DEMO/screen-token"
wait_for 20 "mpolice-screen" bash -c "exec 3<>/dev/tcp/127.0.0.1/$SCREEN_PORT"
URL="http://127.0.0.1:$SCREEN_PORT/#token=$(cat "$DEMO/screen-token")"

say "a scripted session through the API"
step "$BIN/mpolicectl" signin "$OFFICER" <<<"$PIN"
step "$BIN/mpolicectl" check plate RAB-1235                    # not stolen; registered, a white Toyota: no hit
step "$BIN/mpolicectl" check plate CAN-3021                    # registration cancelled: DOCUMENT INVALID, not a stolen-vehicle hit
step "$BIN/mpolicectl" check licence H123456786 --purpose traffic-stop   # licence suspended for drink-driving
step "$BIN/mpolicectl" check plate BLT-8023                    # stolen: HIT
step "$BIN/mpolicectl" check plate 8LT-8O23                    # an OCR misread of it: POSSIBLE HIT
printf '\033[1m$ mpolicectl confirm CHECK-ID --wait 15\033[0m\n'
CHECK=$("$BIN/mpolicectl" check plate BLT-8023 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["checkId"])')
"$BIN/mpolicectl" confirm "$CHECK" --wait 15                  # the center: still active
step "$BIN/mpolicectl" check show "$CHECK"
say "an urgent bulletin from the center reaches the terminal in seconds"
step "$BIN/mpolice-central" bulletin create --db "$DEMO/central.db" --keys "$DEMO/keys" --plate ABC-1235 --region 臺北 --ttl 2h \
    --summary "搶案逃逸車輛，白色休旅車，兩名持械男子"
wait_for 20 "the bulletin" bash -c "'$BIN/mpolicectl' bulletins | grep -q ABC1235"
step "$BIN/mpolicectl" check plate ABC-1235                    # not stolen (and unregistered), but the bulletin matches: HIT
mkdir -p "$DEMO/photos"
step "$BIN/mpolicectl" check person --id F131680258 --purpose law-6-1 --photos "$DEMO/photos"  # wanted, armed: face and full-body photo
step "$BIN/mpolicectl" check person --name 陳淑芬 --dob 民國35年7月30日 --purpose law-6-3  # a missing elder, no ID
wait_for 30 "a GPS fix" bash -c "'$BIN/mpolicectl' location --json | grep -Eq '\"status\":\"(2d|3d)\"'"
step "$BIN/mpolicectl" location
printf '\033[1m$ mpolice-central dispatch create …\033[0m\n'
DISPATCH=$("$BIN/mpolice-central" dispatch create --db "$DEMO/central.db" --unit "$UNIT" --lat 25.0330 --lon 121.5654 \
    --summary "交通事故，信義路五段與松智路口" --priority urgent)
echo "$DISPATCH"
wait_for 30 "the dispatch" bash -c "'$BIN/mpolicectl' dispatch list | grep -q '$DISPATCH'"
step "$BIN/mpolicectl" dispatch list
step "$BIN/mpolicectl" dispatch status "$DISPATCH" en-route
step "$BIN/mpolicectl" dispatch status "$DISPATCH" on-scene
step "$BIN/mpolicectl" dispatch status "$DISPATCH" cleared --disposition "事故處理完畢，無人受傷"
wait_for 30 "the uploads" bash -c "'$BIN/mpolicectl' status --json | grep -q '\"pending\":0'"
say "the center's view of what the terminal uploaded"
"$BIN/mpolice-central" records --db "$DEMO/central.db" --json | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    p = r["payload"]
    what = p.get("outcome") or p.get("status") or p.get("event") or ""
    subject = p.get("query") or p.get("dispatchId") or ""
    print("   %-16s %s %s %s" % (r["kind"], r["unit"], subject, what))'

say "the officer's screen: $URL"
if [ -t 0 ]; then
  echo "   open it in a browser on this machine; sign in as $OFFICER, PIN $PIN. Ctrl-C stops everything."
  while true; do sleep 3600; done
fi
echo "demo: the scripted session succeeded"
