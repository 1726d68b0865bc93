#!/usr/bin/env python3
"""Appends "line N" (N = 0, 1, 2, ...) to a log file at a steady rate and,
every --every lines, rotates it the copytruncate way: the file is copied,
then truncated in place (the writer keeps appending to the same inode).
The copy goes to --copy-dir as app.log.<k> (outside the tail glob), or,
with --numbered, becomes <path>.1 after <path>.1..<path>.<keep-1> are
shifted up (logrotate's naming). Copy and truncate happen between two of
the writer's own appends, so no line is lost by the rotation itself; with
copies outside the glob, a line truncated away before the reader reached
it is beyond any reader, so --settle leaves it time first.
Stops at --count lines; writes how many it wrote to --done."""
import argparse
import os
import shutil
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("--rate", type=int, default=20000)
ap.add_argument("--count", type=int, required=True)
ap.add_argument("--every", type=int, default=5000)
ap.add_argument("--copy-dir")
ap.add_argument("--numbered", action="store_true")
ap.add_argument("--keep", type=int, default=50)
ap.add_argument("--settle", type=float, default=0,
                help="seconds to wait after the last line before copying: a reader can only "
                     "lose lines truncated away before it could read them")
ap.add_argument("--done", required=True)
a = ap.parse_args()

def rotate(k):
    if a.numbered:
        for i in range(a.keep - 1, 0, -1):
            src = f"{a.path}.{i}"
            if os.path.exists(src):
                os.rename(src, f"{a.path}.{i + 1}")
        shutil.copyfile(a.path, f"{a.path}.1")
    else:
        shutil.copyfile(a.path, os.path.join(a.copy_dir, f"app.log.{k}"))
    os.truncate(a.path, 0)

batch = max(1, a.rate // 100)
n, k, start = 0, 0, time.monotonic()
fd = os.open(a.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
while n < a.count:
    m = min(batch, a.count - n, a.every - n % a.every)
    os.write(fd, "".join(f"line {i}\n" for i in range(n, n + m)).encode())
    n += m
    if n % a.every == 0:
        k += 1
        time.sleep(a.settle)
        rotate(k)
        start += a.settle
    delay = start + n / a.rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
os.close(fd)
with open(a.done, "w") as f:
    f.write(str(n))
