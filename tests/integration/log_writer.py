#!/usr/bin/env python3
"""Appends "line N" (N = 0, 1, 2, ...) to a log file at a steady rate, opening
the file anew for every batch so that a rename-and-create rotation sends the
next batch to the new file, as a logging library that reopens does. Stops at
--count lines; writes how many it wrote to --done when it ends."""
import argparse
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("--rate", type=int, default=5000)
ap.add_argument("--count", type=int, required=True)
ap.add_argument("--done", required=True)
a = ap.parse_args()
batch = max(1, a.rate // 100)
n, start = 0, time.monotonic()
while n < a.count:
    k = min(batch, a.count - n)
    with open(a.path, "a") as f:
        f.write("".join(f"line {i}\n" for i in range(n, n + k)))
    n += k
    delay = start + n / a.rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
with open(a.done, "w") as f:
    f.write(str(n))
