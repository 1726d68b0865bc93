#!/usr/bin/env python3
"""POST a file's lines to an HTTP input in NDJSON requests of --lines lines
(or, with --repeat N, the whole file N times as one body each, e.g. an
OTLP request), on --connections kept-alive connections (one thread each),
as fast as the server answers (any 2xx); 503s are retried after their
Retry-After.
Prints {"requests", "refused", "lines", "seconds"} as JSON. Standard
library only."""
import argparse
import http.client
import json
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--content-type", default="application/x-ndjson")
    ap.add_argument("--repeat", type=int, default=0)
    args = ap.parse_args()

    with open(args.file, "rb") as f:
        if args.repeat:
            lines = []
            bodies = [f.read()] * args.repeat
        else:
            lines = f.readlines()
            bodies = [b"".join(lines[i:i + args.lines]) for i in range(0, len(lines), args.lines)]
    stats = {"requests": 0, "refused": 0}
    lock = threading.Lock()

    def worker(mine):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        refused = 0
        for body in mine:
            while True:
                conn.request("POST", args.path, body, {"Content-Type": args.content_type})
                r = conn.getresponse()
                r.read()
                if 200 <= r.status < 300:
                    break
                refused += 1
                if r.status == 503:  # backpressure: wait as told
                    time.sleep(float(r.getheader("Retry-After", "1")))
                    continue
                raise SystemExit("HTTP %d" % r.status)
        with lock:
            stats["requests"] += len(mine)
            stats["refused"] += refused

    start = time.time()
    threads = [threading.Thread(target=worker, args=(bodies[i::args.connections],))
               for i in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats["lines"] = len(lines)
    stats["seconds"] = round(time.time() - start, 3)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
