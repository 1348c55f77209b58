"""Which violation kinds each seed operation can produce: allowed by the model, and drawn.

    python -m strategies.coverage [--examples N]

For each of the 14 seed operations, prints the kinds its constraints and
rules allow (``violation_kinds``) and checks that ``invalid_requests``
really produces each of them, drawing a few examples per kind.
"""
from __future__ import annotations

import argparse
import json
import sys

from hypothesis import HealthCheck, Phase, given, settings

import specs

from .invalid import invalid_requests, violation_kinds

__all__ = ["report", "main"]


def produced_kinds(operation: str | specs.OperationContract, examples: int = 2) -> set[str]:
    """The kinds actually drawn from ``invalid_requests(operation, kinds={k})`` for each k."""
    contract = specs.contract(operation)
    produced: set[str] = set()
    for kind in sorted(violation_kinds(contract)):
        @settings(max_examples=examples, database=None, deadline=None,
                  phases=[Phase.generate], derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(invalid_requests(contract, kinds={kind}))
        def draw(inv):
            produced.add(inv.violation.kind)

        draw()
    return produced


def report(examples: int = 2) -> dict:
    """{operation: {"allowed": [...], "produced": [...], "missing": [...]}} for the seed."""
    out = {}
    for operation in specs.seed_operations():
        contract = specs.contract(operation)
        allowed = violation_kinds(contract)
        produced = produced_kinds(contract, examples)
        out[operation] = {
            "allowed": sorted(allowed),
            "produced": sorted(produced),
            "missing": sorted(allowed - produced),
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2, help="examples drawn per kind")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    figures = report(args.examples)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for operation, row in figures.items():
            status = "all produced" if not row["missing"] else f"MISSING {row['missing']}"
            print(f"{operation:36} {status}: {', '.join(row['produced'])}")
    return 1 if any(row["missing"] for row in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
