#!/usr/bin/env python3
"""StatsD-over-UDP load generator for bench/statsd.sh, stdlib only.

usage: statsd_gen.py --port P [--lines N] [--rate R] [--series S] [--max-seconds T]

Sends N lines to 127.0.0.1:P in datagrams of at most 1400 bytes (about 35
lines each), paced at R lines/s (0 = as fast as it can) in 5 ms ticks.
The lines cycle over S series: 60% counters (a third with a sample rate),
20% timers, 10% gauges (a third of them deltas), 10% sets; a quarter carry
DogStatsD tags and a tenth InfluxDB-style tags. Prints one JSON line:
lines, datagrams, seconds, and the rate achieved.
"""
import argparse
import json
import socket
import time


def lines(series):
    out = []
    for i in range(series):
        tags = ""
        name = f"app.svc{i % 17}.op{i}"
        if i % 4 == 0:
            tags = f"|#env:prod,route:/api/v{i % 3}/items,host:web{i % 8}"
        elif i % 10 == 1:
            name += f",host=web{i % 8},dc=eu"
        k = i % 10
        if k < 6:
            rate = "|@0.5" if k % 3 == 0 else ""
            out.append(f"{name}:{1 + i % 5}|c{rate}{tags}")
        elif k < 8:
            out.append(f"{name}:{(i * 7919) % 1000 / 10}|ms{tags}")
        elif k < 9:
            out.append(f"{name}:{'+' if i % 3 == 0 else ''}{i % 100}|g{tags}")
        else:
            out.append(f"{name}:user{i % 250}|s{tags}")
    return [l.encode() for l in out]


def datagrams(pool, n):
    """Datagrams of whole lines, cycling over the pool: (bytes, line count)."""
    out, cur, size, count, k = [], [], 0, 0, 0
    while count < n:
        line = pool[k % len(pool)]
        k += 1
        if cur and size + len(line) + 1 > 1400:
            out.append((b"\n".join(cur), len(cur)))
            cur, size = [], 0
        cur.append(line)
        size += len(line) + 1
        count += 1
    if cur:
        out.append((b"\n".join(cur), len(cur)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--lines", type=int, default=2000000)
    ap.add_argument("--rate", type=float, default=200000)
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    dgrams = datagrams(lines(a.series), a.lines)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    addr = ("127.0.0.1", a.port)
    tick = 0.005
    start = time.monotonic()
    sent_lines = 0
    i = 0
    while i < len(dgrams):
        if time.monotonic() - start > a.max_seconds:
            break
        if a.rate > 0:
            due = int((time.monotonic() - start + tick) * a.rate)
            if sent_lines >= due:
                time.sleep(max(0.0, (sent_lines / a.rate) - (time.monotonic() - start)))
                continue
        else:
            due = sent_lines + 1
        while i < len(dgrams) and sent_lines < due:
            data, n = dgrams[i]
            try:
                s.sendto(data, addr)
            except BlockingIOError:
                time.sleep(0.0005)
                continue
            sent_lines += n
            i += 1
    secs = time.monotonic() - start
    print(json.dumps({"lines": sent_lines, "datagrams": i, "seconds": round(secs, 3),
                      "rate": round(sent_lines / secs if secs else 0)}))


if __name__ == "__main__":
    main()
