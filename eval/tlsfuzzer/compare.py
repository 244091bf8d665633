#!/usr/bin/env python3
"""Probe-level comparison of tlsfuzzer runs written by three_way.sh.

usage: compare.py LOGS BASE OTHER [OTHER...]

For each OTHER label, lists the probes it fails that BASE passes ("worse") and the probes it
passes that BASE fails ("better"), by script, from the FAILED: lists in the per-script logs
(LOGS/<label>/NNN-script.log). A script whose log has no "Test end" (it timed out or
crashed) is reported as such instead of compared probe by probe.
"""
import re
import sys
from pathlib import Path


def read(logs, label):
    """{script: (set of failed probes, finished, pass count)} for one server."""
    runs = {}
    for log in sorted(Path(logs, label).glob("*.log")):
        script = re.sub(r"^\d+-", "", log.stem)
        text = log.read_text(errors="replace")
        failed = set()
        if "\nFAILED:\n" in text:
            block = text.split("\nFAILED:\n", 1)[1]
            for line in block.splitlines():
                m = re.match(r"\t'(.*)'$", line)
                if not m:
                    break
                failed.add(m.group(1))
        passed = re.findall(r"^PASS: (\d+)", text, re.M)
        runs[(log.name[:3], script)] = (failed, "Test end" in text,
                                        int(passed[-1]) if passed else 0)
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
            (bf, bdone, _), (of, odone, _) = base[key], other[key]
            if not (bdone and odone):
                if bdone != odone:
                    print(f"{label}: {key[1]}: finished {odone}, {base_label} {bdone}")
                continue
            worse += [(key[1], p) for p in sorted(of - bf)]
            better += [(key[1], p) for p in sorted(bf - of)]
        print(f"{label} vs {base_label}: {len(worse)} probes worse, {len(better)} better")
        for kind, rows in (("worse", worse), ("better", better)):
            for script, probe in rows:
                print(f"  {kind}: {script}: {probe}")


if __name__ == "__main__":
    main()
