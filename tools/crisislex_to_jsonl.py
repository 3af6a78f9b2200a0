#!/usr/bin/env python3
"""Converts a CrisisLex labelled tweet file to crisisd's generic JSONL, in time order.

CrisisLex (crisislex.org, Olteanu et al., ICWSM 2014) publishes CSV files of
`tweet id, tweet text, label` with ids quoted as '123'. A tweet id is a Twitter snowflake, so it
carries its creation time: milliseconds since the epoch = (id >> 22) + 1288834974657. The output
can therefore be replayed as a timed stream:

    tools/crisislex_to_jsonl.py FILE.csv > stream.jsonl
    crisisd replay --config rules.yaml --input stream.jsonl --chart story.svg

Each line: {"id", "created_at", "source", "text"} plus "label" (the crowd's on-topic/off-topic
verdict, ignored by crisisd, kept for evaluation) and, with --lang, "lang". The files carry no
author, so none is written: crisisd then counts every mention as its own author. The data is
third-party tweets (evaluation only): this tool reads it where it lies and ships none of it.
"""
import argparse
import csv
import datetime
import json
import sys

TWITTER_EPOCH_MS = 1288834974657


def snowflake_time(tweet_id: int) -> str:
    ms = (tweet_id >> 22) + TWITTER_EPOCH_MS
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def read_rows(path: str):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f, skipinitialspace=True)
        for n, row in enumerate(reader, start=1):
            if len(row) < 2:
                continue
            raw_id = row[0].strip().strip("'\"")
            if not raw_id.isdigit():
                if n == 1:
                    continue  # the header
                print(f"{path}:{n}: skipped: id {row[0]!r} is not a number", file=sys.stderr)
                continue
            label = row[2].strip() if len(row) > 2 else ""
            yield int(raw_id), row[1], label


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", help="a CrisisLex *-ontopic_offtopic.csv file")
    p.add_argument("--source", default="twitter", help="source name written on each mention")
    p.add_argument("--lang", default="", help="language to write on each mention (default: let crisisd guess)")
    p.add_argument("--only", choices=["on-topic", "off-topic"], help="keep only tweets with this label")
    a = p.parse_args()

    rows = {}
    for tweet_id, text, label in read_rows(a.csv):
        if a.only and label != a.only:
            continue
        rows.setdefault(tweet_id, (text, label))  # the files repeat a few tweets
    out = sys.stdout
    for tweet_id in sorted(rows):
        text, label = rows[tweet_id]
        m = {"id": str(tweet_id), "created_at": snowflake_time(tweet_id), "source": a.source, "text": text}
        if a.lang:
            m["lang"] = a.lang
        if label:
            m["label"] = label
        out.write(json.dumps(m, ensure_ascii=False) + "\n")
    print(f"{len(rows)} tweets, {min(rows, default=0) and snowflake_time(min(rows))} .. "
          f"{max(rows, default=0) and snowflake_time(max(rows))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
