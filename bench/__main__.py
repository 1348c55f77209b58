"""All benchmarks: ``python -m bench [--quick] [--output PATH]`` prints a table and writes bench/results.json.

Runs, one after the other on this machine: :mod:`bench.generation` (strategies
against hypothesis-jsonschema), :mod:`bench.emulator` (the emulator against
moto's server) and :mod:`bench.suite` (the suite against a plain boto3 loop,
its wall time, pytest-xdist and memory). Every ratio is measured pair by pair
in this one run and quoted as a median. ``--quick`` shortens each part (about
a minute on two cores): a check that the machinery works, not figures to quote.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

__all__ = ["run", "main", "TARGETS", "HEADLINE"]

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
# Each headline figure, the part that measures it, and its target: (comparison, bound).
TARGETS = {
    "suite_vs_boto3_ratio": (">=", 0.8),
    "generation_vs_jsonschema_ratio": (">=", 3.0),
    "emulator_vs_moto_ratio": (">=", 2.0),
    "suite_wall_s": ("<=", 60.0),
    "xdist_speedup": (">=", 1.6),
    "peak_rss_mb": ("<=", 300.0),
}
HEADLINE = tuple(TARGETS)
UNITS = {"suite_wall_s": "s", "peak_rss_mb": "MB"}


def _parts():
    from . import emulator, generation, suite

    return {"generation": generation.run, "emulator": emulator.run, "suite": suite.run}


def run(quick: bool = False, parts=None) -> dict:
    """Run the benchmarks (all, or the named ``parts``) and return the combined results."""
    available = _parts()
    chosen = list(available) if parts is None else list(parts)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise ValueError(f"Expected parts among {sorted(available)} but got parts={unknown!r}")
    started = datetime.datetime.now(datetime.timezone.utc)
    details, seconds = {}, {}
    for name in chosen:
        began = time.perf_counter()
        details[name] = available[name](quick=quick)
        seconds[name] = round(time.perf_counter() - began, 1)
    figures = {}
    for part in details.values():
        for key in HEADLINE:
            if key in part and key not in figures:
                figures[key] = part[key]
    return {
        "quick": quick,
        "started": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "command": "python -m bench" + (" --quick" if quick else ""),
        **{key: figures.get(key) for key in HEADLINE},
        "targets": {key: f"{op} {bound}" for key, (op, bound) in TARGETS.items()},
        "met": {key: _met(key, figures.get(key)) for key in HEADLINE},
        "seconds": seconds,
        "details": details,
    }


def _met(key: str, value) -> bool | None:
    if not isinstance(value, (int, float)):
        return None
    op, bound = TARGETS[key]
    return value >= bound if op == ">=" else value <= bound


def table(result: dict) -> str:
    """The headline figures against their targets, one line each."""
    lines = [f"{'figure':32} {'value':>10}  {'target':>9}  met"]
    for key in HEADLINE:
        value = result.get(key)
        shown = f"{value:>10.2f}" if isinstance(value, (int, float)) else f"{'n/a':>10}"
        met = {True: "yes", False: "NO", None: "-"}[result["met"].get(key)]
        unit = UNITS.get(key, "")
        lines.append(f"{key:32} {shown}  {result['targets'][key] + unit:>9}  {met}")
    mode = "quick (not figures to quote)" if result["quick"] else "full"
    lines.append(f"{mode} run on {result['machine']['cpus']} CPUs, Python {result['machine']['python']}; "
                 f"seconds per part: {result['seconds']}")
    for part in result["details"].values():
        lines.extend(f"note: {note}" for note in part.get("notes", []))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shortened run (about a minute)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help=f"where to write the JSON (default {DEFAULT_OUTPUT})")
    parser.add_argument("--only", action="append", choices=("generation", "emulator", "suite"),
                        help="run only this part (repeatable)")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, parts=args.only)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(json.dumps({key: result[key] for key in ("quick", *HEADLINE)}, indent=2))
    print(f"written: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
