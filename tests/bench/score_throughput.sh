#!/usr/bin/env bash
# End-to-end throughput of `crisisd score`: generates N realistic JSONL mentions (English VADER
# tweet texts and our German outage mentions, 20% without "lang" so the language is guessed, 10%
# Mastodon HTML), pipes them through the real binary on one core (stdin -> stdout) and reports
# mentions per second (wall and CPU time), best of 3 runs, next to `cat` of the same file as the
# I/O baseline.
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

# Best of three runs of "$@" < input > /dev/null: prints "wall_seconds cpu_seconds" (CPU = user +
# sys of the command). On a busy machine the wall time includes waiting for the core; the CPU
# time is what one core spends.
best_of_3() {
    local best_wall="" best_cpu=""
    for _ in 1 2 3; do
        local TIMEFORMAT='%R %U %S' t
        t=$( { time "$@" < "$input" > /dev/null; } 2>&1 )
        read -r wall user sys <<< "$t"
        local cpu
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
        if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then best_wall=$wall; fi
        if [[ -z "$best_cpu" ]] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then best_cpu=$cpu; fi
    done
    echo "$best_wall $best_cpu"
}

read -r score_wall score_cpu <<< "$(best_of_3 "${one_core[@]}" "$bin" score)"
read -r cat_wall cat_cpu <<< "$(best_of_3 "${one_core[@]}" cat)"
awk -v n="$lines" -v b="$bytes" -v s="$score_wall" -v sc="$score_cpu" -v c="$cat_wall" -v cc="$cat_cpu" 'BEGIN {
    printf "mentions: %d (%.1f MB, %.0f bytes/mention)\n", n, b / 1e6, b / n
    printf "crisisd score: wall %.3f s = %.0f mentions/s (%.1f MB/s); CPU %.3f s = %.0f mentions/s\n", s, n / s, b / 1e6 / s, sc, n / sc
    printf "cat:           wall %.3f s = %.0f mentions/s (%.1f MB/s); CPU %.3f s\n", c, n / c, b / 1e6 / c, cc
    printf "ratio crisisd score / cat (wall): %.1f\n", s / c
}'
