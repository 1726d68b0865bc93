#!/usr/bin/env python3
"""Hand out a loopback port for a test server, reserved for this test.

A port the kernel picked with bind(port 0) and then released is an
ephemeral port: any outgoing connection may take it as its local port
before the server that was meant to listen on it starts (seen in CI with
three tests running at once). So the port comes from below the ephemeral
range, is free for both TCP and UDP now, and is reserved with a directory
under RESERVED_DIR that concurrent tests cannot take too.

  free_port.py                 print a port (not reserved: benchmarks)
  free_port.py --record FILE   print a reserved port; append it to FILE
  free_port.py --release FILE  drop the reservations listed in FILE
"""
import argparse
import os
import random
import socket
import sys
import tempfile
import time

RESERVED_DIR = os.path.join(tempfile.gettempdir(), "sluice-test-ports")
LOWEST = 10000
STALE_SECONDS = 3 * 3600  # a reservation left by a test killed outright


def ephemeral_low():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])


def bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def reserve(port):
    path = os.path.join(RESERVED_DIR, str(port))
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        try:
            if time.time() - os.stat(path).st_mtime < STALE_SECONDS:
                return False
            os.utime(path)
            return True
        except FileNotFoundError:
            return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record")
    ap.add_argument("--release")
    a = ap.parse_args()
    if a.release:
        try:
            with open(a.release) as f:
                ports = f.read().split()
        except FileNotFoundError:
            return
        for p in ports:
            try:
                os.rmdir(os.path.join(RESERVED_DIR, p))
            except OSError:
                pass
        return
    os.makedirs(RESERVED_DIR, exist_ok=True)
    high = ephemeral_low()
    for _ in range(2000):
        port = random.randrange(LOWEST, high)
        if a.record and not reserve(port):
            continue
        if bindable(port):
            if a.record:
                with open(a.record, "a") as f:
                    f.write(f"{port}\n")
            print(port)
            return
        if a.record:
            os.rmdir(os.path.join(RESERVED_DIR, str(port)))
    sys.exit("free_port.py: no free port below the ephemeral range")


if __name__ == "__main__":
    main()
