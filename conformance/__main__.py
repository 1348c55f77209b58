"""Command line: ``python -m conformance sweep --endpoint URL [--older-than 2h]``."""
from __future__ import annotations

import argparse
import re
import sys

from . import EXIT_UNREACHABLE
from .cleanup import RUN_TAG, tagged_workspaces, terminate
from .client import Caller, Connection, TargetUnreachable
from .targets import is_loopback

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds in a duration like ``90s``, ``30m``, ``2h`` or ``1d``."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"Expected a duration like 30m or 2h but got older_than={text!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance")
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser("sweep", help=f"terminate WorkSpaces tagged {RUN_TAG} by earlier runs, and nothing else")
    sweep.add_argument("--endpoint", required=True, help="the target URL")
    sweep.add_argument("--region", default="us-east-1")
    sweep.add_argument("--profile", default=None)
    sweep.add_argument("--older-than", type=duration, default=0.0, help="only resources created this long ago (e.g. 2h)")
    sweep.add_argument("--run-id", default=None, help="only the resources of this run")
    sweep.add_argument("--dry-run", action="store_true", help="list what would be removed")
    sweep.add_argument("--request-timeout", type=float, default=30.0, help="seconds to wait for each response")
    sweep.add_argument("--rate-limit", type=float, default=None,
                       help="requests per second, bursts of 5 (default: 2 for remote endpoints, unlimited on loopback)")
    args = parser.parse_args(argv)
    loopback = is_loopback(args.endpoint)
    rate = args.rate_limit if args.rate_limit is not None else (None if loopback else 2.0)
    try:
        connection = Connection(args.endpoint, region=args.region, profile=args.profile, loopback_credentials=loopback,
                                timeout=args.request_timeout, rate_limit=rate)
        caller = Caller(connection)
    except (ValueError, RuntimeError) as error:
        print(f"sweep: {error}", file=sys.stderr)
        return 2
    try:
        return _sweep(caller, args)
    except TargetUnreachable as error:
        print(f"sweep: cannot reach {args.endpoint}: {error}", file=sys.stderr)  # the error names the cause
        return EXIT_UNREACHABLE
    except RuntimeError as error:  # the target refused to list its WorkSpaces
        print(f"sweep: {error}", file=sys.stderr)
        return 1
    finally:
        caller.close()


def _sweep(caller: Caller, args) -> int:
    doomed = tagged_workspaces(caller, run_id=args.run_id, older_than=args.older_than)
    print(f"{len(doomed)} WorkSpace(s) carry {RUN_TAG}" + (f": {', '.join(doomed)}" if doomed else ""))
    if args.dry_run or not doomed:
        return 0
    refused = terminate(caller, doomed)
    print(f"terminated {len(doomed) - len(refused)}" + (f"; refused: {', '.join(refused)}" if refused else ""))
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
