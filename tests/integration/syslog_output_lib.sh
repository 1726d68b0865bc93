# What the syslog output's tests share (source me after lib.sh): a test CA
# and a server certificate for 127.0.0.1/localhost, and a real rsyslogd in
# the foreground (its own config, pid file and work directory under $T)
# writing every message it parses as one JSON line of its properties.
command -v rsyslogd >/dev/null || fail "rsyslogd is not installed (.ci/run installs rsyslog)"
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] || ls /usr/lib/*/rsyslog/lmnsd_ossl.so >/dev/null 2>&1 ||
    fail "rsyslog's OpenSSL driver is not installed (apt-get install rsyslog-openssl)"
export TZ=UTC

# make_certs: $T/ca.crt, $T/srv.crt and $T/srv.key (EC P-256, 2 days).
make_certs() {
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 -subj /CN=sluice-test-ca \
        2>"$T/openssl.log" &&
        openssl req "${ec[@]}" -keyout "$T/srv.key" -out "$T/srv.csr" -subj /CN=localhost 2>>"$T/openssl.log" &&
        openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
            -out "$T/srv.crt" -days 2 \
            -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1') 2>>"$T/openssl.log" ||
        fail "openssl: $(cat "$T/openssl.log")"
}

# rsyslog_config NAME:PROTO:PORT...: $T/rsyslog.conf with one listener per
# argument (PROTO udp, tcp or tls), each writing $T/NAME.jsonl.
rsyslog_config() {
    local spec name proto port
    mkdir -p "$T/rsyslog-work"
    cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T/rsyslog-work" maxMessageSize="64k")
module(load="imtcp" maxSessions="64")
template(name="fields" type="list" option.jsonf="on") {
  property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app_name" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
CONF
    case " $* " in *:udp:*) echo 'module(load="imudp")' >>"$T/rsyslog.conf" ;; esac
    for spec in "$@"; do
        IFS=: read -r name proto port <<<"$spec"
        echo "ruleset(name=\"$name\") { action(type=\"omfile\" file=\"$T/$name.jsonl\" template=\"fields\" asyncWriting=\"off\" flushOnTXEnd=\"on\") }" >>"$T/rsyslog.conf"
        case $proto in
        udp) echo "input(type=\"imudp\" address=\"127.0.0.1\" port=\"$port\" ruleset=\"$name\" rcvbufSize=\"16m\")" ;;
        tcp) echo "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$port\" ruleset=\"$name\")" ;;
        tls) echo "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$port\" ruleset=\"$name\"" \
            "streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\"" \
            "streamDriver.CAFile=\"$T/ca.crt\" streamDriver.CertFile=\"$T/srv.crt\"" \
            "streamDriver.KeyFile=\"$T/srv.key\")" ;;
        esac >>"$T/rsyslog.conf"
    done
    rsyslogd -N1 -f "$T/rsyslog.conf" >"$T/rsyslog-check.log" 2>&1 ||
        fail "rsyslog config: $(cat "$T/rsyslog-check.log")"
}

# start_rsyslog TCP_PORT: run it and wait until TCP_PORT listens; sets
# RSYSLOG_PID.
start_rsyslog() {
    rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >>"$T/rsyslog.log" 2>&1 &
    RSYSLOG_PID=$!
    PIDS+=("$RSYSLOG_PID")
    wait_for 10 python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null ||
        fail "rsyslogd did not listen on $1: $(cat "$T/rsyslog.log")"
}

stop_rsyslog() {
    kill -TERM "$RSYSLOG_PID" 2>/dev/null
    wait "$RSYSLOG_PID" 2>/dev/null
}
