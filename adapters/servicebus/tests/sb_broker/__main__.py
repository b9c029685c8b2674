"""Run the test broker in its own process: ``python -m sb_broker [--port N] [--lock-duration S]``.

Prints ``PORT KEYNAME KEY`` on one line once listening, then serves until stdin closes (so a
benchmark keeps the broker's work off its own interpreter). Test infrastructure only.
"""

from __future__ import annotations

import argparse
import sys

from sb_broker._server import ServiceBusTestBroker


def main() -> None:
    parser = argparse.ArgumentParser(prog="sb_broker")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lock-duration", type=float, default=30.0)
    args = parser.parse_args()
    broker = ServiceBusTestBroker(port=args.port, lock_duration=args.lock_duration).start()
    ns = broker.namespace
    print(broker.port, ns.key_name, ns.key, flush=True)
    try:
        sys.stdin.read()
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
