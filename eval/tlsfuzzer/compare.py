#!/usr/bin/env python3
"""Probe-level comparison of tlsfuzzer runs written by three_way.sh.

usage: compare.py LOGS BASE OTHER [OTHER...]

For each OTHER label, lists the probes it fails that BASE passes ("worse") and the probes it
passes that BASE fails ("better"), by script, from the per-script logs
(LOGS/<label>/NNN-script.log: a line "probe name ..." then "OK" or an error). Only probes
both runs ran are compared (a few scripts sample). A script whose log has no "Test end" (it
timed out or crashed) is reported as such instead of compared probe by probe.
"""
import re
import sys
from pathlib import Path


def read(logs, label):
    """{(number, script): ({probe: passed}, finished)} for one server.

    A probe is a line "name ..." and passed if the next line starts with OK (a probe run
    twice, like sanity, passed only if both runs did)."""
    runs = {}
    for log in sorted(Path(logs, label).glob("*.log")):
        script = re.sub(r"^\d+-", "", log.stem)
        lines = log.read_text(errors="replace").splitlines()
        probes = {}
        for i, line in enumerate(lines):
            if line.endswith(" ...") and i + 1 < len(lines):
                ok = lines[i + 1].startswith("OK")
                name = line[: -len(" ...")]
                probes[name] = probes.get(name, True) and ok
        runs[(log.name[:3], script)] = (probes, any(l == "Test end" for l in lines))
    return runs


def main():
    logs, base_label, others = sys.argv[1], sys.argv[2], sys.argv[3:]
    base = read(logs, base_label)
    for label in others:
        other = read(logs, label)
        worse, better = [], []
        for key in sorted(base):
            if key not in other:
                continue
            (bp, bdone), (op, odone) = base[key], other[key]
            if not (bdone and odone):
                if bdone != odone:
                    print(f"{label}: {key[1]}: finished {odone}, {base_label} {bdone}")
                continue
            # Scripts that sample probes ran different ones: compare those run by both.
            for probe in sorted(set(bp) & set(op)):
                if bp[probe] and not op[probe]:
                    worse.append((key[1], probe))
                elif op[probe] and not bp[probe]:
                    better.append((key[1], probe))
        print(f"{label} vs {base_label}: {len(worse)} probes worse, {len(better)} better")
        for kind, rows in (("worse", worse), ("better", better)):
            for script, probe in rows:
                print(f"  {kind}: {script}: {probe}")


if __name__ == "__main__":
    main()
