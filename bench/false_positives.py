"""No false positives: the whole suite against the emulator under many seeds must pass every time.

``python -m bench.false_positives --seeds 20`` runs ``pytest conformance`` once per
seed (dev profile, so each seed draws different requests), prints a table and
JSON, and exits 1 when any run failed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_seed(seed: int, extra: list[str], folder: Path) -> dict:
    report = folder / f"seed-{seed}.json"
    command = [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q",
               "--hypothesis-seed", str(seed), "--report", str(report), *extra]
    env = dict(os.environ, HYPOTHESIS_PROFILE="dev")
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    data = json.loads(report.read_text()) if report.exists() else {}
    failures = [f"{f['operation']} {f['check']} {f['rule']}" for f in data.get("failures", [])]
    return {
        "seed": seed,
        "exit": done.returncode,
        "seconds": round(time.monotonic() - started, 1),
        "checks": data.get("summary", {}).get("checks"),
        "failures": failures,
        "tail": "" if done.returncode == 0 else done.stdout[-1500:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.false_positives", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    parser.add_argument("--first", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -n 2")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        results = [run_seed(seed, args.pytest_args, Path(folder)) for seed in range(args.first, args.first + args.seeds)]
    print(f"{'seed':>6} {'exit':>4} {'seconds':>8} {'passed':>6} {'failed':>6}  failures")
    for r in results:
        checks = r["checks"] or {}
        print(f"{r['seed']:>6} {r['exit']:>4} {r['seconds']:>8} {checks.get('passed', '-'):>6} "
              f"{checks.get('failed', '-'):>6}  {'; '.join(r['failures'])[:120]}")
    clean = sum(1 for r in results if r["exit"] == 0)
    print(json.dumps({"seeds": len(results), "clean_runs": clean,
                      "false_positives": [r for r in results if r["exit"] != 0]}, indent=2))
    return 0 if clean == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
