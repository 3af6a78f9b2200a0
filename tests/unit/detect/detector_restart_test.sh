#!/bin/sh
# The real binary, restarted mid-storm, keeps its detector state: the second run reads the same
# storm again but opens no second incident, because the key is still firing from the first run.
# Usage: detector_restart_test.sh CRISISD DATA_DIR
set -eu
crisisd=$1
data=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|@WORK@|$work|g; s|@DATA@|$data|g" "$data/restart.yaml" > "$work/crisisd.yaml"

# Runs the daemon until its log shows $1 (at most 10 s), then stops it with SIGTERM.
run_until() {
    "$crisisd" run --config "$work/crisisd.yaml" > "$work/log" 2>&1 &
    pid=$!
    i=0
    while ! grep -q "$1" "$work/log"; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then echo "timed out waiting for: $1"; cat "$work/log"; kill $pid; exit 1; fi
        sleep 0.1
    done
    sleep 0.5  # a few ticks after the last mention
    kill -TERM $pid
    wait $pid || true
    cat "$work/log" >> "$work/all.log"
}

run_until "end of input"
grep -q "incident 1 opened" "$work/log" || { echo "first run opened no incident"; cat "$work/all.log"; exit 1; }
run_until "end of input"
grep -q "restored detector state of 1 rule(s), 1 key(s)" "$work/log" || { echo "state not restored"; cat "$work/all.log"; exit 1; }
if grep -q "incident 2 opened" "$work/log"; then echo "a restart re-opened the storm"; cat "$work/all.log"; exit 1; fi
echo "ok: firing state survived the restart"
