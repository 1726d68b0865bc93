#!/usr/bin/env python3
"""A faithful test double of the Elasticsearch Bulk API, on loopback, for
sluice's elasticsearch output tests: Elasticsearch itself cannot run on the
test machines (no Debian package; its launchers download the server at run
time). Standard library only.

What it implements, as the Elasticsearch 8 reference documents it:
  POST /_bulk, POST /<index>/_bulk    NDJSON action/document pairs; the body
      must end with a newline (else 400 illegal_argument_exception);
      Content-Type must be application/x-ndjson or application/json (else
      406); Content-Encoding: gzip is accepted; `pipeline` and `routing`
      are accepted. Actions index (201 created / 200 updated), create (409
      version_conflict_engine_exception when the _id exists) and delete. An
      action without _id gets a generated one.
      The answer is {"took", "errors", "items": [{action: {_index, _id,
      status, result | error: {type, reason, caused_by}}}]}, one item per
      action, in order.
  Dynamic mapping: a field's type is set by the first document that has it
      (long, double, boolean, keyword/text, object). A later value that
      cannot be that type fails the item with 400 mapper_parsing_exception
      ("failed to parse field [f] of type [long] ..."), as Elasticsearch
      does, and the document is not stored.
  GET /<index>/_count, /_count ({"count": n}); GET /<index>/_search?size=n
      ({"hits": {"total": {"value": n}, "hits": [{_index, _id, _source}]}}).
  http.max_content_length: a larger request body is refused whole with 413.
  Basic auth or ApiKey when --user/--api-key is given (else 401).

Fault injection (POST /_test/faults with a JSON object):
  item_429_every N, item_429_count K   the next K items whose position in
      the server's count of items is a multiple of N fail with 429
      es_rejected_execution_exception
  request_statuses [503, 429, ...]     the next requests are answered with
      these statuses whole, nothing stored
  max_content_length BYTES
  down true                            close connections without answering
  answer_delay SECONDS                 store a bulk's documents, then wait
      this long before answering (a crash in between means a resend)

GET /_test/stats: requests, items, statuses, bodies' newline and content
types seen, gzip requests; GET /_test/docs: every stored document.
"""
import argparse
import base64
import gzip
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

lock = threading.Lock()
docs = {}      # index -> {id: source}
mappings = {}  # index -> {field path: type}
faults = {"item_429_every": 0, "item_429_count": 0, "request_statuses": [],
          "max_content_length": 100 * 1024 * 1024, "down": False, "answer_delay": 0}
stats = {"requests": 0, "items": 0, "statuses": {}, "gzip_requests": 0,
         "content_types": {}, "bulk_sizes": [], "auth": None, "pipelines": {}, "routings": {}}
auth = {"user": None, "password": None, "api_key": None}


def type_of(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "long"
    if isinstance(v, float):
        return "double"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return None  # arrays take their elements' type; kept simple: not mapped
    if v is None:
        return None
    return "text"


def fits(t, v):
    """Whether value v can be indexed into a field of type t (ES coerces
    numeric strings into numbers, numbers into text)."""
    if v is None or isinstance(v, list):
        return True
    if t == "object":
        return isinstance(v, dict)
    if isinstance(v, dict):
        return False
    if t == "long":
        if isinstance(v, bool):
            return False
        if isinstance(v, (int, float)):
            return float(v).is_integer()
        return bool(re.fullmatch(r"-?\d+", str(v)))
    if t == "double":
        if isinstance(v, bool):
            return False
        try:
            float(v)
            return True
        except ValueError:
            return False
    if t == "boolean":
        return isinstance(v, bool) or v in ("true", "false")
    return True  # text takes any scalar


def check_mapping(index, doc_id, source, prefix=""):
    """None if the document fits the index's mapping (extending it), else
    the error object Elasticsearch answers with."""
    m = mappings.setdefault(index, {})
    new = {}
    for k, v in source.items():
        path = prefix + k
        t = m.get(path)
        if t is None:
            t = type_of(v)
            if t:
                new[path] = t
        elif not fits(t, v):
            preview = json.dumps(v) if not isinstance(v, str) else v
            return {"type": "mapper_parsing_exception",
                    "reason": f"failed to parse field [{path}] of type [{t}] in document with "
                              f"id '{doc_id}'. Preview of field's value: '{preview}'",
                    "caused_by": {"type": "illegal_argument_exception",
                                  "reason": f"For input string: \"{preview}\""}}
        if isinstance(v, dict):
            err = check_mapping(index, doc_id, v, path + ".")
            if err:
                return err
    m.update(new)
    return None


def bulk(default_index, body, query):
    lines = body.split(b"\n")
    items, errors = [], False
    i = 0
    # The body ends with "\n": the last split element is empty.
    while i < len(lines) - 1:
        if not lines[i].strip():
            i += 1
            continue
        action_obj = json.loads(lines[i])
        (action, meta), = action_obj.items()
        index = meta.get("_index", default_index)
        doc_id = meta.get("_id")
        routing = meta.get("routing")
        pipeline = query.get("pipeline", [None])[0]
        source = None
        if action in ("index", "create", "update"):
            source = json.loads(lines[i + 1])
            i += 2
        else:
            i += 1
        with lock:
            stats["items"] += 1
            n = stats["items"]
            for key, v in (("routings", routing), ("pipelines", pipeline)):
                if v is not None:
                    stats[key][v] = stats[key].get(v, 0) + 1
            item = {"_index": index}
            if faults["item_429_count"] > 0 and faults["item_429_every"] and \
                    n % faults["item_429_every"] == 0:
                faults["item_429_count"] -= 1
                item.update(status=429, error={
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of coordinating operation"})
            elif index is None:
                item.update(status=400, error={"type": "action_request_validation_exception",
                                               "reason": "Validation Failed: 1: index is missing;"})
            elif action == "delete":
                existed = docs.get(index, {}).pop(doc_id, None) is not None
                item.update(_id=doc_id, status=200 if existed else 404,
                            result="deleted" if existed else "not_found")
            else:
                if doc_id is None:
                    doc_id = uuid.uuid4().hex[:20]
                item["_id"] = doc_id
                store = docs.setdefault(index, {})
                if action == "create" and doc_id in store:
                    item.update(status=409, error={
                        "type": "version_conflict_engine_exception",
                        "reason": f"[{doc_id}]: version conflict, document already exists "
                                  "(current version [1])"})
                else:
                    err = check_mapping(index, doc_id, source)
                    if err:
                        item.update(status=400, error=err)
                    else:
                        item.update(status=200 if doc_id in store else 201,
                                    result="updated" if doc_id in store else "created")
                        store[doc_id] = source
            st = item["status"]
            stats["statuses"][str(st)] = stats["statuses"].get(str(st), 0) + 1
        errors |= "error" in item
        items.append({action: item})
    return {"took": 1, "errors": errors, "items": items}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        if not auth["user"] and not auth["api_key"]:
            return True
        h = self.headers.get("Authorization", "")
        with lock:
            stats["auth"] = h
        if auth["api_key"] and h == "ApiKey " + auth["api_key"]:
            return True
        if auth["user"]:
            want = base64.b64encode(f"{auth['user']}:{auth['password']}".encode()).decode()
            return h == "Basic " + want
        return False

    def do_GET(self):
        u = urlparse(self.path)
        parts = [p for p in u.path.split("/") if p]
        q = parse_qs(u.query)
        with lock:
            if u.path == "/_test/stats":
                return self.reply(200, stats)
            if u.path == "/_test/docs":
                return self.reply(200, docs)
            if parts and parts[-1] == "_count":
                idx = parts[0] if len(parts) == 2 else None
                n = sum(len(d) for k, d in docs.items() if idx in (None, k))
                return self.reply(200, {"count": n})
            if parts and parts[-1] == "_search":
                idx = parts[0] if len(parts) == 2 else None
                size = int(q.get("size", ["10"])[0])
                hits = [{"_index": k, "_id": i, "_source": s}
                        for k, d in docs.items() if idx in (None, k) for i, s in d.items()]
                return self.reply(200, {"hits": {"total": {"value": len(hits)},
                                                 "hits": hits[:size]}})
        self.reply(200, {"tagline": "You Know, for Search"})

    def do_POST(self):
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if u.path == "/_test/faults":
            with lock:
                faults.update(json.loads(body))
            return self.reply(200, faults)
        with lock:
            stats["requests"] += 1
            if faults["down"]:
                self.close_connection = True
                self.connection.close()
                return
            queued = faults["request_statuses"].pop(0) if faults["request_statuses"] else None
        if not self.authorized():
            return self.reply(401, {"error": {"type": "security_exception",
                                              "reason": "missing authentication credentials"},
                                    "status": 401})
        if queued:
            return self.reply(queued, {"error": {"type": "injected", "reason": f"HTTP {queued}"},
                                       "status": queued})
        if len(body) > faults["max_content_length"]:
            return self.reply(413, {"error": "Request Entity Too Large", "status": 413})
        ct = self.headers.get("Content-Type", "").split(";")[0].strip()
        with lock:
            stats["content_types"][ct] = stats["content_types"].get(ct, 0) + 1
        if ct not in ("application/x-ndjson", "application/json"):
            return self.reply(406, {"error": f"Content-Type header [{ct}] is not supported",
                                    "status": 406})
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
            with lock:
                stats["gzip_requests"] += 1
        if not body.endswith(b"\n"):
            return self.reply(400, {"error": {"type": "illegal_argument_exception",
                                              "reason": "The bulk request must be terminated by "
                                                        "a newline [\\n]"}, "status": 400})
        parts = [p for p in u.path.split("/") if p]
        if not parts or parts[-1] != "_bulk":
            return self.reply(404, {"error": "no handler", "status": 404})
        default_index = parts[0] if len(parts) == 2 else None
        with lock:
            stats["bulk_sizes"].append(len(body))
            delay = faults["answer_delay"]
        answer = bulk(default_index, body, parse_qs(u.query))
        if delay:
            time.sleep(delay)
        self.reply(200, answer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--api-key")
    a = ap.parse_args()
    auth.update(user=a.user, password=a.password, api_key=a.api_key)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
