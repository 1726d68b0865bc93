# InfluxDB 1.x on loopback for tests and benchmarks (source me).
# influxd_config DIR HTTP_PORT META_PORT: a config with every file under DIR
# and nothing on a default port.
influxd_config() {
    cat <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:$3"
[meta]
  dir = "$1/meta"
[data]
  dir = "$1/data"
  wal-dir = "$1/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$2"
  log-enabled = false
[logging]
  level = "warn"
CONF
}
