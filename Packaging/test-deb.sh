#!/usr/bin/env bash
# Packaging/test-deb.sh DEB_N DEB_N1 — installs the package into this machine (root, a CI
# machine or a throwaway VM: it adds a user and writes under /etc, /usr and /var/lib),
# checks what it installed, upgrades N → N+1 with data in place, and purges it.
set -euo pipefail
deb_n=$1 deb_n1=$2
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
ok() { echo "test-deb: ok: $*"; }
[ "$(id -u)" -eq 0 ] || fail "must run as root"
dpkg -s mpolice-agent >/dev/null 2>&1 && fail "mpolice-agent is already installed here; refusing to touch it"

export DEBIAN_FRONTEND=noninteractive
dpkg -i "$deb_n" >/dev/null || { apt-get install -f -y -qq >/dev/null; dpkg -i "$deb_n" >/dev/null; }

# Files, modes, owners.
for f in /usr/bin/mpolice /usr/bin/mpoliced /usr/bin/mpolicectl /lib/systemd/system/mpoliced.service /usr/lib/sysusers.d/mpolice.conf \
         /lib/systemd/system/mpolice-erase.service /lib/systemd/system/mpolice-erase.path /usr/lib/tmpfiles.d/mpolice.conf \
         /usr/bin/mpolice-screen /lib/systemd/system/mpolice-screen.service /usr/share/mpolice-agent/screen/index.html \
         /usr/share/mpolice-agent/screen/app.js /usr/share/man/man8/mpolice-screen.8.gz /etc/mpolice/mpoliced.conf /usr/share/man/man8/mpoliced.8.gz \
         /usr/share/man/man1/mpolicectl.1.gz /usr/share/bash-completion/completions/mpolicectl \
         /usr/share/zsh/vendor-completions/_mpolicectl /usr/share/doc/mpolice-agent/copyright \
         /usr/share/doc/mpolice-agent/changelog.gz /usr/share/doc/mpolice-agent/diagnostics.md; do
  [ -e "$f" ] || fail "$f missing"
done
ok "files installed"
[ "$(stat -c '%a %U:%G' /etc/mpolice/mpoliced.conf)" = "640 root:mpolice" ] || fail "mpoliced.conf mode/owner: $(stat -c '%a %U:%G' /etc/mpolice/mpoliced.conf)"
[ "$(stat -c '%a %U:%G' /var/lib/mpolice)" = "750 mpolice:mpolice" ] || fail "/var/lib/mpolice: $(stat -c '%a %U:%G' /var/lib/mpolice)"
getent passwd mpolice | grep -q ':/usr/sbin/nologin$' || fail "user mpolice missing or has a login shell"
getent group mpolice-ui >/dev/null || fail "group mpolice-ui missing"
id -nG mpolice-screen | tr ' ' '\n' | grep -qx mpolice-ui || fail "mpolice-screen is not in mpolice-ui"
id -nG mpolice | tr ' ' '\n' | grep -qx mpolice-ui || fail "mpolice is not in mpolice-ui"
ok "user, groups, directories"
for link in mpoliced mpolicectl mpolice-screen; do
  [ "$(readlink /usr/bin/$link)" = mpolice ] || fail "/usr/bin/$link is not a link to the multi-call mpolice"
done
readelf -S /usr/bin/mpolice | grep -q '\.symtab' && fail "mpolice is not stripped"
ldd /usr/bin/mpolice | grep -q "libswift" && fail "mpolice needs a Swift runtime installed"
ok "binaries stripped, Swift runtime static"

# The unit as installed.
for unit in mpoliced.service mpolice-erase.service mpolice-erase.path mpolice-screen.service; do
  systemd-analyze verify /lib/systemd/system/$unit 2>&1 | grep -v "^$" | grep -vi "not found\|Failed to " \
    | grep -q . && fail "systemd-analyze verify $unit: $(systemd-analyze verify /lib/systemd/system/$unit 2>&1)"
done
ok "systemd-analyze verify"

# The installed programs.
mpolicectl --help | grep -q "USAGE: mpolicectl" || fail "mpolicectl --help"
mpoliced --help | grep -q "USAGE: mpoliced" || fail "mpoliced --help"
set +e; out=$(mpoliced --config /etc/mpolice/mpoliced.conf 2>&1); status=$?; set -e
[ $status -eq 78 ] && echo "$out" | grep -q "terminal.unit" || fail "unconfigured daemon: exit $status: $out"
ok "installed programs run; the unconfigured daemon refuses with exit 78"

# Device/provision: refuses without what it needs, installs what it should, and a second run
# changes nothing. (It writes /etc/default/gpsd and a udev rule: saved and put back.)
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
cp -a /etc/default/gpsd "$work/gpsd.saved" 2>/dev/null || true
restore() {
  if [ -f "$work/gpsd.saved" ]; then cp -a "$work/gpsd.saved" /etc/default/gpsd; else rm -f /etc/default/gpsd; fi
  rm -f /etc/udev/rules.d/60-mpolice-gnss.rules
  userdel mpolice-test-ui 2>/dev/null || true
  rm -rf "$work"
  dpkg --purge mpolice-agent >/dev/null 2>&1 || true
}
trap restore EXIT
( cd "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -subj /CN=test-ca -days 30 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout device.key -out device.csr -subj /CN=unit-TPE-T-01 2>/dev/null
  openssl x509 -req -in device.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out device.crt -days 30 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key -out other.csr -subj /CN=unit-TPE-X-99 2>/dev/null
  openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out other.crt -days 30 2>/dev/null
  echo '{"payloadType": "application/vnd.mpolice.root+json", "payload": "e30=", "signatures": []}' > root.json )
useradd --system --no-create-home mpolice-test-ui
provision=("$repo/Device/provision" --unit TPE-T-01 --central https://central.example/lists/
           --uplink https://central.example/uplink/ --ca "$work/ca.crt"
           --root "$work/root.json" --ui-user mpolice-test-ui --no-start)
set +e; out=$("${provision[@]}" --cert "$work/device.crt" --key "$work/other.key" 2>&1); status=$?; set -e
[ $status -ne 0 ] && echo "$out" | grep -q "does not belong to --cert" || fail "provision with the wrong key: $out"
set +e; out=$("${provision[@]}" --cert "$work/other.crt" --key "$work/other.key" 2>&1); status=$?; set -e
[ $status -ne 0 ] && echo "$out" | grep -q "expects CN=unit-TPE-T-01" || fail "provision with another unit's certificate: $out"
set +e; out=$("$repo/Device/provision" --unit "bad unit" 2>&1); status=$?; set -e
[ $status -ne 0 ] && echo "$out" | grep -q -- "--unit" || fail "provision with a bad unit: $out"
first=$("${provision[@]}" --cert "$work/device.crt" --key "$work/device.key")
echo "$first" | grep -q "installed /etc/mpolice/mpoliced.conf" || fail "provision did not write the configuration: $first"
grep -q "^unit = TPE-T-01$" /etc/mpolice/mpoliced.conf || fail "provisioned configuration lacks the unit"
[ "$(stat -c '%a %U:%G' /etc/mpolice/device.key)" = "640 root:mpolice" ] || fail "device.key: $(stat -c '%a %U:%G' /etc/mpolice/device.key)"
id -nG mpolice-test-ui | grep -qw mpolice-ui || fail "the UI user is not in mpolice-ui"
[ -f /etc/udev/rules.d/60-mpolice-gnss.rules ] || fail "udev rule not installed"
second=$("${provision[@]}" --cert "$work/device.crt" --key "$work/device.key")
echo "$second" | grep -q "installed\|added" && fail "a second provision changed things: $second"
/usr/bin/mpoliced --config /etc/mpolice/mpoliced.conf --prepare-only >/dev/null || fail "the provisioned configuration does not load"
ok "Device/provision refuses bad input, provisions, and is idempotent"

# Field diagnostics from the installed path on the provisioned terminal: the center's name
# does not resolve here, so the chain must stop at dns, after a good config and certificate.
set +e; diag=$(/usr/bin/mpolicectl diag --json --gps-wait 0); status=$?; set -e
[ $status -eq 2 ] || fail "mpolicectl diag: exit $status, expected 2 (the center is unreachable here): $diag"
echo "$diag" | python3 -c '
import json, sys
report = json.load(sys.stdin)
steps = {s["name"]: s for s in report["steps"]}
assert report["schema"] == 1 and report["unit"] == "TPE-T-01", report
assert steps["config"]["status"] == "ok", steps["config"]
assert steps["certificate"]["status"] == "ok", steps["certificate"]
assert steps["dns"]["reason"] == "dns.unresolved", steps["dns"]
for name in ("tcp", "tls", "client-certificate", "manifest"):
    assert steps[name]["status"] == "skipped" and steps[name]["reason"] == "after-dns", steps[name]
assert "PRIVATE KEY" not in json.dumps(report)
' || fail "mpolicectl diag --json did not report the provisioned terminal as expected: $diag"
ok "mpolicectl diag --json runs from the installed path and stops at dns"
cp "$repo/Packaging/mpoliced.conf" /etc/mpolice/mpoliced.conf   # back to the packaged file for the conffile check below

# Data in place, then the upgrade.
runuser -u mpolice -- true
mpolice_state=/var/lib/mpolice
set +e; /usr/bin/mpoliced --prepare-only --state-dir $mpolice_state >/dev/null; set -e
export MPOLICE_OFFICER=OF-PKG-1
for plate in ABC-1235 ABC-1236 ABC-1237; do mpolicectl check plate $plate --db $mpolice_state --json >/dev/null; done
before=$(sqlite3 $mpolice_state/journal.db "SELECT count(*) FROM check_record")
[ "$before" = 3 ] || fail "expected 3 check records before the upgrade, found $before"
outbox_before=$(sqlite3 $mpolice_state/journal.db "SELECT group_concat(id) FROM (SELECT id FROM outbox ORDER BY seq)")
[ "$(echo "$outbox_before" | tr ',' '\n' | wc -l)" = 3 ] || fail "expected 3 queued outbox items before the upgrade: $outbox_before"
echo "# a technician's note" >> /etc/mpolice/mpoliced.conf
dpkg -i "$deb_n1" >/dev/null
[ "$(dpkg-query -W -f='${Version}' mpolice-agent)" = "$(dpkg-deb -f "$deb_n1" Version)" ] || fail "upgrade did not take"
after=$(sqlite3 $mpolice_state/journal.db "SELECT count(*) FROM check_record")
[ "$after" = 3 ] || fail "journal lost records over the upgrade: $after"
outbox_after=$(sqlite3 $mpolice_state/journal.db "SELECT group_concat(id) FROM (SELECT id FROM outbox ORDER BY seq)")
[ "$outbox_after" = "$outbox_before" ] || fail "the outbox changed over the upgrade: $outbox_before → $outbox_after"
[ "$(readlink $mpolice_state/lists.db)" != "" ] || fail "lists.db lost over the upgrade"
grep -q "a technician's note" /etc/mpolice/mpoliced.conf || fail "the edited conffile was replaced"
ok "upgrade keeps the journal, the outbox, the lists and the edited configuration"

# Purge: nothing left but the user and group (Debian policy keeps them).
dpkg --purge mpolice-agent >/dev/null
for f in /usr/bin/mpolice /usr/bin/mpoliced /usr/bin/mpolicectl /lib/systemd/system/mpoliced.service /etc/mpolice /var/lib/mpolice \
         /usr/share/doc/mpolice-agent /usr/lib/sysusers.d/mpolice.conf; do
  [ -e "$f" ] && fail "$f left after purge"
done
getent passwd mpolice >/dev/null || fail "purge removed the user (policy keeps it)"
ok "purge leaves only the mpolice user and group"
