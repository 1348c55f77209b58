"""Command line: ``python -m emulator --port 0 [--fault NAME ...]``; prints the URL when ready."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import Emulator
from .faults import CATALOGUE
from .holdings import holdings_table


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__.split(";")[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="switch on a fault (repeatable); see --list-faults")
    parser.add_argument("--transition-seconds", type=float, default=0.5,
                        help="how long each transitional state lasts (default 0.5)")
    parser.add_argument("--polls-per-state", type=int, default=None, metavar="N",
                        help="deterministic mode: each transitional state is seen by exactly N describe calls")
    parser.add_argument("--seed", default=None, metavar="FILE", help="JSON seed of directories and bundles")
    parser.add_argument("--access-key", default=None, help="verify SigV4 signatures made with this key")
    parser.add_argument("--secret-key", default=None)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--list-faults", action="store_true", help="print the fault catalogue and exit")
    parser.add_argument("--holdings", action="store_true",
                        help="print the operations by family and the seeded resource kinds (Markdown) and exit")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        for fault in CATALOGUE.values():
            print(f"{fault.name:34} {fault.check:26} {fault.description}")
        return 0
    if args.holdings:
        print(holdings_table())
        return 0
    try:
        emulator = Emulator(port=args.port, host=args.host, transition_seconds=args.transition_seconds,
                            polls_per_state=args.polls_per_state, faults=args.fault, seed=args.seed,
                            access_key=args.access_key, secret_key=args.secret_key, region=args.region)
    except (ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    url = emulator.start()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    print(url, flush=True)
    stopped.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
