#!/usr/bin/env bash
# docker/compose.yaml as podman-compose reads it, and the files around it:
# podman-compose's `config` (or, in Debian 12's 1.0.3, which has none, its
# parser, `pull` and `build` with --dry-run, which only print) names every
# service, the images and the sluice build; every file the stack mounts
# exists; the addresses agree between compose.yaml, docker/stack/sluice.yaml
# (the defaults of its ${VAR:-...}), prometheus.yml, alertmanager.yml and
# the demo's environment; and sluice validate, promtool and amtool accept
# their files. Nothing is started (Elasticsearch and Grafana, among others,
# cannot run here: test_compose_stack.sh runs what can).
source "$(dirname "$0")/lib.sh"
D=$SLUICE_SOURCE_DIR/docker
PY=/usr/bin/python3 # Debian's python3-yaml; podman-compose is a module of it
SERVICES="alertmanager demo elasticsearch grafana graphite influxdb prometheus sluice"
command -v podman-compose >/dev/null ||
    fail "podman-compose is not installed (.ci/run installs it: apt-get install podman-compose)"
$PY -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed"

# --dry-run: podman itself is not needed. Run from $T: podman-compose
# changes to the compose file's directory, and this keeps whatever it might
# leave behind out of the tree.
pc() { (cd "$T" && podman-compose --dry-run -f "$D/compose.yaml" "$@"); }

if podman-compose -h 2>&1 | grep -qw config; then
    pc config >"$T/config.yaml" 2>"$T/config.err" || fail "podman-compose config: $(cat "$T/config.err")"
    got=$($PY -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["services"])))' \
        "$T/config.yaml") || fail "podman-compose config printed no YAML: $(head "$T/config.yaml")"
    [ "$got" = "$SERVICES" ] || fail "podman-compose config names $got, not $SERVICES"
    pass "podman-compose config accepts docker/compose.yaml and names $SERVICES"
else
    # podman-compose 1.0.3: its own parser, as every command runs it.
    env -u STACK_BIND $PY - "$D/compose.yaml" >"$T/parsed.json" 2>"$T/parse.err" <<'PY' || fail "podman-compose cannot parse docker/compose.yaml: $(cat "$T/parse.err")"
import json, sys
path = sys.argv[1]
sys.argv = ["podman-compose", "--dry-run", "-f", path, "ps"]
import podman_compose
c = podman_compose.podman_compose  # the instance its commands are registered on
c._parse_args()
c._parse_compose_file()
print(json.dumps({s: {"image": c.container_by_name[names[0]]["image"],
                      "ports": c.container_by_name[names[0]]["ports"]}
                  for s, names in c.container_names_by_service.items()}))
PY
    $PY - "$T/parsed.json" "$SERVICES" <<'PY' || fail "podman-compose's reading of docker/compose.yaml: $(cat "$T/parsed.json")"
import json, sys
p = json.load(open(sys.argv[1]))
assert sorted(p) == sys.argv[2].split(), sorted(p)
assert p["sluice"]["image"] == "localhost/sluice:latest", p["sluice"]
# ${STACK_BIND:-127.0.0.1} resolved: every host port on loopback.
ports = [x for s in p.values() for x in s["ports"]]
assert ports and all(x.startswith("127.0.0.1:") for x in ports), ports
assert sorted(p["sluice"]["ports"]) == ["127.0.0.1:2020:2020", "127.0.0.1:2021:2021", "127.0.0.1:4318:4318",
                                        "127.0.0.1:5514:5514/tcp", "127.0.0.1:5514:5514/udp"], p["sluice"]
PY
    pc pull >"$T/pull.out" 2>&1 || fail "podman-compose pull: $(cat "$T/pull.out")"
    $PY - "$D/compose.yaml" "$T/pull.out" <<'PY' || fail "podman-compose would not pull the images: $(cat "$T/pull.out")"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
want = sorted({s["image"] for s in c["services"].values() if "build" not in s})
# 1.0.3 also lists the image it builds (pulling it fails until it is built).
got = sorted({l.split()[2] for l in open(sys.argv[2]) if l.startswith("podman pull ")} - {"localhost/sluice:latest"})
assert got == want and len(got) == 7, (got, want)
PY
    pc build >"$T/build.out" 2>&1 || fail "podman-compose build: $(cat "$T/build.out")"
    grep -qx 'podman build -t localhost/sluice:latest -f ../docker/Dockerfile ..' "$T/build.out" ||
        fail "podman-compose would not build sluice from docker/Dockerfile: $(cat "$T/build.out")"
    pass "podman-compose $(cd "$T" && podman-compose --dry-run version 2>/dev/null | sed -n 's/^podman-compose.* version *//p') reads docker/compose.yaml: $SERVICES; pulls 7 images, builds localhost/sluice:latest from docker/Dockerfile"
fi

$PY - "$D" <<'PY' || fail "docker/compose.yaml and the files it uses do not agree"
import os, re, sys, yaml
from urllib.parse import urlsplit
d = sys.argv[1]
c = yaml.safe_load(open(os.path.join(d, "compose.yaml")))
services = c["services"]
declared = set(c.get("volumes") or {})

# Every file and directory mounted or built from exists; every named volume
# is declared and every declared one used.
b = services["sluice"]["build"]
assert os.path.isfile(os.path.join(d, b["context"], b["dockerfile"])), b
mounts, used = {}, set()
for name, s in services.items():
    mounts[name] = {}
    for v in s.get("volumes", []):
        src, dst = v.split(":")[:2]
        mounts[name][dst] = src
        if src.startswith((".", "/")):
            assert os.path.exists(os.path.join(d, src)), f"{name}: {src} does not exist"
        else:
            assert src in declared, f"{name}: volume {src} is not declared"
            used.add(src)
assert used == declared, declared - used

def mount(service, target, kind):
    src = mounts[service].get(target)
    assert src, f"{service} mounts nothing at {target}"
    if kind == "volume":
        assert src in declared, (service, target, src)
    else:
        assert (os.path.isdir if kind == "dir" else os.path.isfile)(os.path.join(d, src)), (service, src)
    return src

assert mount("sluice", "/etc/sluice/sluice.yaml", "file") == "./stack/sluice.yaml"
mount("sluice", "/var/lib/sluice", "volume")
assert mount("grafana", "/etc/grafana/provisioning", "dir") == "./grafana/provisioning"
assert mount("grafana", "/var/lib/grafana/dashboards", "dir") == "./grafana/dashboards"
env = {s: {k: str(v) for k, v in (services[s].get("environment") or {}).items()} for s in services}
assert env["grafana"]["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
assert env["grafana"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
assert any(p.endswith(":3000:3000") for p in services["grafana"]["ports"])
# Programs read their files where they are mounted.
for name, s in services.items():
    for arg in s.get("command") or []:
        if arg.startswith("--config.file="):
            mount(name, arg.split("=", 1)[1], "file")
        if arg.endswith(".py"):
            assert mount(name, arg, "file") == "./stack/demo.py"
prom_dir = os.path.dirname([a for a in services["prometheus"]["command"] if a.startswith("--config.file=")][0][14:])
prom = yaml.safe_load(open(os.path.join(d, "prometheus/prometheus.yml")))
for f in prom["rule_files"]:
    mount("prometheus", os.path.join(prom_dir, f), "file")
assert "--web.enable-remote-write-receiver" in services["prometheus"]["command"]

# sluice.yaml's defaults are the compose addresses.
text = open(os.path.join(d, "stack/sluice.yaml")).read()
defaults = dict(re.findall(r"\$\{(\w+):-([^}]*)\}", text))
def hostport(v):
    u = urlsplit(v if "//" in v else "//" + v)
    return u.hostname, u.port
listen = {k: hostport(v)[1] for k, v in defaults.items() if v.startswith("0.0.0.0:")}
for k, v in defaults.items():
    if k in listen or not re.search(r"\w:\d+", v):
        continue
    host, port = hostport(v)
    assert host in services and host != "sluice", f"{k}: {v} is not a service of the stack"
published = {int(p.split(":")[-1].split("/")[0]) for p in services["sluice"]["ports"]}
assert published == {listen["SLUICE_HTTP_LISTEN"], listen["EXPORTER_LISTEN"], listen["OTLP_LISTEN"],
                     listen["SYSLOG_LISTEN"]}, (published, listen)
assert defaults["APACHE_LOGS"] in mounts["sluice"]
logs = mounts["sluice"][defaults["APACHE_LOGS"]]
assert mounts["demo"][env["demo"]["DEMO_LOG_DIR"]] == logs, "the demo does not write where sluice tails"
assert env["demo"]["DEMO_SYSLOG"] == "sluice:%d" % listen["SYSLOG_LISTEN"], env["demo"]
assert hostport(env["demo"]["DEMO_OTLP_URL"]) == ("sluice", listen["OTLP_LISTEN"]), env["demo"]
targets = {t for j in prom["scrape_configs"] for sc in j["static_configs"] for t in sc["targets"]}
assert targets == {"sluice:%d" % listen["SLUICE_HTTP_LISTEN"], "sluice:%d" % listen["EXPORTER_LISTEN"],
                   "localhost:9090"}, targets
(am,) = [t for a in prom["alerting"]["alertmanagers"] for sc in a["static_configs"] for t in sc["targets"]]
assert am.split(":")[0] in services, am
am = yaml.safe_load(open(os.path.join(d, "alertmanager/alertmanager.yml")))
hooks = [hostport(w["url"]) for r in am["receivers"] for w in r.get("webhook_configs", [])]
assert hooks == [("sluice", listen["ALERT_WEBHOOK_LISTEN"])], hooks
# Grafana's provisioning points at services of the stack and at the
# dashboards' mount.
import glob
prov = os.path.join(d, mounts["grafana"]["/etc/grafana/provisioning"])
sources = [s for f in glob.glob(os.path.join(prov, "datasources", "*.y*ml"))
           for s in yaml.safe_load(open(f)).get("datasources", [])]
assert {s["uid"] for s in sources} >= {"prometheus", "influxdb", "elasticsearch"}, sources
for s in sources:
    assert hostport(s["url"])[0] in services, s["url"]
paths = [p["options"]["path"] for f in glob.glob(os.path.join(prov, "dashboards", "*.y*ml"))
         for p in yaml.safe_load(open(f)).get("providers", [])]
assert paths and all(p in mounts["grafana"] for p in paths), paths
print(f"{sum(len(m) for m in mounts.values())} mounts, {len(declared)} volumes, {len(defaults)} addresses of sluice.yaml agree")
PY
pass "every mounted file exists, and the addresses agree between compose.yaml, sluice.yaml, prometheus.yml, alertmanager.yml, Grafana's data sources and the demo"

env -i PATH="$PATH" "$SLUICE_BIN" validate -c "$D/stack/sluice.yaml" >"$T/validate.out" 2>&1 ||
    fail "sluice validate: $(cat "$T/validate.out")"
grep -q 'configuration is valid (5 pipelines)' "$T/validate.out" || fail "sluice validate: $(cat "$T/validate.out")"
if command -v promtool >/dev/null; then
    promtool check config "$D/prometheus/prometheus.yml" >"$T/promtool.out" 2>&1 ||
        fail "promtool: $(cat "$T/promtool.out")"
    grep -q 'SUCCESS: 2 rules found' "$T/promtool.out" || fail "promtool: $(cat "$T/promtool.out")"
else
    fail "promtool is not installed (.ci/run installs prometheus)"
fi
amtool check-config "$D/alertmanager/alertmanager.yml" >"$T/amtool.out" 2>&1 || fail "amtool: $(cat "$T/amtool.out")"
pass "sluice validate (compose defaults), promtool check config (with rules.yml) and amtool check-config accept the stack's files"
