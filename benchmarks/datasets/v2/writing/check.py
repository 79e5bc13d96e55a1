"""Check a writer's JSONL file: python3 check.py FILE"""

import json
import sys
from collections import Counter

TIERS = ("trivial", "simple", "moderate", "complex", "deep")
TASKS = ("chat", "fact", "math", "code", "writing", "summarize", "analysis", "other")
ROLES = ("system", "user", "assistant", "tool", "developer")


def body(row):
    if "text" in row:
        return row["text"]
    return "\n".join(str(m.get("content") or "") for m in row["messages"])


def main(path):
    problems, rows = [], []
    ids, prompts = set(), set()
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
            continue
        p = []
        if not isinstance(row, dict):
            problems.append(f"line {n}: not an object")
            continue
        if not isinstance(row.get("id"), str) or not row["id"]:
            p.append("id missing")
        elif row["id"] in ids:
            p.append(f"duplicate id {row['id']}")
        if ("text" in row) == ("messages" in row):
            p.append("exactly one of text and messages")
        elif "text" in row and (not isinstance(row["text"], str) or not row["text"].strip()):
            p.append("empty text")
        elif "messages" in row:
            ms = row["messages"]
            if not isinstance(ms, list) or not ms:
                p.append("messages must be a non-empty list")
            elif any(not isinstance(m, dict) or m.get("role") not in ROLES for m in ms):
                p.append("bad role in messages")
            elif ms[-1].get("role") != "user":
                p.append("the last message must be the user's")
        if row.get("tier") not in TIERS:
            p.append(f"tier {row.get('tier')!r}")
        if row.get("task") not in TASKS:
            p.append(f"task {row.get('task')!r}")
        if not isinstance(row.get("lang"), str) or not 2 <= len(row["lang"]) <= 3:
            p.append(f"lang {row.get('lang')!r}")
        if not isinstance(row.get("genre"), str) or not row["genre"]:
            p.append("genre missing")
        if p:
            problems += [f"line {n}: {x}" for x in p]
            continue
        key = " ".join(body(row).lower().split())
        if key in prompts:
            problems.append(f"line {n}: prompt repeats an earlier row")
            continue
        ids.add(row["id"])
        prompts.add(key)
        rows.append(row)
    tiers = Counter(r["tier"] for r in rows)
    langs = Counter(r["lang"] for r in rows)
    n = len(rows)
    non_en = n - langs.get("en", 0)
    long_ = sum(1 for r in rows if len(body(r)) >= 2000)
    multi = sum(1 for r in rows if "messages" in r and sum(m["role"] == "user" for m in r["messages"]) > 1)
    print(f"{n} rows; tiers {dict(tiers)}; tasks {dict(Counter(r['task'] for r in rows))}")
    print(
        f"not English {non_en} ({non_en / max(n, 1):.0%}) in {len(langs) - ('en' in langs)} languages; "
        f">=2000 chars {long_} ({long_ / max(n, 1):.0%}); multi-turn {multi} ({multi / max(n, 1):.0%})"
    )
    for t in TIERS:
        if tiers.get(t, 0) != 72:
            problems.append(f"tier {t}: {tiers.get(t, 0)} rows, want 72")
    for x in problems[:40]:
        print("PROBLEM:", x)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
