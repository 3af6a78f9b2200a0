#!/bin/sh
# Makes a committed state database: one written by a given crisisd, dumped as text (with its
# schema version) so a review can read it. The upgrade test (tests/integration/
# state_upgrade_test.cpp) loads each and starts today's crisisd on it:
#   v1_state.sql  crisisd before schema versions (commit 58c8465, user_version 0)
#   v3_state.sql  crisisd at dc75cb8 (schema version 3, silences and cursors still meta rows)
#
# Usage: make_state.sh OLD_CRISISD > vN_state.sql
# What it holds: rule isp-outage's incident 1 (open) and rule magenta-tv's incident 2 (resolved
# by "Anna Berger"), their notify actions (sent), a silence of isp-outage/liwest, both rules'
# detector snapshots, and a Jetstream cursor. Two edits after the run, both in the shape that
# crisisd wrote: the silence ends in 2099 instead of 30 days later (so the test does not expire
# with the fixture), and the cursor row is added by hand (that crisisd wrote one only after a
# live Jetstream connection; the row is "jetstream_cursor:<source>" = time_us, as
# daemon/app/daemon.cpp wrote it).
set -eu
crisisd=$1
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
token=upgrade-fixture-token-0123456789abcdef
cat > "$work/tokens.yaml" <<YAML
tokens:
  - {name: "Anna Berger", role: admin, sha256: "$(printf %s "$token" | sha256sum | cut -d' ' -f1)"}
YAML
sed "s|@WORK@|$work|g; s|@DATA@|$here|g" "$here/v1_state.yaml" > "$work/crisisd.yaml"
sed -i "s|@TOKENS@|$work/tokens.yaml|" "$work/crisisd.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s|127.0.0.1:0|127.0.0.1:$port|" "$work/crisisd.yaml"
"$crisisd" run --config "$work/crisisd.yaml" > "$work/log" 2>&1 &
pid=$!
wait_for() {
    i=0
    until grep -q "$1" "$work/log"; do
        i=$((i + 1)); [ $i -lt 200 ] || { cat "$work/log" >&2; exit 1; }
        sleep 0.1
    done
}
wait_for "incident 2 opened"
api() { curl -sf -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
        "http://127.0.0.1:$port$1" ${2:+-d "$2"} > /dev/null; }
api /api/v1/incidents/2/resolve
api /api/v1/silences '{"rule": "isp-outage", "key": "liwest", "duration": "30d"}'
wait_for "resolved: rule=magenta-tv"
sleep 1  # the resolve notification is delivered
kill -TERM $pid
wait $pid || true
pid=
sqlite3 "$work/state.db" <<SQL >&2
UPDATE meta SET value = '4102444800000000' || substr(value, instr(value, ' '))
    WHERE key = 'silence/isp-outage/liwest';
INSERT INTO meta(key, value) VALUES('jetstream_cursor:bsky', '1764756000123456');
SQL
sqlite3 "$work/state.db" .dump
version=$(sqlite3 "$work/state.db" 'PRAGMA user_version')
[ "$version" = 0 ] || echo "PRAGMA user_version = $version;"
