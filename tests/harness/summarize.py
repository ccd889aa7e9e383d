#!/usr/bin/env python3
"""Prints one line per meson test run and the closing 'N passed, N failed'.

Arguments: <testlog.json path>:<label> ...

Counts cmocka test cases where a test executable printed its cmocka summary
(so the numbers are test cases, not executables); executables without one
count as a single test.
"""
import json
import re
import sys

PASSED = re.compile(r"\[  PASSED  \] (\d+) test")
FAILED = re.compile(r"\[  FAILED  \] (\d+) test")
SKIPPED = re.compile(r"\[  SKIPPED \] (\d+) test")


def count(entry):
    out = (entry.get("stdout") or "") + (entry.get("stderr") or "")
    p = sum(int(m) for m in PASSED.findall(out))
    f = sum(int(m) for m in FAILED.findall(out))
    s = sum(int(m) for m in SKIPPED.findall(out))
    ok = entry.get("result") in ("OK", "EXPECTEDFAIL")
    if p + f + s == 0:
        if entry.get("result") == "SKIP":
            return 0, 0, 1
        return (1, 0, 0) if ok else (0, 1, 0)
    if not ok and f == 0:
        f = 1  # crashed or timed out after some cases passed
    return p, f, s


def main(args):
    tp = tf = ts = 0
    for arg in args:
        path, label = arg.rsplit(":", 1)
        p = f = s = 0
        failed = []
        try:
            with open(path) as fh:
                for line in fh:
                    e = json.loads(line)
                    a, b, c = count(e)
                    p, f, s = p + a, f + b, s + c
                    if b:
                        failed.append(e.get("name"))
        except OSError as ex:
            print(f"{label}: no test log ({ex})")
            f += 1
        print(f"{label}: {p} passed, {f} failed, {s} skipped"
              + (f"  FAILED: {', '.join(failed)}" if failed else ""))
        # Re-runs of the same tests under a sanitizer or valgrind (labels
        # with a "/") add failures to the total but not passes, so the
        # closing line counts each test case once.
        if "/" not in label:
            tp, ts = tp + p, ts + s
        tf += f
    print(f"tests: {tp} passed, {tf} failed, {ts} skipped")
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
