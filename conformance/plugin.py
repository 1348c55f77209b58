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
    group.addoption("--user-name", default=None, help="a directory user for new WorkSpaces on URL targets")
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
        seed=config.getoption("hypothesis_seed", None),
    )


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
    try:
        run = Run(options)
    except TargetUnreachable as error:
        _write_unreachable_report(config, options, error)
        pytest.exit(f"workspaces-conformance: cannot reach the target {options.endpoint}: {error}", returncode=4)
    except (ValueError, KeyError, RuntimeError) as error:
        raise pytest.UsageError(f"workspaces-conformance: {error}") from None
    config.stash[RUN_KEY] = run
    yield run
    run.close()


def _write_unreachable_report(config: pytest.Config, options, error: Exception) -> None:
    """Even a run that never reached its target leaves a report saying why."""
    import specs

    from . import report as reports
    from .run import TOOL_VERSION
    from .targets import operations_under_test, url_target

    kind = options.endpoint if options.endpoint in ("emulator", "moto") else url_target(options.endpoint).kind
    info = specs.model_info()
    collector = reports.Collector(
        tool_version=TOOL_VERSION,
        contract={"service": "workspaces", "api_version": info["api_version"], "botocore": info["botocore"]},
        target={"endpoint": options.endpoint, "kind": kind},
        seed=options.seed,
        operations=operations_under_test(options.operations),
    )
    for operation in collector.operations:
        collector.set_implemented(operation, False)
    collector.notes.append(f"target unreachable: {error}")
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    run = item.config.stash.get(RUN_KEY, None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if run is None or not isinstance(params.get("operation"), str) or not isinstance(params.get("check", ""), str):
        return  # not a conformance test, or an empty parametrization
    if report.when == "setup" and report.passed:
        return
    if report.when == "teardown" and report.passed:
        return
    operation = params["operation"]
    checks = [params["check"]] if "check" in params else item.get_closest_marker("conformance").kwargs.get("checks", [])
    if report.skipped:
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        status = "not_implemented" if "not implemented" in reason else "skip"
        for check in checks:
            run.collector.record(operation, check, status)
        return
    if report.passed:
        for check in checks:
            run.collector.record(operation, check, "pass")
        return
    failures = _check_failures(call.excinfo.value if call.excinfo else None)
    secrets = run.caller.secrets()
    from .client import redact

    seed = item.config.getoption("hypothesis_seed", None)
    entries = []
    for failure in failures:
        entry = failure.to_report()
        entry["seed"] = seed
        entry["test"] = item.nodeid
        entry = redact(entry, secrets)
        entries.append(entry)
    if not failures:
        run.collector.notes.append(f"{item.nodeid}: error in the suite or target: {call.excinfo.exconly()[:500]}")
    # A failure names the cell it belongs to; a test spanning operations may blame another one.
    for entry in entries:
        run.collector.record(entry["operation"], entry["check"], "fail", [entry])
    failed_cells = {(e["operation"], e["check"]) for e in entries}
    for check in checks:
        if not entries:
            run.collector.record(operation, check, "fail")
        elif (operation, check) not in failed_cells:
            run.collector.record(operation, check, "pass")
    baseline = item.config.stash.get(BASELINE_KEY, None)
    if baseline is not None and failures and all((e["operation"], e["check"]) in baseline for e in entries):
        report.outcome = "skipped"
        report.wasxfail = "expected by the baseline"


BASELINE_KEY = pytest.StashKey[set]()


def pytest_sessionstart(session: pytest.Session) -> None:
    path = session.config.getoption("baseline", None)
    if path and _runs_conformance(session.config):
        from .report import cell_failures, load

        session.config.stash[BASELINE_KEY] = cell_failures(load(path))


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    from . import report as reports

    data = run.collector.to_dict()
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
