"""Self-tests of the pytest plugin, through real runs of the installed suite in subprocesses."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conformance import report as reports

ROOT = Path(__file__).resolve().parents[1]
SUBSET = "DescribeWorkspaces,DescribeTags"


def suite(tmp: Path, *args: str, cwd: Path = ROOT, name: str = "report") -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp / f"{name}.json"
    command = [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q",
               "--report", str(report), *args]
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    return done, (json.loads(report.read_text()) if report.exists() else {})


def content(report: dict) -> dict:
    """What a report says, without what differs between any two runs (ports, clocks)."""
    return {
        "summary": report["summary"],
        "operations": report["operations"],
        "failures": sorted((f["operation"], f["check"], f["rule"]) for f in report["failures"]),
        "seed": report["seed"],
    }


def test_report_of_a_real_run_follows_its_schema_and_markdown_is_written(tmp_path):
    done, report = suite(tmp_path, "--operations", SUBSET, "--report-md", str(tmp_path / "r.md"),
                         "--junitxml", str(tmp_path / "junit.xml"))
    assert done.returncode == 0, done.stdout[-3000:]
    reports.validate(report)
    assert set(report["operations"]) == set(SUBSET.split(","))
    assert "WorkSpaces conformance" in done.stdout and "coverage: 2/2" in done.stdout
    assert "| DescribeWorkspaces |" in (tmp_path / "r.md").read_text()
    assert "<testsuite" in (tmp_path / "junit.xml").read_text()


def test_failures_carry_rule_source_seed_and_a_runnable_reproduction(tmp_path):
    done, report = suite(tmp_path, "--operations", "DescribeWorkspaces", "--emulator-fault", "state_outside_enum",
                         "--hypothesis-seed", "7", "-k", "response_enum")
    assert done.returncode == 1
    [failure] = [f for f in report["failures"] if f["check"] == "response_enum"]
    assert failure["rule"].startswith("model.DescribeWorkspaces.output") and "WorkspaceState" in failure["source"]
    assert failure["seed"] == 7 and report["seed"] == 7
    assert "Reproduce with:" in done.stdout
    program = failure["reproduce"]
    assert "python -m emulator --port" in program and "--fault state_outside_enum" in program
    compile(program, "reproduce", "exec")  # a program, not prose


def test_installed_suite_runs_from_any_folder(tmp_path):
    done, report = suite(tmp_path, "--operations", "DescribeTags", "-k", "implemented", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert report["operations"]["DescribeTags"]["checks"] == {"implemented": "pass"}


def test_unknown_operation_is_a_usage_error_with_a_suggestion(tmp_path):
    done, _ = suite(tmp_path, "--operations", "DescribeWorkspace")
    assert done.returncode == 4
    assert "Did you mean 'DescribeWorkspaces'" in done.stdout + done.stderr


def test_tier_core_runs_only_core_checks(tmp_path):
    done, report = suite(tmp_path, "--operations", "DescribeTags", "--tier", "core")
    assert done.returncode == 0
    checks = {check for entry in report["operations"].values() for check in entry["checks"]}
    assert checks and checks <= {"implemented", "not_a_server_error", "response_schema", "response_enum", "error_shape"}


def test_baseline_expects_known_failures_and_fails_on_new_ones(tmp_path):
    fault = ("--operations", "DescribeWorkspaces", "--emulator-fault", "state_outside_enum", "-k", "response_enum")
    first, baseline = suite(tmp_path, *fault, name="baseline")
    assert first.returncode == 1 and baseline["failures"]
    again, _ = suite(tmp_path, *fault, "--baseline", str(tmp_path / "baseline.json"), name="gated")
    assert again.returncode == 0, again.stdout[-3000:]
    worse, _ = suite(tmp_path, "--operations", "DescribeWorkspaces", "--emulator-fault", "state_outside_enum",
                     "--emulator-fault", "content_type_html", "-k", "response_enum or content_type",
                     "--baseline", str(tmp_path / "baseline.json"), name="worse")
    assert worse.returncode == 1
    fixed, _ = suite(tmp_path, "--operations", "DescribeWorkspaces", "-k", "response_enum",
                     "--baseline", str(tmp_path / "baseline.json"), name="fixed")
    assert fixed.returncode == 0 and "fixed since the baseline" in fixed.stdout


def test_xdist_merged_report_equals_the_serial_one(tmp_path):
    pytest.importorskip("xdist")
    args = ("--operations", "DescribeWorkspaces,CreateTags", "--emulator-fault", "state_outside_enum",
            "--hypothesis-seed", "11")
    serial, one = suite(tmp_path, *args, name="serial")
    parallel, two = suite(tmp_path, *args, "-n", "2", name="parallel")
    assert serial.returncode == parallel.returncode == 1
    jsonschema.Draft7Validator(json.loads(reports.SCHEMA_PATH.read_text())).validate(two)
    assert content(one) == content(two)


def test_a_skip_for_an_operation_the_target_lacks_is_a_not_implemented_cell():
    from types import SimpleNamespace

    from conformance import plugin
    from conformance.coverage import NotImplementedSkip, skip_not_implemented
    from conformance.report import Cell, CellStatus
    from conformance.run import Options

    def phase(raise_it):
        with pytest.raises(pytest.skip.Exception) as info:
            raise_it()
        return SimpleNamespace(excinfo=info)

    implemented = {"CreateTags": True, "DeleteTags": False}
    run = SimpleNamespace(implemented=implemented.__getitem__, options=Options())
    skipped = SimpleNamespace(skipped=True, passed=False)
    params = {"operation": "CreateTags", "check": "tags"}
    # The test of CreateTags needs DeleteTags, which the target lacks: the cell says so, as data.
    lacking = phase(lambda: skip_not_implemented("DeleteTags", " (tags are removed after)"))
    assert isinstance(lacking.excinfo.value, NotImplementedSkip) and lacking.excinfo.value.operation == "DeleteTags"
    cells, _ = plugin._cells(None, lacking, skipped, run, params)
    assert cells == [Cell("CreateTags", "tags", CellStatus.NOT_IMPLEMENTED)]
    budget = phase(lambda: pytest.skip("budget: no WorkSpace created by this run to tag"))
    assert plugin._cells(None, budget, skipped, run, params) == ([Cell("CreateTags", "tags", CellStatus.SKIP)], [])
    # What a skip's text says is for people: only the exception says the target lacks an operation.
    worded = phase(lambda: pytest.skip("unjudgeable: not implemented: DeleteTags is not implemented by the target"))
    assert plugin._cells(None, worded, skipped, run, params) == ([Cell("CreateTags", "tags", CellStatus.SKIP)], [])
    # A test of an operation the target lacks is not_implemented whatever made it skip.
    own = dict(params, operation="DeleteTags")
    cells, _ = plugin._cells(None, budget, skipped, run, own)
    assert cells == [Cell("DeleteTags", "tags", CellStatus.NOT_IMPLEMENTED)]
    with pytest.raises(ValueError, match="operation=''"):
        NotImplementedSkip("")
