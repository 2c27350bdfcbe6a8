"""A stand-in service for process-fault tests: writes its pid file, optionally listens, sleeps.

Usage: python sleeper.py PID_FILE [--port N] [--ignore-term] [--no-pid-file]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pid_file", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--no-pid-file", action="store_true")
    args = parser.parse_args()
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.port:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", args.port))
        server.listen()
    if not args.no_pid_file:
        tmp = args.pid_file.with_suffix(".tmp")
        tmp.write_text(f"{os.getpid()}\n")
        tmp.replace(args.pid_file)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
