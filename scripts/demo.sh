#!/usr/bin/env bash
# make demo: generate a demo data set and run a handful of offline checks, printing the answers.
set -euo pipefail
BIN=${MPOLICE_BIN_DIR:-.build/debug}
STATE=${DEMO_STATE:-demo-state}
export MPOLICE_OFFICER=${MPOLICE_OFFICER:-OF-DEMO-01}
export MPOLICE_UNIT=${MPOLICE_UNIT:-TPE-DA-01}

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || true; }

rm -rf "$STATE"
echo "== generating 100,000 synthetic records into $STATE/"
"$BIN/mpolice-central" generate --out "$STATE" --records 100000 --seed 110

step "$BIN/mpolicectl" check plate ABC-1235 --db "$STATE"          # not listed
step "$BIN/mpolicectl" check plate blt-8023 --db "$STATE"          # stolen: exact hit
step "$BIN/mpolicectl" check plate 8LT-8O23 --db "$STATE"          # OCR misread of a stolen plate
step "$BIN/mpolicectl" check vin RFBSA1A25MB104471 --db "$STATE"   # stolen motorcycle by VIN
step "$BIN/mpolicectl" check person --id F131680258 --purpose law-6-1 --db "$STATE"  # wanted, armed
step "$BIN/mpolicectl" check person --id F131680250 --purpose law-6-1 --db "$STATE"  # same ID mistyped
step "$BIN/mpolicectl" check person --name 陳淑芬 --dob 民國35年7月30日 --purpose law-6-3 --db "$STATE"  # missing, no ID
step "$BIN/mpolicectl" check plate "ABC'; DROP TABLE stolen_vehicle" --db "$STATE"  # refused, exit 2
step "$BIN/mpolicectl" status --db "$STATE"

cat <<TXT

Try more by hand, e.g.:
  $BIN/mpolicectl check plate <PLATE> --db $STATE [--json]
  $BIN/mpolicectl check person --id <ID> --purpose law-6-1 --db $STATE
  sqlite3 $STATE/journal.db 'SELECT checked_at, kind, outcome FROM check_record'
TXT
