#!/usr/bin/env python3
"""Writes the link order of meshctl's functions from callgrind profiles.

usage: link-order.py BINARY OUT CALLGRIND_OUT...

Every function that ran in the profiled processes (callgrind's `fn=` and
`cfn=` records, mangled with `--demangle=no`) and is defined in BINARY, one
symbol per line, sorted by name so that a regenerated file diffs cleanly.
lld's `--symbol-ordering-file` then places these functions together at the
start of the text, so a sidecar's resident code is the few MiB it runs, not
every page of the binary that one of its functions happens to share.
"""
import re
import subprocess
import sys

binary, out, profiles = sys.argv[1], sys.argv[2], sys.argv[3:]
defined = set()
nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True)
for line in nm.stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        defined.add(parts[2])
ran = set()
record = re.compile(r"^c?fn=\(\d+\) (\S+)$")
for path in profiles:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = record.match(line.rstrip("\n"))
            if m:
                ran.add(m.group(1))
order = sorted(ran & defined)
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(name + "\n" for name in order))
print(f"{out}: {len(order)} functions ({len(ran)} ran, {len(ran - defined)} outside the binary)")
