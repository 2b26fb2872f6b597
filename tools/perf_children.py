#!/usr/bin/env python3
"""Where the time under one function goes, from `perf script` output.

    perf record -F 999 --call-graph dwarf,16384 -p <postbox pid> -o perf.data -- sleep 3
    perf script -i perf.data -F comm,tid,ip,sym > stacks.txt
    python3 tools/perf_children.py stacks.txt 'SqsFrontend::Handle' [N]

Prints the share of all samples whose stack contains the function (its outermost call), then
the N callees directly below it that take the most samples. `perf report --children` gives
the same totals but not per-callee splits under a chosen frame when inlined frames and
several threads mix; this is what docs/research/throughput.md was measured with.
"""
import collections
import re
import sys


def read_stacks(path):
    stacks, current = [], []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or not line[:1].isspace():
                if current:
                    stacks.append(current)
                current = []
                continue
            parts = line.strip().split(" ", 1)
            symbol = parts[1] if len(parts) > 1 else parts[0]
            current.append(re.sub(r"\+0x[0-9a-f]+$", "", symbol))
    if current:
        stacks.append(current)
    return stacks


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    stacks = read_stacks(sys.argv[1])
    root = sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    callees, inside = collections.Counter(), 0
    for stack in stacks:  # leaf first
        hits = [i for i, frame in enumerate(stack) if root in frame]
        if not hits:
            continue
        inside += 1
        outermost = max(hits)
        callees[stack[outermost - 1][:150] if outermost > 0 else "<self>"] += 1
    total = max(len(stacks), 1)
    print(f"{root}: {inside}/{total} samples = {100 * inside / total:.1f}%")
    for name, count in callees.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
