#!/usr/bin/env python3
"""Print the source lines of an Nsight Compute report that take the most stall samples.

usage: ncu_hot_lines.py REPORT.ncu-rep [N] [sass|cuda]   (the CSV carries the metrics with sass)
       ncu_hot_lines.py REPORT.ncu-rep N opcodes   (executed instructions summed per SASS opcode)
Reads `ncu --page source --csv` (the header row is the one naming "Source") and prints the N
lines with the most warp-stall samples, with their share of the kernel's samples and the
columns that say why (the stall reasons with the most samples on that line).
"""
import csv
import io
import subprocess
import sys


def main() -> int:
    rep = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    kind = sys.argv[3] if len(sys.argv) > 3 else "sass"
    by_opcode = kind == "opcodes"
    if by_opcode:
        kind = "sass"
    text = subprocess.run(
        ["ncu", "-i", rep, "--page", "source", "--csv", "--print-source", kind],
        capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(text)))
    head = next((i for i, r in enumerate(rows) if "Source" in r), None)
    if head is None:
        print("no source table in", rep)
        return 1
    cols = rows[head]
    src = cols.index("Source")
    total_col = next((i for i, c in enumerate(cols) if "Sampling" in c and "All" in c), None)
    if total_col is None:
        print("no stall-sampling column; columns:", cols)
        return 1
    reason_cols = [i for i, c in enumerate(cols) if c.startswith("stall_") or "Stall" in c and i != total_col
                   and "Not-issued" not in c and "All" not in c]

    def num(r, i):
        try:
            return float(r[i].replace(",", ""))
        except (ValueError, IndexError):
            return 0.0

    body = [r for r in rows[head + 1:] if len(r) == len(cols)]
    if by_opcode:
        ex = next((i for i, c in enumerate(cols) if c.startswith("Instructions Executed")), None)
        if ex is None:
            print("no executed-instructions column; columns:", cols)
            return 1
        per = {}
        for r in body:
            words = [w for w in r[src].split() if not w.startswith("@")]
            op = words[0].split(".")[0] if words else "?"
            per[op] = per.get(op, 0.0) + num(r, ex)
        total = sum(per.values()) or 1.0
        print(f"executed warp instructions: {total:.3e}")
        for op, v in sorted(per.items(), key=lambda kv: -kv[1])[:n]:
            print(f"  {op:10s} {v:12.4e}  {100 * v / total:5.1f}%")
        return 0
    total = sum(num(r, total_col) for r in body) or 1.0
    first_col = cols[0]
    for r in sorted(body, key=lambda r: -num(r, total_col))[:n]:
        why = sorted(((num(r, i), cols[i]) for i in reason_cols), reverse=True)[:3]
        why_s = ", ".join(f"{c.split('(')[0].strip()}={v:.0f}" for v, c in why if v > 0)
        print(f"{100 * num(r, total_col) / total:5.1f}%  {first_col}={r[0]:>5}  {r[src].strip()[:110]}")
        if why_s:
            print(f"        {why_s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
