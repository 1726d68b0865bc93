#!/usr/bin/env python3
"""Compare sluice's parse of each corpus message with rsyslog's, field by
field: PRI, host, tag (app name and PID), message and time.

usage: compare.py CORPUS RSYSLOG_JSONL SLUICE_JSONL

rsyslog conventions mapped to sluice's: a missing host is the sender's IP
(or "-" in RFC 5424) where sluice has no `hostname`; the tag is sluice's
appname plus "[procid]" (and a ':' in RFC 3164); rsyslog keeps the space
that separates a BSD message from its tag, which sluice drops, and escapes
control characters as #ooo; it keeps a
UTF-8 BOM that RFC 5424 says to drop. BSD dates without a year are
compared without the year (rsyslog uses the current year, sluice the
nearest). Lines listed in DEVIATIONS differ on purpose; each says why.
"""
import datetime
import json
import sys

# corpus line -> why sluice differs from rsyslog there
DEVIATIONS = {
    18: "'eventSource= \"...\"' (a space after '=') is not RFC 5424 structured data: rsyslog passes it on, sluice flags parse_error and keeps the text whole",
    19: "the same structured data as line 18",
    58: "no timestamp and no 'tag:': rsyslog takes the first two words as host and tag; sluice keeps the text whole and flags parse_error",
    59: "RFC 5424 without a STRUCTURED-DATA field: rsyslog copies the MSGID into it (a bug); sluice flags parse_error",
    66: "nine fraction digits: rsyslog prints a broken timestamp ('.u30Z'); sluice reads the nanoseconds",
    69: "structured data '[x MSGNUM]' is not RFC 5424 (a PARAM needs a value): rsyslog passes it on, sluice flags parse_error",
    121: "no PRI: rsyslog assumes <13>; sluice flags parse_error and keeps the text whole",
    122: "no PRI (see 121), and no header either",
    123: "no PRI (see 121)",
    130: "'<0>x': rsyslog takes 'x' as the host; sluice keeps the text whole and flags parse_error",
}

def rsyslog_escape(s):
    return "".join(c if ord(c) >= 32 or c in "\n" else "#%03o" % ord(c) for c in s)

def strip1(s):
    return s[1:] if s.startswith(" ") else s

def iso(s):
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits):]
        s = head + "." + (digits + "000000")[:6] + zone
    try:
        return datetime.datetime.fromisoformat(s)
    except ValueError:
        return s  # unreadable: compares unequal

def main(corpus, rs_path, sl_path):
    msgs = open(corpus, "rb").read().split(b"\n")
    if msgs and msgs[-1] == b"":
        msgs.pop()
    rs = [json.loads(l) for l in open(rs_path)]
    sl = [json.loads(l) for l in open(sl_path)]
    assert len(rs) == len(msgs) == len(sl), (len(msgs), len(rs), len(sl))
    bad, deviations = [], 0
    for n, (raw, r, s) in enumerate(zip(msgs, rs, sl), 1):
        raw = raw.decode("utf-8", "replace")
        diffs = []
        def check(what, want, got):
            if want != got:
                diffs.append(f"{what}: rsyslog {want!r}, sluice {got!r}")
        if "_error" in r:
            diffs.append("rsyslog gave no output")
        else:
            pri = r["pri"]
            check("pri", None if pri == "invld" else int(pri), s.get("pri"))
            host = r["hostname"]
            check("hostname", None if host in ("127.0.0.1", "-") else host, s.get("hostname"))
            five = s.get("version") == 1 or raw.split(">", 1)[-1].startswith("1 ")
            tag = s.get("appname", "")
            if s.get("procid"):
                tag += "[" + s["procid"] + "]"
            rtag = r["syslogtag"]
            if five:
                rtag = "" if rtag == "-" else rtag
            else:
                rtag = rtag[:-1] if rtag.endswith(":") else rtag
            check("tag", rtag, rsyslog_escape(tag))
            rmsg = r["msg"]
            if rmsg.startswith("\ufeff") and five:
                rmsg = rmsg[1:]
            if s.get("parse_error") and pri == "invld":
                rmsg = r["rawmsg"]
            if not five and not s.get("parse_error"):
                rmsg = strip1(rmsg)  # the separator sluice drops
            check("message", rmsg, rsyslog_escape(s.get("message", "")))
            no_time = r["timereported"] == r["timegenerated"]
            check("has a timestamp", not no_time, "timestamp" in s)
            if not no_time and "timestamp" in s:
                want, got = iso(r["timereported"]), iso(s["time"])
                year_given = any(ch.isdigit() for ch in s["timestamp"].split(":")[0][6:]) or "T" in s["timestamp"]
                if not year_given:
                    want = want.replace(year=2000)
                    got = got.replace(year=2000)
                check("time", want, got)
        if diffs and n in DEVIATIONS:
            deviations += 1
            continue
        if diffs:
            bad.append(f"line {n}: {raw[:90]!r}\n    " + "\n    ".join(diffs))
        elif n in DEVIATIONS:
            bad.append(f"line {n} is listed as a deviation but agrees: {DEVIATIONS[n]}")
    for b in bad:
        print(b)
    print(f"{len(msgs)} messages: {len(msgs) - deviations - len(bad)} agree with rsyslog field by "
          f"field, {deviations} differ on purpose (listed), {len(bad)} differ unexpectedly")
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
