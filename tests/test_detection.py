"""Detection power: every fault of the emulator's catalogue makes the suite fail with its check.

Each fault runs the installed suite in a subprocess against the emulator with
that fault switched on, on the operations the fault concerns, and reads the
JSON report. The detection score (caught / total) is printed and must be 100 %.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.checks import CHECKS
from conformance.targets import operations_under_test
from emulator.faults import CATALOGUE

# Operations to exercise for faults that concern every operation: between them
# they have every kind of constraint (lengths, items, ranges, patterns, enums).
EVERY_OPERATION_SAMPLE = ("DescribeWorkspaces", "CreateWorkspaces")
# The exchange checks: judged on every answer, so the tag tests' calls can fail them too.
EXCHANGE_CHECKS = {name for name, declared in CHECKS.items() if declared.function is not None}


def selection_for(check: str) -> tuple[list[str], str | None]:
    """The test paths and -k expression that exercise ``check``."""
    if check in EXCHANGE_CHECKS:
        return ["conformance/test_exchanges.py", "conformance/test_tags.py"], f"{check} or tags"
    return [f"conformance/{CHECKS[check].test}.py"], None
ROOT = Path(__file__).resolve().parents[1]
# The operations a run of the suite judges by default; a fault of none of them is not counted.
JUDGED_OPERATIONS = frozenset(operations_under_test(None))


def run_suite(tmp: Path, *extra: str, operations=None, select=None, paths=("conformance",)) -> tuple[int, dict, str]:
    report = tmp / "report.json"
    command = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q",
               "--report", str(report), *extra]
    if operations:
        command += ["--operations", ",".join(operations)]
    if select:
        command += ["-k", select]
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    data = json.loads(report.read_text()) if report.exists() else {}
    return done.returncode, data, done.stdout[-3000:] + done.stderr[-2000:]


def failing_checks(report: dict) -> set[str]:
    cells = {check for entry in report.get("operations", {}).values()
             for check, status in entry["checks"].items() if status == "fail"}
    return cells | {f["check"] for f in report.get("failures", [])}


def _detect(name: str, tmp: Path) -> tuple[str, bool, str]:
    fault = CATALOGUE[name]
    operations = [op for op in fault.operations if op in JUDGED_OPERATIONS] or list(EVERY_OPERATION_SAMPLE)
    paths, select = selection_for(fault.check)
    if fault.check not in EXCHANGE_CHECKS:
        operations = None  # behaviour tests pick the operations they need
    code, report, output = run_suite(tmp, "--emulator-fault", name, operations=operations, select=select,
                                     paths=paths)
    complete = all(f.get("rule") and f.get("source") and f.get("reproduce") for f in report.get("failures", []))
    if fault.check == "implemented":
        # An operation the target lacks is not a failure but a coverage gap: listed, and left out of the scores.
        missing = set(report.get("summary", {}).get("coverage", {}).get("not_implemented", []))
        caught = code in (0, 1) and set(fault.operations) <= missing
    else:
        caught = code == 1 and fault.check in failing_checks(report) and complete
    return name, caught, f"exit {code}, failing checks {sorted(failing_checks(report))}\n{output}"


def test_without_faults_the_suite_passes(tmp_path):
    code, report, output = run_suite(tmp_path)
    assert code == 0, output
    assert report["summary"]["coverage"]["implemented"] == 14
    assert all(score == 1.0 for score in report["summary"]["scores"].values()), report["summary"]


def judged(fault) -> bool:
    """Whether the suite judges an operation ``fault`` concerns (its default operations, or any)."""
    return "*" in fault.operations or bool(set(fault.operations) & JUDGED_OPERATIONS)


@pytest.mark.slow
def test_every_fault_is_caught_by_its_check(tmp_path, capsys):
    names = sorted(name for name, fault in CATALOGUE.items() if judged(fault))
    unjudged = sorted(set(CATALOGUE) - set(names))
    folders = {name: tmp_path / name for name in names}
    for folder in folders.values():
        folder.mkdir()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda n: _detect(n, folders[n]), names))
    missed = {name: detail for name, caught, detail in results if not caught}
    score = (len(names) - len(missed)) / len(names)
    with capsys.disabled():
        print(f"\ndetection score: {len(names) - len(missed)}/{len(names)} = {score:.0%}")
        if unjudged:
            print(f"  not run: {len(unjudged)} faults of operations the suite does not judge yet: {', '.join(unjudged)}")
        for name in missed:
            print(f"  missed {name} (expected check {CATALOGUE[name].check})")
    assert not missed, "\n\n".join(f"{n}: {d}" for n, d in missed.items())
