"""Self-tests of what a person sees of a run: the report kept when a run never starts, one set of
counts, short failures, option errors all at once, exit codes, progress lines and the Markdown legend."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conformance import EXIT_UNREACHABLE, plugin, targets
from conformance import report as reports

from .servers import REPOSITORY, SuiteProcess, suite_environment

SUBSET = "DescribeWorkspaces,DescribeTags"


def run_suite(tmp_path, *args: str, endpoint: str = "emulator", name: str = "run") -> SuiteProcess:
    return SuiteProcess(endpoint, list(args), tmp_path, name=name).wait(600)


def pytest_counts(output: str) -> dict[str, int]:
    """pytest's closing line as numbers: {"passed": 41, "failed": 1, "xfailed": 27, ...}."""
    line = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|skipped|xfailed)", line)][-1]
    return {word: int(count) for count, word in re.findall(r"(\d+) (passed|failed|skipped|xfailed|deselected)", line)}


# --- 1. a run that never started keeps the last good report -----------------------------------


def test_a_run_that_cannot_reach_its_target_leaves_the_last_report_in_place(tmp_path):
    good = run_suite(tmp_path, "--operations", "DescribeWorkspaceBundles", name="kept")
    assert good.returncode == 0, good.output[-2000:]
    before = good.report.read_bytes()
    dead = f"http://127.0.0.1:{targets.free_port()}"
    again = SuiteProcess(dead, ["--operations", "DescribeWorkspaceBundles"], tmp_path, name="kept").wait(120)
    assert again.returncode == EXIT_UNREACHABLE, again.output[-2000:]
    assert good.report.read_bytes() == before
    assert f"the previous report {good.report} is left in place" in again.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kept.json.")]  # no temporary file left


def test_report_diff_tells_an_unreachable_run_from_lost_coverage(tmp_path):
    good = run_suite(tmp_path, "--operations", "DescribeWorkspaceBundles", name="good")
    never = reports.Collector(tool_version="0.1.0", contract=reports.contract_record(),
                              target={"endpoint": "http://127.0.0.1:9", "kind": "url"}, seed=1,
                              operations=["DescribeWorkspaceBundles"])
    never.set_implemented("DescribeWorkspaceBundles", False)
    never.notes.append("target unreachable: http://127.0.0.1:9: connection refused")
    old_style = tmp_path / "unreachable.json"
    reports.write_json(never.to_dict(), old_style)
    compared = subprocess.run([sys.executable, "-m", "conformance.report", "diff", str(good.report), str(old_style)],
                              cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert compared.returncode == EXIT_UNREACHABLE, compared.stdout + compared.stderr
    assert "never reached its target" in compared.stdout and "Coverage lost" not in compared.stdout


# --- 4. one set of counts ------------------------------------------------------------------------


def test_pytest_counts_are_the_report_counts_and_unimplemented_is_skipped(tmp_path):
    run = run_suite(tmp_path, "--operations", "DescribeWorkspaces,DeleteTags,TerminateWorkspaces", "-rs",
                    endpoint="moto")
    assert run.returncode in (0, 1), run.output[-3000:]
    counts, summary = pytest_counts(run.output), run.data()["summary"]["checks"]
    assert counts.get("passed", 0) == summary["passed"]
    assert counts.get("failed", 0) + counts.get("xfailed", 0) == summary["failed"]
    assert counts.get("skipped", 0) == summary["skipped"]
    assert "DeleteTags" in run.data()["summary"]["coverage"]["not_implemented"]
    assert not re.search(r"FAILED \S*\[DeleteTags", run.output), "an unimplemented operation failed a test"
    assert "not implemented: DeleteTags is not implemented by the target" in run.output
    assert "empty parameter set" not in run.output


def test_a_narrow_selection_has_no_empty_parameter_set_skips(tmp_path):
    run = run_suite(tmp_path, "--operations", "DescribeTags", "--checks", "tags", "-rs")
    assert run.returncode == 0, run.output[-2000:]
    assert "empty parameter set" not in run.output
    counts = pytest_counts(run.output)
    counts.pop("deselected", None)  # the tests with nothing to judge are left out, not skipped
    assert counts == {"passed": 1}
    cells = {(op, check) for op, entry in run.data()["operations"].items() for check in entry["checks"]}
    assert cells == {("DescribeTags", "tags")}


# --- 5. short failure output ------------------------------------------------------------------


def test_a_failure_prints_its_own_message_without_the_suites_frames(tmp_path):
    short = run_suite(tmp_path, "--emulator-fault", "state_outside_enum", "--operations", "DescribeWorkspaces",
                      "--checks", "response_enum", name="short")
    assert short.returncode == 1, short.output[-3000:]
    for part in ("[response_enum] DescribeWorkspaces", "Rule: ", "Source: ", "Request: ", "Response: ",
                 "Reproduce with:"):
        assert part in short.output, part
    for internal in ("conformance/checks.py", "def shrink", "raise survey.failures", "_pytest"):
        assert internal not in short.output, internal
    long = run_suite(tmp_path, "--emulator-fault", "state_outside_enum", "--operations", "DescribeWorkspaces",
                     "--checks", "response_enum", "--tb=long", name="long")
    assert long.returncode == 1 and "checks.py" in long.output
    assert len(short.output.splitlines()) < len(long.output.splitlines())


# --- 6. options, exit codes, progress, legend --------------------------------------------------


def usage(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider",
                           "--report", str(tmp_path / "r.json"), *args],
                          cwd=REPOSITORY, capture_output=True, text=True, env=suite_environment(tmp_path), timeout=120)


def test_every_misspelled_name_is_reported_at_once(tmp_path):
    operations = usage(tmp_path, "--operations", "DescribeWorkspace,CreatTags,DescribeTags")
    assert operations.returncode == 4
    assert "'DescribeWorkspaces'" in operations.stderr and "'CreateTags'" in operations.stderr
    checks = usage(tmp_path, "--checks", "response_schma,tagz")
    assert checks.returncode == 4
    assert "'response_schema'" in checks.stderr and "'tags'" in checks.stderr
    assert not (tmp_path / "r.json").exists()


def test_an_empty_operations_or_checks_option_is_a_usage_error(tmp_path):
    for option in ("--operations=", "--checks="):
        answer = usage(tmp_path, option)
        assert answer.returncode == 4, (option, answer.stdout[-1000:])
        assert "but got" in answer.stderr


def test_checks_selects_the_named_checks_only(tmp_path):
    run = run_suite(tmp_path, "--operations", SUBSET, "--checks", "response_schema,tags")
    assert run.returncode == 0, run.output[-2000:]
    checks = {check for entry in run.data()["operations"].values() for check in entry["checks"]}
    assert checks == {"response_schema", "tags"}


def test_unreachable_and_usage_errors_have_distinct_exit_codes(tmp_path):
    dead = f"http://127.0.0.1:{targets.free_port()}"
    unreachable = SuiteProcess(dead, ["--operations", "DescribeWorkspaces"], tmp_path, name="dead").wait(120)
    misused = usage(tmp_path, "--operations", "NoSuchOperation")
    assert unreachable.returncode == EXIT_UNREACHABLE != misused.returncode == pytest.ExitCode.USAGE_ERROR


def test_progress_lines_come_on_slow_runs_with_an_estimate():
    now = [0.0]
    progress = plugin.Progress(None, total=100, clock=lambda: now[0])
    lines = []
    for _ in range(100):
        now[0] += 0.5
        line = progress.finished_one()
        if line:
            lines.append(line)
    # The first after 10 s (test 20), then every 30 s (tests 80): none on the last test.
    assert lines == ["progress: 20/100 tests, 10s elapsed, about 40s left",
                     "progress: 80/100 tests, 40s elapsed, about 10s left"]
    quick = plugin.Progress(None, total=100, clock=lambda: 0.0)
    assert all(quick.finished_one() is None for _ in range(100))


def test_the_markdown_legend_explains_every_symbol_and_the_blank_cell(tmp_path):
    run = run_suite(tmp_path, "--operations", SUBSET, "--report-md", str(tmp_path / "r.md"))
    text = (tmp_path / "r.md").read_text()
    legend = text[text.index("Legend:"):]
    for status, symbol in reports.SYMBOLS.items():
        assert f"- {symbol} " in legend, status
    assert "a blank cell" in legend and "score" in legend
    assert run.returncode == 0


@pytest.mark.parametrize("operation", ["ModifyWorkspaceProperties", "RebootWorkspaces"])
def test_an_action_tested_alone_waits_for_workspaces_it_may_act_on(tmp_path, operation):
    # Alone, the action meets the run's new WorkSpaces still PENDING; refusing those is no deviation.
    run = run_suite(tmp_path, "--operations", operation, name=operation)
    assert run.returncode == 0, run.output[-3000:]
