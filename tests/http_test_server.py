#!/usr/bin/env python3
"""A loopback HTTP server that receives events the way a log backend does and
fails on demand, for sluice's delivery tests (standard library only).

POST any path: the body is NDJSON or a JSON array (Content-Type), optionally
gzipped (Content-Encoding). Each event's "seq" (and "run", if present) is
recorded. What the server answers depends on its mode:

  ok            200 and record the events
  status:N      answer N (e.g. 500) without recording; with retry_after, a
                Retry-After header
  hang          read the request, then sleep `hang_seconds` before answering
  close         read the request, send half a status line and close
  refuse_seq    400 with a JSON reason when any event has seq % mod == rem,
                otherwise 200 (record the events)

`fail_requests` (with a status/hang/close mode) limits the failures to the
next N requests, after which the server answers ok.

With --tls-cert/--tls-key it serves HTTPS. The last request's
Authorization header and X-* headers are kept in the stats.

Control: POST /_control with a JSON object of settings; GET /_stats returns
{"requests": n, "events": n, "by_run": {run: [seq, ...]}, "answers": {...}}.
"""
import argparse
import gzip
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
settings = {"mode": "ok", "retry_after": None, "hang_seconds": 5, "fail_requests": None,
            "mod": 100, "rem": 7}
stats = {"requests": 0, "events": 0, "by_run": {}, "answers": {}, "content_types": {},
         "authorization": None, "headers": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with lock:
            stats["answers"][str(status)] = stats["answers"].get(str(status), 0) + 1

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                body = json.dumps(stats).encode()
            self.reply(200, body, {"Content-Type": "application/json"})
        else:
            self.reply(404)

    def read_events(self):
        n = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(n)
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        ctype = self.headers.get("Content-Type", "")
        with lock:
            stats["content_types"][ctype] = stats["content_types"].get(ctype, 0) + 1
        if ctype.startswith("application/json"):
            return json.loads(raw)
        return [json.loads(line) for line in raw.split(b"\n") if line]

    def record(self, events):
        with lock:
            stats["events"] += len(events)
            for ev in events:
                stats["by_run"].setdefault(str(ev.get("run", 0)), []).append(ev.get("seq"))

    def do_POST(self):
        if self.path == "/_control":
            n = int(self.headers.get("Content-Length", 0))
            with lock:
                settings.update(json.loads(self.rfile.read(n)))
            self.reply(204)
            return
        events = self.read_events()
        with lock:
            stats["requests"] += 1
            stats["authorization"] = self.headers.get("Authorization")
            stats["headers"] = {k: v for k, v in self.headers.items() if k.startswith("X-")}
            mode = settings["mode"]
            if settings["fail_requests"] is not None and mode not in ("ok", "refuse_seq"):
                if settings["fail_requests"] <= 0:
                    mode = "ok"
                else:
                    settings["fail_requests"] -= 1
            retry_after = settings["retry_after"]
        if mode == "ok":
            self.record(events)
            self.reply(200, b'{"ok":true}')
        elif mode.startswith("status:"):
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            self.reply(int(mode.split(":")[1]), b'{"error":"injected failure"}', headers)
        elif mode == "hang":
            time.sleep(settings["hang_seconds"])
            self.reply(503)
        elif mode == "close":
            self.wfile.write(b"HTTP/1.1 2")
            self.wfile.flush()
            self.close_connection = True
        elif mode == "refuse_seq":
            bad = [ev for ev in events if ev.get("seq", -1) % settings["mod"] == settings["rem"]]
            if bad:
                reason = {"error": {"type": "mapper_parsing_exception",
                                    "reason": f"event seq={bad[0]['seq']} is refused"}}
                self.reply(400, json.dumps(reason).encode(), {"Content-Type": "application/json"})
            else:
                self.record(events)
                self.reply(200, b'{"ok":true}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    settings["mode"] = args.mode
    socketserver.TCPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
