#!/usr/bin/env python3
"""A loopback Slack for sluice's slack output tests (standard library only).

This is a test double: there is no Slack to run on a machine without the
internet. It follows what Slack documents for the two ways in:

  POST /api/chat.postMessage, /api/chat.update   the Web API: a Bearer token
      (--token), a JSON body; always HTTP 200 with {"ok": true, "channel",
      "ts"} or {"ok": false, "error": "..."} (invalid_auth, channel_not_found,
      msg_too_long, invalid_blocks, message_not_found)
  POST /services/...                             an incoming webhook: "ok",
      or a status with the error as a plain body (400 invalid_payload, 403
      action_prohibited, 404 no_service, 410 channel_is_archived)

It enforces Slack's limits and records what it accepts:
  - one message a second per channel (a webhook is its own channel): a
    message sooner than 1 s (less 50 ms for scheduling) after the last
    accepted one gets 429 with Retry-After: 1 and is not recorded
    (chat.update has a separate limit in Slack and is not counted);
  - at most 50 blocks, 3000 characters in a section's text, 40000 in the
    text: a message over them is refused (invalid_blocks, msg_too_long)
    and counted in over_limits.

Faults on demand: POST /_control {"fail_next": [ANSWER, ...]} makes the
next messages get these answers, one each, where ANSWER is
{"status": 429, "retry_after": 2}, {"status": 500} or {"error": "name"}
(an ok:false, or a webhook status with that body); {"missing_channels":
["#gone"]} answers channel_not_found for those.

GET /_messages: the accepted messages in order; GET /_stats: counts.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBHOOK_STATUS = {"invalid_payload": 400, "action_prohibited": 403, "no_service": 404,
                  "channel_not_found": 404, "channel_is_archived": 410, "invalid_token": 403}
MIN_GAP = 0.95

state = {"messages": [], "requests": 0, "rate_limited": 0, "over_limits": 0, "refused": 0,
         "fail_next": [], "missing_channels": [], "last": {}, "ts": 0}
lock = threading.Lock()


def limits_error(msg):
    """Slack's error for a message over its limits, or None."""
    if len(msg.get("text", "")) > 40000:
        return "msg_too_long"
    blocks = list(msg.get("blocks", []))
    for a in msg.get("attachments", []):
        blocks += a.get("blocks", [])
    if len(blocks) > 50:
        return "invalid_blocks"
    for b in blocks:
        if b.get("type") == "section" and len(b.get("text", {}).get("text", "")) > 3000:
            return "invalid_blocks"
    if not msg.get("text") and not blocks:
        return "no_text"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            if self.path == "/_messages":
                return self.answer(200, json.dumps(state["messages"]))
            if self.path == "/_stats":
                keys = ("requests", "rate_limited", "over_limits", "refused")
                return self.answer(200, json.dumps({k: state[k] for k in keys} |
                                                   {"messages": len(state["messages"])}))
        self.answer(404, "not found", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/_control":
            with lock:
                state.update(json.loads(body))
            return self.answer(200, "{}")
        api = self.path.startswith("/api/")
        webhook = self.path.startswith("/services/")
        if not api and not webhook:
            return self.answer(404, "not found", "text/plain")
        with lock:
            state["requests"] += 1
            return self.handle_message(body, api)

    def fail(self, api, error, status=None):
        state["refused"] += 1
        if api:
            return self.answer(200, json.dumps({"ok": False, "error": error}))
        return self.answer(status or WEBHOOK_STATUS.get(error, 400), error, "text/plain")

    def handle_message(self, body, api):
        update = self.path == "/api/chat.update"
        if api and self.headers.get("Authorization") != "Bearer " + args.token:
            return self.fail(api, "invalid_auth")
        try:
            msg = json.loads(body)
        except ValueError:
            return self.fail(api, "invalid_json" if api else "invalid_payload")
        channel = msg.get("channel") if api else self.path
        if api and channel is None:
            return self.fail(api, "channel_not_found")
        if state["fail_next"]:
            f = state["fail_next"].pop(0)
            if f.get("status") == 429:
                state["rate_limited"] += 1
                return self.answer(429, "rate limited", "text/plain",
                                   [("Retry-After", str(f.get("retry_after", 1)))])
            if "status" in f:
                return self.answer(f["status"], "server error", "text/plain")
            return self.fail(api, f["error"])
        if channel in state["missing_channels"]:
            return self.fail(api, "channel_not_found")
        now = time.monotonic()
        if not update and now - state["last"].get(channel, -10) < MIN_GAP:
            state["rate_limited"] += 1
            return self.answer(429, "rate limited", "text/plain", [("Retry-After", "1")])
        err = limits_error(msg)
        if err:
            state["over_limits"] += 1
            return self.fail(api, err)
        if update:
            if not any(m["ts"] == msg.get("ts") for m in state["messages"]):
                return self.fail(api, "message_not_found")
            ts = msg["ts"]
        else:
            state["last"][channel] = now
            state["ts"] += 1
            ts = "%d.%06d" % (int(time.time()), state["ts"])
        cid = "C" + str(abs(hash(channel)) % 10**8) if api else None
        state["messages"].append({"path": self.path, "channel": channel, "ts": ts,
                                  "thread_ts": msg.get("thread_ts"), "update": update,
                                  "time": time.time(), "message": msg})
        if api:
            return self.answer(200, json.dumps({"ok": True, "channel": cid, "ts": ts}))
        return self.answer(200, "ok", "text/plain")


parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--token", default="xoxb-test-token")
args = parser.parse_args()
ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
