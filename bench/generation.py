"""Generation benchmark: examples per second of strategies.requests against hypothesis-jsonschema.

Both strategies are drawn the same way in the same run: a ``@given`` test
with a fixed ``max_examples``, generation phase only, no database and no
health checks (hypothesis-jsonschema's strategies would trip some), counting
the examples the test body actually receives. Compilation (and the first
draws) are warmed up before timing.

    python -m bench.generation [--quick]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings

from hypothesis import HealthCheck, Phase, given, settings

import specs

__all__ = ["run", "main", "measure"]


def measure(strategy, examples: int) -> tuple[float, int]:
    """(examples per second, examples drawn) of ``strategy`` over ``examples`` draws."""
    count = 0

    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(strategy)
    def body(value):
        nonlocal count
        count += 1

    start = time.perf_counter()
    body()
    elapsed = time.perf_counter() - start
    return (count / elapsed if elapsed > 0 else float("inf")), count


def run(quick: bool = False) -> dict:
    """Measure both generators on the seed operations; return the figures."""
    try:
        from hypothesis_jsonschema import from_schema
    except ImportError as error:  # the [test] extra installs it
        raise SystemExit(
            "Expected hypothesis-jsonschema to be installed but it is missing: "
            "pip install hypothesis-jsonschema"
        ) from error
    import strategies

    examples = 20 if quick else 150
    rows = []
    for operation in specs.seed_operations():
        schema = specs.operation(operation)["input"]
        ours = strategies.requests(operation)
        theirs = from_schema(schema)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            measure(ours, 5)
            measure(theirs, 5)
            ours_rate, ours_n = measure(ours, examples)
            theirs_rate, theirs_n = measure(theirs, examples)
        rows.append({
            "operation": operation,
            "requests_per_s": round(ours_rate, 1),
            "requests_examples": ours_n,
            "jsonschema_per_s": round(theirs_rate, 1),
            "jsonschema_examples": theirs_n,
            "ratio": round(ours_rate / theirs_rate, 2) if theirs_rate else None,
        })
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    return {
        "benchmark": "generation",
        "examples_per_operation": examples,
        "operations": rows,
        "generation_vs_jsonschema_ratio": round(statistics.median(ratios), 2),
        "target_ratio": 3.0,
    }


def _table(figures: dict) -> str:
    lines = [f"{'operation':38} {'requests/s':>11} {'from_schema/s':>14} {'ratio':>7}"]
    for row in figures["operations"]:
        lines.append(f"{row['operation']:38} {row['requests_per_s']:>11.1f} "
                     f"{row['jsonschema_per_s']:>14.1f} {row['ratio']:>7.2f}")
    lines.append(f"median ratio: {figures['generation_vs_jsonschema_ratio']:.2f} "
                 f"(target >= {figures['target_ratio']})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples per operation")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    print(_table(figures))
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
