# Helpers shared by the benchmark scripts (source me): how our peers were
# measured in ../shared/bench/README.md.

TICK=$(getconf CLK_TCK)

# proc_cpu PID: utime+stime in seconds, all threads.
proc_cpu() {
    awk -v t="$TICK" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"
}

# proc_hwm PID: peak RSS (VmHWM) in KiB.
proc_hwm() {
    awk '/VmHWM/ {print $2}' "/proc/$1/status"
}

# free_port: a TCP port nothing listens on now, on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
