"""The syslog output's tests: events to send, and a field-by-field check of
what rsyslog parsed out of sluice's messages.

  gen N EVENTS.ndjson
      N events with every syslog field: severities and facilities as names,
      aliases and numbers, structured data with the characters RFC 5424
      escapes, non-ASCII and control characters in messages. Field "n" is
      the event's number, also at the start of its message.
  check rfc5424|rfc3164 EVENTS.ndjson SLUICE.jsonl RSYSLOG.jsonl
      Every event arrived once with every field exact. SLUICE.jsonl is a
      file output of the same pipeline: the event times (time key "time").
"""
import json
import sys

SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
ALIASES = {"error": 3, "warn": 4, "critical": 2, "fatal": 2, "panic": 0, "trace": 7}
FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
              "authpriv", "ftp", "ntp", "security", "console", "solaris-cron"] + [
                  "local%d" % i for i in range(8)]
TEXTS = ["plain ascii", "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e", "\u65e5\u672c\u8a9e\u306e\u30ed\u30b0",
         "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", "emoji \U0001f680\U0001f525",
         "tab\there", "quotes \" and \\ and ] and [brackets]", "\u0645\u0631\u062d\u0628\u0627"]


def gen(n, path):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            ev = {"n": i, "message": "%d %s" % (i, TEXTS[i % len(TEXTS)])}
            k = i % 4
            ev["severity"] = (SEVERITIES[i % 8] if k == 0 else i % 8 if k == 1 else
                              str(i % 8) if k == 2 else list(ALIASES)[i % len(ALIASES)])
            ev["facility"] = FACILITIES[i % 24] if i % 2 else i % 24
            ev["hostname"] = "host-%d.example.com" % (i % 7)
            ev["appname"] = "app_%d" % (i % 5)
            if i % 3:
                ev["procid"] = str(1000 + i)
            if i % 5:
                ev["msgid"] = "ID%d" % (i % 11)
            if i % 4 != 3:
                ev["structured_data"] = {
                    "meta@32473": {"seq": str(i), "v": "a\"b\\c]d \u00e9" if i % 2 else "x"},
                    "origin": {"ip": "10.0.%d.%d" % (i // 256 % 256, i % 256)},
                }
            f.write(json.dumps(ev, ensure_ascii=False) + "\n")


def code(v, names, aliases):
    if isinstance(v, int):
        return v
    if v.isdigit():
        return int(v)
    return names.index(v) if v in names else aliases[v]


def parse_sd(s):
    """rsyslog's structured-data property back to {SD-ID: {name: value}}."""
    if s == "-":
        return None
    out, i = {}, 0
    while i < len(s):
        assert s[i] == "[", s
        j = i + 1
        while s[j] not in " ]":
            j += 1
        params = out.setdefault(s[i + 1:j], {})
        i = j
        while s[i] == " ":
            eq = s.index("=", i)
            name, i, val = s[i + 1:eq], eq + 2, []
            while s[i] != '"':
                if s[i] == "\\" and s[i + 1] in '"\\]':
                    i += 1
                val.append(s[i])
                i += 1
            params[name] = "".join(val)
            i += 1
        assert s[i] == "]", s
        i += 1
    return out


def expected_msg(m):
    return m.replace("\t", "#011")


def check(fmt, events_path, sluice_path, rsyslog_path):
    events = [json.loads(l) for l in open(events_path, encoding="utf-8")]
    times = {}
    for l in open(sluice_path, encoding="utf-8"):
        r = json.loads(l)
        times[r["n"]] = r["time"]
    got = {}
    dups = 0
    for l in open(rsyslog_path, encoding="utf-8"):
        r = json.loads(l)
        n = int(r["msg"].split(" ", 2)[0 if fmt == "rfc5424" else 1])
        dups += n in got
        got[n] = r
    bad = []
    for ev in events:
        n = ev["n"]
        r = got.get(n)
        if r is None:
            bad.append("event %d missing" % n)
            continue
        t = times[n]  # 2026-12-02T05:38:47.601643123Z
        want = {
            "hostname": ev["hostname"],
            "app_name": ev["appname"],
            "procid": ev.get("procid", "-"),
            "severity": str(code(ev["severity"], SEVERITIES, ALIASES)),
            "facility": str(code(ev["facility"], FACILITIES, {})),
        }
        if fmt == "rfc5424":
            want.update(time=t[:26] + "Z", msgid=ev.get("msgid", "-"),
                        msg=expected_msg(ev["message"]))
            sd = parse_sd(r["sd"])
            if sd != ev.get("structured_data"):
                bad.append("event %d: structured data %r, sent %r" % (n, r["sd"], ev.get("structured_data")))
        else:
            want.update(time=t[:19] + "+00:00", msgid="-", msg=" " + expected_msg(ev["message"]))
            if r["sd"] != "-":
                bad.append("event %d: structured data %r in RFC 3164" % (n, r["sd"]))
        for k, v in want.items():
            if r[k] != v:
                bad.append("event %d: %s is %r, want %r" % (n, k, r[k], v))
    extra = set(got) - {ev["n"] for ev in events}
    if extra or dups:
        bad.append("%d unknown events, %d duplicates" % (len(extra), dups))
    for b in bad[:20]:
        print(b)
    if bad:
        print("%d problems" % len(bad))
        return 1
    print("%s: %d events, every field exact" % (fmt, len(events)))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(check(*sys.argv[2:6]))
