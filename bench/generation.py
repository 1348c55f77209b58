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


def reference_generator():
    """hypothesis-jsonschema's ``from_schema``, or (None, the reason in one line) where it cannot draw.

    Its releases reach into Hypothesis internals, so a new Hypothesis can break it;
    the benchmark then measures our side alone and says why.
    """
    from importlib.metadata import version

    try:
        from hypothesis_jsonschema import from_schema
    except ImportError:
        return None, "hypothesis-jsonschema is not installed (pip install hypothesis-jsonschema)"
    probe = {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}},
             "required": ["a"]}
    try:
        measure(from_schema(probe), 3)
    except Exception as error:  # whatever the incompatibility raises
        message = str(error).splitlines()[0] if str(error) else ""
        return None, (f"hypothesis-jsonschema {version('hypothesis-jsonschema')} cannot draw with hypothesis "
                      f"{version('hypothesis')} ({type(error).__name__}: {message}); the comparison is left out")
    return from_schema, None


def run(quick: bool = False) -> dict:
    """Measure both generators on the seed operations; return the figures."""
    import strategies

    from_schema, unavailable = reference_generator()
    examples = 20 if quick else 150
    rows = []
    for operation in specs.seed_operations():
        ours = strategies.requests(operation)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            measure(ours, 5)
            ours_rate, ours_n = measure(ours, examples)
            row = {"operation": operation, "requests_per_s": round(ours_rate, 1), "requests_examples": ours_n,
                   "jsonschema_per_s": None, "jsonschema_examples": None, "ratio": None}
            if from_schema is not None:
                theirs = from_schema(specs.operation(operation)["input"])
                measure(theirs, 5)
                theirs_rate, theirs_n = measure(theirs, examples)
                row.update(jsonschema_per_s=round(theirs_rate, 1), jsonschema_examples=theirs_n,
                           ratio=round(ours_rate / theirs_rate, 2) if theirs_rate else None)
        rows.append(row)
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    return {
        "benchmark": "generation",
        "examples_per_operation": examples,
        "operations": rows,
        "generation_vs_jsonschema_ratio": round(statistics.median(ratios), 2) if ratios else None,
        "target_ratio": 3.0,
        "notes": [unavailable] if unavailable else [],
    }


def _table(figures: dict) -> str:
    lines = [f"{'operation':38} {'requests/s':>11} {'from_schema/s':>14} {'ratio':>7}"]
    for row in figures["operations"]:
        theirs = f"{row['jsonschema_per_s']:>14.1f}" if row["jsonschema_per_s"] is not None else f"{'n/a':>14}"
        ratio = f"{row['ratio']:>7.2f}" if row["ratio"] is not None else f"{'n/a':>7}"
        lines.append(f"{row['operation']:38} {row['requests_per_s']:>11.1f} {theirs} {ratio}")
    median = figures["generation_vs_jsonschema_ratio"]
    lines.append(f"median ratio: {'n/a' if median is None else f'{median:.2f}'} (target >= {figures['target_ratio']})")
    lines.extend(f"note: {note}" for note in figures.get("notes", []))
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
