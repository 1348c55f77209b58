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

PACKAGE_DIR = Path(__file__).resolve().parent
GROUP = "workspaces-conformance"
CHECKS_KEY = pytest.StashKey[list]()
RUN_KEY = pytest.StashKey[object]()


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
    group.addoption("--report", default="reports/conformance.json",
                    help="path of the JSON report (default reports/conformance.json)")
    group.addoption("--report-md", default=None, help="path of a Markdown report")
    group.addoption("--baseline", default=None,
                    help="a previous JSON report: its failures are expected, new ones fail the run")
    group.addoption("--request-timeout", type=float, default=30.0, help="seconds to wait for each response")
    group.addoption("--rate-limit", type=float, default=None,
                    help="requests per second, bursts of 5 (default: 2 for remote targets, unlimited on loopback)")
    group.addoption("--emulator-fault", action="append", default=[], metavar="NAME",
                    help="switch on a fault of the embedded emulator (repeatable)")
    group.addoption("--contract", default="committed", choices=("committed", "installed"),
                    help="judge by the committed, reviewed specs (default) or by specs derived from the "
                         "installed botocore's model for this run")


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

    options = _options(config)
    try:
        targets.operations_under_test(options.operations)
        if options.endpoint not in ("emulator", "moto"):
            targets.url_target(options.endpoint)
    except (KeyError, ValueError) as error:
        raise pytest.UsageError(f"workspaces-conformance: {error}") from None


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _interrupt_on_sigterm() -> None:
    """Turn SIGTERM into an interrupt, so the run cleans up and writes its report as on Ctrl-C."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


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

    operations = config.getoption("operations")
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
        operations=[o.strip() for o in operations.split(",") if o.strip()] if operations else None,
        tier=config.getoption("tier"),
        request_timeout=config.getoption("request_timeout"),
        rate_limit=config.getoption("rate_limit"),
        emulator_faults=tuple(config.getoption("emulator_fault")),
        seed=_seed(config),
    )


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
        _write_unreachable_report(config, options, f"target unreachable: {error}")
        config.stash[UNREACHABLE_KEY] = True
        pytest.exit(f"workspaces-conformance: cannot reach the target {options.endpoint}: {error}", returncode=4)
    except (ValueError, KeyError, RuntimeError, botocore.exceptions.BotoCoreError) as error:
        # Bad credentials, an unknown profile, a target that cannot start: one line, exit 4, a report.
        _write_unreachable_report(config, options, f"cannot start: {error}")
        config.stash[UNREACHABLE_KEY] = True
        pytest.exit(f"workspaces-conformance: {error}", returncode=4)
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


def _write_unreachable_report(config: pytest.Config, options, note: str) -> None:
    """Even a run that never reached its target leaves a report saying why."""
    from . import report as reports
    from .run import TOOL_VERSION
    from .targets import operations_under_test, url_target

    kind = options.endpoint if options.endpoint in ("emulator", "moto") else url_target(options.endpoint).kind
    collector = reports.Collector(
        tool_version=TOOL_VERSION,
        contract=reports.contract_record(),
        target={"endpoint": options.endpoint, "kind": kind},
        seed=options.seed,
        operations=operations_under_test(options.operations),
    )
    for operation in collector.operations:
        collector.set_implemented(operation, False)
    collector.notes.append(note)
    reports.write_json(collector.to_dict(), config.getoption("report"))


@pytest.fixture
def target_run(conformance, operation):
    """The run, after skipping operations the target does not implement or may not receive."""
    if not conformance.implemented(operation):
        pytest.skip(f"not implemented: {operation} is not implemented by the target")
    if not conformance.may_send(operation):
        pytest.skip(f"read-only: {operation} may change resources; pass --allow-mutations")
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
        "cells": cells,
        "notes": notes,
    }
    import json

    report.user_properties.append((PROPERTY, json.dumps(record, default=str)))
    baseline = item.config.stash.get(BASELINE_KEY, None)
    failed = [cell for cell in cells if cell[2] == "fail"]
    if baseline is not None and report.failed and failed and all(
        cell[3] is not None and (cell[0], cell[1]) in baseline for cell in failed
    ):
        report.outcome = "skipped"
        report.wasxfail = "expected by the baseline"


def _cells(item, call, report, run, params) -> tuple[list, list]:
    """[(operation, check, status, failure entry or None)] and notes for one test phase."""
    operation = params["operation"]
    options = run.options
    checks = [params["check"]] if "check" in params else item.get_closest_marker("conformance").kwargs.get("checks", [])
    checks = [check for check in checks if options.runs_check(check)]
    if report.skipped:
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        status = "not_implemented" if "not implemented" in reason else "skip"
        return [(operation, check, status, None) for check in checks], []
    if report.passed:
        return [(operation, check, "pass", None) for check in checks], []
    from .client import redact, redact_text

    failures = _check_failures(call.excinfo.value if call.excinfo else None)
    seed = _seed(item.config)
    secrets = run.caller.secrets()
    entries = [redact(dict(failure.to_report(), seed=seed, test=item.nodeid), secrets) for failure in failures]
    notes = [] if failures else [
        redact_text(f"{item.nodeid}: error in the suite or target: {call.excinfo.exconly()[:500]}", secrets)
    ]
    # A failure names the cell it belongs to; a test spanning operations may blame another one.
    cells = [(e["operation"], e["check"], "fail", e) for e in entries]
    failed_cells = {(e["operation"], e["check"]) for e in entries}
    for check in checks:
        if not entries:
            cells.append((operation, check, "fail", None))
        elif (operation, check) not in failed_cells:
            cells.append((operation, check, "pass", None))
    return cells, notes


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the cells a test report carries (in the controller, or in a serial run)."""
    properties = [value for name, value in getattr(report, "user_properties", ()) if name == PROPERTY]
    if not properties:
        return
    import json

    collector = _CONTROLLER.get("collector")
    if collector is None:
        return
    for value in properties:
        record = json.loads(value)
        if record.get("target"):
            collector.target = record["target"]
        for operation, implemented in record["implemented"].items():
            collector.set_implemented(operation, implemented)
        for operation, check, status, entry in record["cells"]:
            collector.record(operation, check, status, [entry] if entry else [])
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
        Path(markdown_path).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown_path).write_text(reports.markdown(data), encoding="utf-8")


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
        tested = {(op, check) for op, entry in data["operations"].items() for check in entry["checks"]}
        fixed = sorted((baseline & tested) - reports.cell_failures(data))
        if fixed:
            terminalreporter.write_line(f"fixed since the baseline ({len(fixed)}), the baseline can shrink:")
            for op, check in fixed:
                terminalreporter.write_line(f"  {op} {check}")
    terminalreporter.write_line(f"report: {config.getoption('report')}")
