#!/usr/bin/env python3
"""The compose stack's demo app: a pretend web server that writes Apache
access lines (combined format plus %D, the request time in microseconds, as
conf/apache-to-stores.yaml reads them) to $DEMO_LOG_DIR/access.log, reports
each 5xx over syslog, and exports a request counter and a log record over
OTLP/HTTP JSON. Standard library only; configured by the environment:

  DEMO_LOG_DIR       where access.log is written (/logs)
  DEMO_RATE          requests a second; 0: as fast as possible (5)
  DEMO_COUNT         stop after this many requests; 0: never (0)
  DEMO_ERROR_EVERY   every Nth request (the first included) is a 5xx (12)
  DEMO_SYSLOG        host:port to send an RFC 5424 message per 5xx to (UDP)
  DEMO_OTLP_URL      base URL of an OTLP/HTTP receiver, e.g. http://sluice:4318
  DEMO_OTLP_EVERY    export over OTLP every N requests, and at the end (50)
  DEMO_ROTATE_BYTES  rename access.log to access.log.1 past this size (10 MiB)

Statuses and the 5xx are fixed by the request's number, so that a run of
DEMO_COUNT requests is the same every time. At the end it prints what it
did as one JSON line: requests, errors, statuses, syslog_sent, otlp_logs,
otlp_metrics (exports that were answered 2xx) and otlp_failed.
"""
import json
import os
import random
import socket
import sys
import time
import urllib.request

PATHS = ["/", "/api/items", "/api/items/42", "/api/cart", "/login", "/static/app.js"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "Go-http-client/1.1"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def env_int(name, default):
    return int(os.environ.get(name, default))


def clf_time(t):
    g = time.gmtime(t)
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (
        g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)


def status_of(i, error_every, rng):
    if error_every and i % error_every == 0:
        return 500 if (i // error_every) % 2 == 0 else 503
    r = rng.random()
    return 404 if r < 0.05 else 304 if r < 0.15 else 200


def access_line(i, status, now, rng):
    method = "POST" if i % 5 == 4 else "GET"
    size = 0 if status == 304 else rng.randint(200, 20000)
    duration_us = rng.randint(800, 50000) if status < 500 else rng.randint(200000, 3000000)
    return '10.0.%d.%d - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s" %d\n' % (
        i // 250 % 250, i % 250 + 1, clf_time(now), method, rng.choice(PATHS), status, size,
        rng.choice(AGENTS), duration_us)


class Syslog:
    def __init__(self, target):
        host, _, port = target.rpartition(":")
        self.addr = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sent = 0

    def error(self, i, status, now):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%06dZ" % (now % 1 * 1e6)
        msg = "<11>1 %s demo demo-app %d - - request %d answered %d" % (
            stamp, os.getpid(), i, status)
        try:
            self.sock.sendto(msg.encode(), self.addr)
            self.sent += 1
        except OSError as e:
            print("demo: syslog: %s" % e, file=sys.stderr)


class Otlp:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.logs = self.metrics = self.failed = 0
        self.resource = {"attributes": [
            {"key": "service.name", "value": {"stringValue": "demo"}},
            {"key": "service.instance.id", "value": {"stringValue": socket.gethostname()}}]}

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return 200 <= r.status < 300
        except OSError as e:
            print("demo: OTLP %s: %s" % (path, e), file=sys.stderr)
            return False

    def export(self, requests, errors, start_ns):
        now_ns = time.time_ns()
        metric = {"name": "demo_requests_total", "description": "Requests served by the demo app.",
                  "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
                      {"startTimeUnixNano": str(start_ns), "timeUnixNano": str(now_ns),
                       "asInt": str(requests)}]}}
        if self.post("/v1/metrics", {"resourceMetrics": [{"resource": self.resource, "scopeMetrics": [
                {"scope": {"name": "demo"}, "metrics": [metric]}]}]}):
            self.metrics += 1
        else:
            self.failed += 1
        record = {"timeUnixNano": str(now_ns), "severityNumber": 9, "severityText": "INFO",
                  "body": {"stringValue": "served %d requests, %d errors" % (requests, errors)},
                  "attributes": [{"key": "requests", "value": {"intValue": str(requests)}}]}
        if self.post("/v1/logs", {"resourceLogs": [{"resource": self.resource, "scopeLogs": [
                {"scope": {"name": "demo"}, "logRecords": [record]}]}]}):
            self.logs += 1
        else:
            self.failed += 1


def main():
    log_dir = os.environ.get("DEMO_LOG_DIR", "/logs")
    rate = float(os.environ.get("DEMO_RATE", "5"))
    count = env_int("DEMO_COUNT", 0)
    error_every = env_int("DEMO_ERROR_EVERY", 12)
    otlp_every = env_int("DEMO_OTLP_EVERY", 50)
    rotate_bytes = env_int("DEMO_ROTATE_BYTES", 10 << 20)
    syslog = Syslog(os.environ["DEMO_SYSLOG"]) if os.environ.get("DEMO_SYSLOG") else None
    otlp = Otlp(os.environ["DEMO_OTLP_URL"]) if os.environ.get("DEMO_OTLP_URL") else None

    os.makedirs(log_dir, exist_ok=True)
    path = os.path.join(log_dir, "access.log")
    rng = random.Random(16)
    statuses = {}
    errors = 0
    start_ns = time.time_ns()
    start = time.monotonic()
    out = open(path, "a", buffering=1)
    i = 0
    while count == 0 or i < count:
        if rate > 0:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        now = time.time()
        status = status_of(i, error_every, rng)
        out.write(access_line(i, status, now, rng))
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500:
            errors += 1
            if syslog:
                syslog.error(i, status, now)
        i += 1
        if otlp and otlp_every and i % otlp_every == 0:
            otlp.export(i, errors, start_ns)
        if rotate_bytes and out.tell() >= rotate_bytes:
            out.close()
            os.replace(path, path + ".1")
            out = open(path, "a", buffering=1)
    out.close()
    if otlp and (not otlp_every or i % otlp_every):
        otlp.export(i, errors, start_ns)
    print(json.dumps({
        "requests": i, "errors": errors, "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "syslog_sent": syslog.sent if syslog else 0,
        "otlp_logs": otlp.logs if otlp else 0, "otlp_metrics": otlp.metrics if otlp else 0,
        "otlp_failed": otlp.failed if otlp else 0}), flush=True)


if __name__ == "__main__":
    main()
