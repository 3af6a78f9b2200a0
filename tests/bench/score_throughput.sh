#!/usr/bin/env bash
# End-to-end throughput of `crisisd score`: generates N realistic JSONL mentions (English VADER
# tweet texts and our German outage mentions, 20% without "lang" so the language is guessed, 10%
# Mastodon HTML), pipes them through the real binary on one core (stdin -> stdout) and reports
# mentions per second of CPU time (one core's speed) and of wall time (which also counts time the
# process waited for a core on a busy machine, shown with the context switches), next to `cat` of
# the same file as the I/O baseline and the same run through pipes.
#
#   tests/bench/score_throughput.sh [CRISISD_BINARY] [MENTIONS]
#   (defaults: build/release/daemon/app/crisisd, 1000000)
#
# The output is checked first: one JSON line per input line, no error objects.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
data="$here/../data/sentiment"
bin=${1:-build/release/daemon/app/crisisd}
count=${2:-1000000}
[[ -x "$bin" ]] || { echo "score_throughput: no crisisd binary at '$bin'" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
input="$work/mentions.jsonl"

# Deterministic generator: texts cycle through both pools; ids, times and authors vary.
awk -v count="$count" '
    function esc(s) { gsub(/\\/, "&&", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "", s); return s }
    FNR == 1 { file++ }
    file == 1 && $0 != "" { en[n_en++] = esc($0) }
    file == 2 && $0 != "" { de[n_de++] = esc($0) }
    END {
        for (i = 0; i < count; i++) {
            german = (i % 5) < 2
            text = german ? de[i % n_de] : en[i % n_en]
            lang = (i % 10 < 2) ? "" : (german ? ",\"lang\":\"de\"" : ",\"lang\":\"en\"")
            html = ""
            if (i % 10 == 7) { text = "<p>" text "</p>"; html = ",\"html\":true" }
            printf "{\"id\":\"m-%d\",\"created_at\":\"2026-11-26T%02d:%02d:%02dZ\",\"source\":\"bench\",\"author\":\"@user%d@social.example\"%s%s,\"text\":\"%s\",\"url\":\"https://social.example/@user%d/%d\"}\n",
                   i, (i / 3600) % 24, (i / 60) % 60, i % 60, i % 977, lang, html, text, i % 977, i
        }
    }' "$data/vader_tweets_dev_texts.txt" "$data/german_mentions.txt" > "$input"

lines=$(wc -l < "$input")
bytes=$(wc -c < "$input")
# `crisisd score` is single-threaded, so it uses one core; CRISISD_PIN_CORE=N additionally pins it
# (on a shared machine pinning only adds waiting for that one core).
one_core=()
if [[ -n "${CRISISD_PIN_CORE:-}" ]] && command -v taskset > /dev/null; then one_core=(taskset -c "$CRISISD_PIN_CORE"); fi

# Correctness first: one output line per input line and no error objects.
"${one_core[@]}" "$bin" score < "$input" > "$work/out.jsonl"
out_lines=$(wc -l < "$work/out.jsonl")
errors=$(grep -c '"error"' "$work/out.jsonl" || true)
if [[ "$out_lines" != "$lines" || "$errors" != 0 ]]; then
    echo "score_throughput: $out_lines output lines for $lines inputs, $errors errors" >&2
    grep -n -m 3 '"error"' "$work/out.jsonl" | while IFS=: read -r n rest; do
        echo "  line $n: $rest" >&2
        sed -n "${n}p" "$input" | cut -c1-300 >&2
    done
    exit 1
fi

# Three runs of "$@" < input > /dev/null; prints the run with the least CPU time as "wall user sys
# involuntary voluntary" (context switches: "-" without GNU time) and the least wall time. CPU time
# (user + sys) is what one core spends; wall time adds every moment the process was not running:
# preempted while another process had the core (involuntary switches, the usual cause on a busy
# shared machine) or blocked in a read or write (voluntary switches; none here, since the input
# is a cached file and the output /dev/null).
measure() {
    local best="" best_cpu="" best_wall=""
    for _ in 1 2 3; do
        local TIMEFORMAT='%R %U %S' t switches="- -"
        if [[ -x /usr/bin/time ]]; then
            # bash's time (1 ms resolution) around GNU time, which adds the context switches.
            t=$( { time /usr/bin/time -f '%c %w' "$@" < "$input" > /dev/null; } 2>&1 | tr '\n' ' ')
            read -r invol vol wall user sys <<< "$t"
            switches="$invol $vol"
        else
            t=$( { time "$@" < "$input" > /dev/null; } 2>&1 )
            read -r wall user sys <<< "$t"
        fi
        local cpu
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
        if [[ -z "$best" ]] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
            best="$wall $user $sys $switches"
            best_cpu=$cpu
        fi
        if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then best_wall=$wall; fi
    done
    echo "$best $best_wall"
}

# The same through pipes (cat | crisisd score | cat), as a pipeline would run it: least wall time of 3.
measure_pipes() {
    local best=""
    for _ in 1 2 3; do
        local TIMEFORMAT='%R' t
        t=$( { time (cat "$input" | "$@" | cat > /dev/null); } 2>&1 )
        if [[ -z "$best" ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
    done
    echo "$best"
}

load=$(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || echo "?")
read -r s_wall s_user s_sys s_invol s_vol s_best_wall <<< "$(measure "${one_core[@]}" "$bin" score)"
read -r c_wall c_user c_sys _ _ _ <<< "$(measure "${one_core[@]}" cat)"
p_wall=$(measure_pipes "${one_core[@]}" "$bin" score)
awk -v n="$lines" -v b="$bytes" -v load="$load" -v w="$s_wall" -v u="$s_user" -v sy="$s_sys" -v invol="$s_invol" \
    -v vol="$s_vol" -v bw="$s_best_wall" -v cw="$c_wall" -v cu="$c_user" -v cs="$c_sys" -v pw="$p_wall" 'BEGIN {
    cpu = u + sy
    idle = w - cpu > 0 ? w - cpu : 0
    printf "mentions: %d (%.1f MB, %.0f bytes/mention); load average %s\n", n, b / 1e6, b / n, load
    printf "crisisd score < file > /dev/null (run with the least CPU time of 3):\n"
    printf "  CPU  %.3f s (user %.3f + sys %.3f) = %.0f mentions per CPU-second (one core)\n", cpu, u, sy, n / cpu
    printf "  wall %.3f s = %.0f mentions/s; not running %.3f s (%s involuntary context switches: preempted,\n",
           w, n / w, idle, invol
    printf "       waiting for a core; %s voluntary: blocked on I/O)\n", vol
    printf "  best wall of 3: %.3f s = %.0f mentions/s\n", bw, n / bw
    printf "cat < file > /dev/null (I/O baseline): wall %.3f s = %.0f mentions/s; CPU %.3f s\n", cw, n / cw, cu + cs
    printf "cat file | crisisd score | cat > /dev/null (pipes, best wall of 3): %.3f s = %.0f mentions/s\n", pw, n / pw
    printf "ratio crisisd score / cat (wall): %.1f\n", w / cw
}'
