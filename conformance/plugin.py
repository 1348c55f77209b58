"""The pytest plugin: options, the session's conformance run, outcome collection, reports.

Registered through the ``pytest11`` entry point, so an installed copy works from
any folder (``pytest conformance`` finds the installed tests too). Light to
import: everything heavy loads when a conformance test first needs it.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from . import EXIT_UNREACHABLE

PACKAGE_DIR = Path(__file__).resolve().parent
GROUP = "workspaces-conformance"
CHECKS_KEY = pytest.StashKey[list]()
RUN_KEY = pytest.StashKey[object]()
STARTED_KEY = pytest.StashKey[float]()  # time.monotonic() at configuration: --max-duration counts from it
BUDGET_NOTED_KEY = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "WorkSpaces conformance suite")
    group.addoption("--endpoint", default="emulator",
                    help="target: 'emulator' (default, started in-process), 'moto' (started in-process) "
                         "or an http(s):// URL")
    group.addoption("--region", default="us-east-1", help="AWS region to sign for (default us-east-1)")
    group.addoption("--profile", default=None, help="AWS credentials profile for URL targets")
    group.addoption("--allow-mutations", action="store_true",
                    help="allow creating and changing resources on a non-loopback target")
    group.addoption("--assume-remote", action="store_true",
                    help="treat a loopback URL as a real account (read-only unless --allow-mutations)")
    group.addoption("--max-workspaces", type=int, default=None,
                    help="budget of WorkSpaces the suite may create (default 1 remote, 50 loopback)")
    group.addoption("--directory-id", default=None, help="a registered directory to use on URL targets")
    group.addoption("--bundle-id", default=None, help="a bundle to create WorkSpaces from on URL targets")
    group.addoption("--user-name", default=None,
                    help="directory users for new WorkSpaces on URL targets, comma-separated (one per WorkSpace)")
    group.addoption("--operations", default=None,
                    help="comma-separated subset of the 14 seed operations to test")
    group.addoption("--tier", default="strict", choices=("core", "complete", "strict"),
                    help="run the checks of this tier and those below it (default strict: all)")
    group.addoption("--checks", default=None,
                    help="comma-separated check names: run only these (within --tier); see the README's check table")
    group.addoption("--report", default="reports/conformance.json",
                    help="path of the JSON report (default reports/conformance.json)")
    group.addoption("--report-md", default=None, help="path of a Markdown report")
    group.addoption("--baseline", default=None,
                    help="a previous JSON report: its failures are expected, new ones fail the run")
    group.addoption("--request-timeout", type=float, default=30.0, help="seconds to wait for each response")
    group.addoption("--rate-limit", type=float, default=None,
                    help="requests per second, bursts of 5 (default: 2 for remote targets, unlimited on loopback)")
    group.addoption("--keep-resources", action="store_true",
                    help="keep the WorkSpaces the run created (tagged conformance:run-id) for inspection; "
                         "python -m conformance sweep removes them later")
    group.addoption("--emulator-fault", action="append", default=[], metavar="NAME",
                    help="switch on a fault of the embedded emulator (repeatable)")
    group.addoption("--contract", default="committed", choices=("committed", "installed"),
                    help="judge by the committed, reviewed specs (default) or by specs derived from the "
                         "installed botocore's model for this run")
    group.addoption("--time-scale", type=float, default=None, metavar="FACTOR",
                    help="multiply the rules.json deadlines of transitional states by FACTOR (e.g. 0.01); "
                         "default: real deadlines on remote targets, fitted to the target's own transitions "
                         "on loopback ones")
    group.addoption("--max-duration", type=float, default=None, metavar="SECONDS",
                    help="budget of the whole run: once spent, the remaining tests are skipped and the run "
                         "ends with its report and cleanup")


def pytest_load_initial_conftests(early_config, parser, args) -> None:
    """Let ``pytest conformance`` find the installed tests from any folder."""
    for index, arg in enumerate(args):
        if arg.split("::", 1)[0] == "conformance" and not Path("conformance").exists():
            args[index] = str(PACKAGE_DIR) + arg[len("conformance"):]


def _runs_conformance(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == PACKAGE_DIR or PACKAGE_DIR in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(checks): a conformance test over operations x checks")
    if _runs_conformance(config):
        import time

        config.stash[STARTED_KEY] = time.monotonic()
        # A seed for every run, so that each report names the one that reproduces it.
        if config.getoption("hypothesis_seed", None) is None and hasattr(config.option, "hypothesis_seed"):
            config.option.hypothesis_seed = random.randrange(2**32)
        _ensure_profiles()
        _interrupt_on_sigterm()
        _check_options(config)
        if config.getoption("contract") == "installed":
            import specs

            specs.use_installed_model()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """One line when the installed botocore's model is not the contract the run judges by."""
    if not _runs_conformance(config):
        return []
    import specs

    drift = specs.drift()
    info = specs.model_info()
    line = f"workspaces-conformance: contract from botocore {info['botocore']} ({specs.contract_origin()} specs)"
    return [line] + ([drift.line()] if drift is not None else [])


def _check_options(config: pytest.Config) -> None:
    """Bad options are usage errors (exit 4) before anything starts."""
    from . import targets

    try:
        options = _options(config)
        targets.operations_under_test(options.operations)
        for option, value in (("--time-scale", options.time_scale), ("--max-duration", options.max_duration)):
            if value is not None and not value > 0:
                raise ValueError(f"Expected {option} to be a number > 0 but got {value!r}")
        if options.endpoint not in ("emulator", "moto"):
            targets.url_target(options.endpoint)
    except (KeyError, ValueError) as error:
        raise pytest.UsageError(f"workspaces-conformance: {error}") from None


# The signal that interrupted the run, until the interrupt is known to have reached pytest.
_SIGNALLED: dict = {"signal": None}


def _raise_interrupt(signum, frame):
    import sys

    _SIGNALLED["signal"] = signum
    previous = sys.unraisablehook

    def quiet(unraisable):
        # Swallowed where it was raised (a garbage-collection callback): it is raised again after the test.
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous(unraisable)

    sys.unraisablehook = quiet
    raise KeyboardInterrupt(f"signal {signum}")


def _interrupt_on_sigterm() -> None:
    """Turn SIGTERM (and SIGINT) into an interrupt, so the run cleans up and writes its report as on Ctrl-C."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)


def pytest_runtest_logfinish(nodeid, location) -> None:
    """Interrupt again after a test if the signal's interrupt was swallowed.

    A KeyboardInterrupt raised while a garbage-collection callback runs (Hypothesis
    installs one) is reported as unraisable and lost, and the run would go on to its end.
    """
    signum = _SIGNALLED["signal"]
    if signum is not None:
        _SIGNALLED["signal"] = None
        raise KeyboardInterrupt(f"signal {signum}")


def _ensure_profiles() -> None:
    """Register the ci/dev/thorough profiles when the repository's conftest.py is not loaded."""
    from hypothesis import Phase, settings

    try:
        settings.get_profile("ci")
        return
    except Exception:
        pass
    quick = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
    settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25, print_blob=True,
                              database=None, phases=quick)
    settings.register_profile("dev", max_examples=50, deadline=None, print_blob=True, phases=quick)
    settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True, phases=list(Phase))
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _options(config: pytest.Config):
    from .run import Options

    from .run import checks_selected

    operations = config.getoption("operations")
    checks = config.getoption("checks")
    return Options(
        endpoint=config.getoption("endpoint"),
        region=config.getoption("region"),
        profile=config.getoption("profile"),
        allow_mutations=config.getoption("allow_mutations"),
        assume_remote=config.getoption("assume_remote"),
        max_workspaces=config.getoption("max_workspaces"),
        directory_id=config.getoption("directory_id"),
        bundle_id=config.getoption("bundle_id"),
        user_name=config.getoption("user_name"),
        operations=_names(operations),
        tier=config.getoption("tier"),
        checks=checks_selected(_names(checks)),
        request_timeout=config.getoption("request_timeout"),
        rate_limit=config.getoption("rate_limit"),
        emulator_faults=tuple(config.getoption("emulator_fault")),
        seed=_seed(config),
        keep_resources=config.getoption("keep_resources"),
        time_scale=config.getoption("time_scale"),
        max_duration=config.getoption("max_duration"),
        started=config.stash.get(STARTED_KEY, None),
    )


def _names(option: str | None) -> list[str] | None:
    """A comma-separated option as a list of names; None when the option was not given."""
    return None if option is None else [name.strip() for name in option.split(",") if name.strip()]


def _seed(config: pytest.Config):
    """The run's Hypothesis seed: an int where it is one (the command line gives strings)."""
    seed = config.getoption("hypothesis_seed", None)
    return int(seed) if isinstance(seed, str) and seed.lstrip("-").isdigit() else seed


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize conformance tests over the selected operations and the checks of the tier."""
    marker = metafunc.definition.get_closest_marker("conformance")
    if marker is None or "operation" not in metafunc.fixturenames:
        return
    from . import targets

    options = _options(metafunc.config)
    try:
        operations = targets.operations_under_test(options.operations)
    except (KeyError, ValueError) as error:
        raise pytest.UsageError(str(error)) from None
    only = marker.kwargs.get("operations")
    if only is not None:
        operations = [op for op in operations if op in only]
    checks = [c for c in marker.kwargs.get("checks", []) if options.runs_check(c)]
    if not checks:
        operations = []  # none of the test's checks belongs to the selected tier
    if "check" in metafunc.fixturenames:
        cases = [(op, check) for op in operations for check in checks]
        metafunc.parametrize(("operation", "check"), cases, ids=[f"{op}-{c}" for op, c in cases])
    else:
        metafunc.parametrize("operation", operations)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Leave out conformance tests with nothing to judge under the selected operations, checks and tier.

    pytest would show each as an "empty parameter set" skip: noise that no report cell stands for.
    """
    empty = [item for item in items if item.get_closest_marker("conformance") is not None
             and not isinstance(getattr(getattr(item, "callspec", None), "params", {}).get("operation"), str)]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


@pytest.fixture(scope="session")
def conformance(request: pytest.FixtureRequest):
    """The session's conformance run: target, caller, live resources, collector."""
    from .client import TargetUnreachable
    from .run import Run

    config = request.config
    options = _options(config)
    import botocore.exceptions

    try:
        run = Run(options)
    except TargetUnreachable as error:
        _could_not_start(config, f"cannot reach the target {options.endpoint}: {error}", EXIT_UNREACHABLE)
    except (ValueError, KeyError) as error:
        # An unknown profile or another option the target refuses: the command line is at fault.
        _could_not_start(config, str(error), pytest.ExitCode.USAGE_ERROR)
    except (RuntimeError, botocore.exceptions.BotoCoreError) as error:
        # No credentials, a target that cannot start or be provisioned: the run never reached it.
        _could_not_start(config, str(error), EXIT_UNREACHABLE)
    _share_budget(config, run)
    config.stash[RUN_KEY] = run
    yield run
    run.close()


def _share_budget(config: pytest.Config, run) -> None:
    """Split a remote target's WorkSpace budget between pytest-xdist workers, so the sum holds."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None or not run.target.remote:
        return
    count = int(workerinput.get("workercount", 1))
    index = int(str(workerinput.get("workerid", "gw0")).lstrip("gw") or 0)
    budget = run.target.max_workspaces
    run.target.max_workspaces = budget // count + (1 if index < budget % count else 0)




def _could_not_start(config: pytest.Config, message: str, returncode: int) -> None:
    """End a run that never reached its target in one line, leaving the last report where it is."""
    config.stash[UNREACHABLE_KEY] = True
    path = Path(config.getoption("report"))
    kept = (f"the previous report {path} is left in place" if path.exists() else f"no report written to {path}")
    pytest.exit(f"workspaces-conformance: {message} ({kept})", returncode=returncode)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a conformance test once --max-duration is spent; the run still ends with its report and cleanup."""
    seconds = item.config.getoption("max_duration", None)
    started = item.config.stash.get(STARTED_KEY, None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if seconds is None or started is None or not isinstance(params.get("operation"), str):
        return
    from .timing import Budget

    budget = Budget(seconds, started=started)
    if not budget.spent():
        return
    run = item.config.stash.get(RUN_KEY, None)
    if run is not None and not item.config.stash.get(BUDGET_NOTED_KEY, False):
        item.config.stash[BUDGET_NOTED_KEY] = True
        run.collector.notes.append(f"{budget.reason}: the tests from {item.nodeid} on were skipped")
    pytest.skip(budget.reason)


@pytest.fixture
def target_run(conformance, operation):
    """The run, after skipping operations the target does not implement or may not receive."""
    from .behaviour import require

    require(conformance, operation)
    return conformance


# --- outcomes -> report ----------------------------------------------------------------------


def _check_failures(error: BaseException | None) -> list:
    from .checks import CheckFailure

    found, stack, seen = [], [error], set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, CheckFailure):
            found.append(current)
            continue
        stack.extend(getattr(current, "exceptions", ()) or ())
        stack.append(current.__cause__)
        stack.append(current.__context__)
    return found


PROPERTY = "workspaces_conformance"
BASELINE_KEY = pytest.StashKey[set]()
COLLECTOR_KEY = pytest.StashKey[object]()
NOTES_SENT_KEY = pytest.StashKey[int]()
UNREACHABLE_KEY = pytest.StashKey[bool]()


def _is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (its controller writes the report)."""
    return hasattr(config, "workerinput")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Turn a conformance test's outcome into report cells, carried on the test report.

    The cells travel as a user property, so that pytest-xdist brings them from
    its workers to the controller, which alone collects and writes the report.
    """
    outcome = yield
    report = outcome.get_result()
    run = item.config.stash.get(RUN_KEY, None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if run is None or not isinstance(params.get("operation"), str) or not isinstance(params.get("check", ""), str):
        return  # not a conformance test, or an empty parametrization
    _skip_if_not_implemented(item, report, run, params["operation"])
    _plain_skip_reason(call, report)
    _shorten(item, call, report)
    cells: list = []
    notes: list = []
    if not (report.passed and report.when in ("setup", "teardown")):
        cells, notes = _cells(item, call, report, run, params)
    sent = item.config.stash.get(NOTES_SENT_KEY, 0)
    notes += run.collector.notes[sent:]
    item.config.stash[NOTES_SENT_KEY] = len(run.collector.notes)
    if not cells and not notes:
        return
    record = {
        "target": run.collector.target,
        "implemented": {op: run.implemented(op) for op in run.operations},
        "cells": [cell.to_record() for cell in cells],
        "notes": notes,
    }
    import json

    report.user_properties.append((PROPERTY, json.dumps(record, default=str)))
    _expect_by_baseline(item, report, cells)


def _expect_by_baseline(item, report, cells: list) -> None:
    """Count a failed test as expected (xfailed) when the baseline holds every cell it failed, each with its failure."""
    from .report import CellStatus

    baseline = item.config.stash.get(BASELINE_KEY, None)
    failed = [cell for cell in cells if cell.status is CellStatus.FAIL]
    if baseline is not None and report.failed and failed and all(
        cell.failure is not None and (cell.operation, cell.check) in baseline for cell in failed
    ):
        report.outcome = "skipped"
        report.wasxfail = "expected by the baseline"


def _shorten(item, call, report) -> None:
    """Show a check failure as its own message (check, rule, source, request, response, reproduction).

    The traceback through the suite's own frames says nothing about the target;
    ``--tb=long`` (or any style other than the default) still shows it.
    """
    if not report.failed or call.excinfo is None or item.config.getoption("tbstyle", "auto") != "auto":
        return
    failures = _check_failures(call.excinfo.value)
    if not failures:
        return  # an error of the suite or the target's transport: the traceback is the evidence
    # Hypothesis's notes name the suite's inner functions; the failure's request is already the shrunk one.
    blocks = [_rendered(failure, item, index) for index, failure in enumerate(failures, 1)]
    report.longrepr = ("\n\n" + "-" * 40 + "\n\n").join(blocks)


# A reproduction longer than this is written to a file beside the report, and the output names the file.
REPRODUCTION_LINES_SHOWN = 40


def _rendered(failure, item, index: int) -> str:
    """A failure as the terminal shows it: a long reproduction (one that makes state anew) as a file to run."""
    lines = failure.reproduce.count("\n") + 1
    if lines <= REPRODUCTION_LINES_SHOWN:
        return failure.render()
    import re

    folder = Path(item.config.getoption("report")).parent / "reproductions"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.name).strip("-")
    path = folder / f"{name}-{index}.py"
    from .report import write_text

    write_text(failure.reproduce + "\n", path)
    text = failure.render()
    return (text[: text.index("Reproduce with:")] + f"Reproduce with: python {path}\n({lines} lines: it makes "
            "anew what the request depended on; the JSON report holds it too)")


def _skip_if_not_implemented(item, report, run, operation: str) -> None:
    """Show a test of an operation the target lacks as skipped, as its report cell is.

    The report leaves unimplemented operations out of the scores (their cells are
    not_implemented, whatever their tests did); pytest's counts say the same.
    """
    from .coverage import NOT_IMPLEMENTED

    if run.implemented(operation) or report.skipped or (report.passed and report.when != "call"):
        return
    path, line, _ = item.location
    report.outcome = "skipped"
    report.longrepr = (path, (line or 0) + 1, f"Skipped: {NOT_IMPLEMENTED}: {operation} is not implemented by the target")


def _plain_skip_reason(call, report) -> None:
    """Show the reason of a :class:`NotImplementedSkip` as pytest shows any skip's, without the class's name."""
    from .coverage import NotImplementedSkip

    error = call.excinfo.value if call.excinfo is not None else None
    if report.skipped and isinstance(error, NotImplementedSkip) and isinstance(report.longrepr, tuple):
        path, line, _ = report.longrepr
        report.longrepr = (path, line, f"Skipped: {error.msg}")


def _lacks_an_operation(call, run, operation: str) -> bool:
    """Whether a test could not judge because the target lacks an operation: its own, or one it needed."""
    from .coverage import NotImplementedSkip

    error = call.excinfo.value if call.excinfo is not None else None
    return not run.implemented(operation) or isinstance(error, NotImplementedSkip)


def _cells(item, call, report, run, params) -> tuple[list, list]:
    """The report cells (see :class:`report.Cell`) and notes of one test phase."""
    from .report import Cell, CellStatus

    operation = params["operation"]
    checks = [params["check"]] if "check" in params else item.get_closest_marker("conformance").kwargs.get("checks", [])
    checks = [check for check in checks if run.options.runs_check(check)]
    if report.skipped:
        status = CellStatus.NOT_IMPLEMENTED if _lacks_an_operation(call, run, operation) else CellStatus.SKIP
        return [Cell(operation, check, status) for check in checks], []
    if report.passed:
        return [Cell(operation, check, CellStatus.PASS) for check in checks], []
    return _failed_cells(item, call, run, operation, checks)


def _failed_cells(item, call, run, operation: str, checks: list[str]) -> tuple[list, list]:
    """The cells of a failed test: those its check failures name fail, the test's other checks pass.

    A failure names the cell it belongs to; a test spanning operations may blame
    another one. A test that failed without a check failure (an error of the suite
    or of the target's transport) fails all its cells, and a note says why.
    """
    from .client import redact, redact_text
    from .report import Cell, CellStatus

    failures = _check_failures(call.excinfo.value if call.excinfo else None)
    seed = _seed(item.config)
    secrets = run.caller.secrets()
    entries = [redact(dict(failure.to_report(), seed=seed, test=item.nodeid), secrets) for failure in failures]
    if not entries:
        note = redact_text(f"{item.nodeid}: error in the suite or target: {call.excinfo.exconly()[:500]}", secrets)
        return [Cell(operation, check, CellStatus.FAIL) for check in checks], [note]
    cells = [Cell(e["operation"], e["check"], CellStatus.FAIL, e) for e in entries]
    failed = {(e["operation"], e["check"]) for e in entries}
    cells += [Cell(operation, check, CellStatus.PASS) for check in checks if (operation, check) not in failed]
    return cells, []


class Progress:
    """A line now and then on runs slower than a few seconds: tests done of the total, and a time estimate.

    A rate-limited run on a real account otherwise shows only dots for many minutes.
    """

    FIRST_AFTER_S = 10.0
    EVERY_S = 30.0

    def __init__(self, config: pytest.Config | None, total: int, clock=None) -> None:
        import time

        self.config, self.total, self.done = config, total, 0
        self._clock = clock or time.monotonic
        self.started = self._clock()
        self.next_line = self.started + self.FIRST_AFTER_S

    def finished_one(self) -> str | None:
        """Count a finished test; the line to print when one is due."""
        self.done += 1
        now = self._clock()
        if now < self.next_line or self.done >= self.total:
            return None
        self.next_line = now + self.EVERY_S
        elapsed = now - self.started
        left = elapsed / self.done * (self.total - self.done)
        return (f"progress: {self.done}/{self.total} tests, {_duration(elapsed)} elapsed, "
                f"about {_duration(left)} left")


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def pytest_collection_finish(session: pytest.Session) -> None:
    if _runs_conformance(session.config) and not _is_worker(session.config) and session.items:
        _CONTROLLER["progress"] = Progress(session.config, len(session.items))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    """Under pytest-xdist the controller learns the number of tests from its workers."""
    if "progress" not in _CONTROLLER and _runs_conformance(node.config):
        _CONTROLLER["progress"] = Progress(node.config, len(ids))


def _report_progress(report: pytest.TestReport) -> None:
    progress = _CONTROLLER.get("progress")
    if progress is None or report.when != "teardown":
        return
    line = progress.finished_one()
    reporter = progress.config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None and not progress.config.getoption("collectonly", False):
        reporter.write("\n")  # the dots of finished tests do not end their line
        reporter.write_line(line)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the cells a test report carries (in the controller, or in a serial run)."""
    _report_progress(report)
    properties = [value for name, value in getattr(report, "user_properties", ()) if name == PROPERTY]
    if not properties:
        return
    import json

    from .report import Cell

    collector = _CONTROLLER.get("collector")
    if collector is None:
        return
    for value in properties:
        record = json.loads(value)
        if record.get("target"):
            collector.target = record["target"]
        for operation, implemented in record["implemented"].items():
            collector.set_implemented(operation, implemented)
        for cell in record["cells"]:
            collector.record(Cell.from_record(cell))
        collector.notes.extend(record["notes"])


# pytest_runtest_logreport has no access to the config: the controller's collector lives here.
_CONTROLLER: dict = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not _runs_conformance(config):
        return
    path = config.getoption("baseline", None)
    if path:
        from .report import cell_failures, load

        config.stash[BASELINE_KEY] = cell_failures(load(path))
    if _is_worker(config):
        return
    from . import targets
    from .report import Collector, contract_record
    from .run import TOOL_VERSION

    options = _options(config)
    try:
        operations = targets.operations_under_test(options.operations)
    except (KeyError, ValueError):
        return  # reported as a usage error at collection
    kind = options.endpoint if options.endpoint in ("emulator", "moto") else "url"
    _CONTROLLER["collector"] = Collector(
        tool_version=TOOL_VERSION,
        contract=contract_record(),
        target={"endpoint": options.endpoint, "kind": kind},
        seed=options.seed,
        operations=operations,
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    _CONTROLLER.pop("progress", None)
    collector = _CONTROLLER.pop("collector", None)
    if collector is None or _is_worker(session.config) or session.config.stash.get(UNREACHABLE_KEY, False):
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if not any(entry["checks"] for entry in collector.operations.values()) and not interrupted:
        return  # no conformance test ran (e.g. collection only)
    if interrupted:
        collector.notes.append("interrupted: the run stopped before its end; cells not listed did not run")
    from . import report as reports

    data = collector.to_dict()
    reports.validate(data)
    session.config.stash[REPORT_KEY] = data
    reports.write_json(data, session.config.getoption("report"))
    markdown_path = session.config.getoption("report_md")
    if markdown_path:
        reports.write_text(reports.markdown(data), markdown_path)


REPORT_KEY = pytest.StashKey[dict]()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    data = config.stash.get(REPORT_KEY, None)
    if data is None:
        return
    from . import report as reports

    terminalreporter.section("WorkSpaces conformance")
    for line in reports.summary_table(data):
        terminalreporter.write_line(line)
    baseline = config.stash.get(BASELINE_KEY, None)
    if baseline is not None:
        expected = len(reports.cell_failures(data) & baseline)
        terminalreporter.write_line(f"expected by the baseline: {expected} of the {data['summary']['checks']['failed']} "
                                    "failed cells (pytest counts them as xfailed)")
        tested = {(op, check) for op, entry in data["operations"].items() for check in entry["checks"]}
        fixed = sorted((baseline & tested) - reports.cell_failures(data))
        if fixed:
            terminalreporter.write_line(f"fixed since the baseline ({len(fixed)}), the baseline can shrink:")
            for op, check in fixed:
                terminalreporter.write_line(f"  {op} {check}")
    from .leftovers import KEPT

    # What the run left on its target, and how to remove it, must not hide in the report alone.
    for note in data.get("notes", []):
        if note.startswith(f"{KEPT}:") or (note.startswith("cleanup") and "python -m conformance sweep" in note):
            terminalreporter.write_line(note)
    terminalreporter.write_line(f"report: {config.getoption('report')}")
