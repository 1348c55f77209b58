"""One conformance run: its options, its target, and the parts that work on the target.

The pytest plugin builds a :class:`Run` once per session; the conformance tests
send requests and judge exchanges through it. Each part has one job:
:class:`~conformance.coverage.Coverage` (which operations the target implements),
:class:`~conformance.safety.RemoteGuard` (what a remote target may receive),
:class:`~conformance.sending.Sender` (requests and their exchanges),
:class:`~conformance.resources.Resources` (live resources, the WorkSpace budget) and
:class:`~conformance.leftovers.Leftovers` (what the run made, removed at its end).
"""
from __future__ import annotations

import dataclasses

import specs

from . import checks, targets
from .checks import TIERS, CheckFailure, Exchange
from .client import Caller, reproduce_call
from .coverage import Coverage
from .leftovers import KEPT, Leftovers
from .replay import Ledger
from .report import Collector, contract_record
from .resources import Resources
from .safety import RemoteGuard, UnsafeRequest
from .sending import Sender
from .timing import Timing

# Names other modules import from here (KEPT and UnsafeRequest live with the parts they belong to).
__all__ = ["KEPT", "TOOL_VERSION", "Options", "Run", "UnsafeRequest", "checks_selected", "start_target"]

TOOL_VERSION = "0.2.0"


@dataclasses.dataclass
class Options:
    """The suite's command-line options, as a plain object."""

    endpoint: str = "emulator"
    region: str = "us-east-1"
    profile: str | None = None
    allow_mutations: bool = False
    assume_remote: bool = False
    max_workspaces: int | None = None
    directory_id: str | None = None
    bundle_id: str | None = None
    user_name: str | None = None
    operations: list[str] | None = None
    tier: str = "strict"
    checks: tuple[str, ...] | None = None  # --checks: only these (within the tier); None: all of the tier
    request_timeout: float = 30.0
    rate_limit: float | None = None
    emulator_faults: tuple[str, ...] = ()
    seed: int | str | None = None
    keep_resources: bool = False  # --keep-resources: leave what the run created, for inspection
    time_scale: float | None = None  # --time-scale: rules.json deadlines times this factor, on any target
    max_duration: float | None = None  # --max-duration: seconds the whole run may take; the rest is skipped
    started: float | None = None  # time.monotonic() when the run began, which --max-duration counts from

    def tiers(self) -> tuple[str, ...]:
        """The tiers whose checks run: a tier includes those below it."""
        return TIERS[: TIERS.index(self.tier) + 1]

    def runs_check(self, check: str) -> bool:
        """Whether ``check`` runs: its tier is selected, and ``--checks`` (when given) names it."""
        return checks.CHECKS[check].tier in self.tiers() and (self.checks is None or check in self.checks)


def checks_selected(selected: list[str] | None) -> tuple[str, ...] | None:
    """The check names of ``--checks``, every bad name reported at once (None: not given)."""
    if selected is None:
        return None
    names = list(checks.CHECKS)
    if not selected:
        raise ValueError(f"Expected check names in --checks but got checks=''; choose among: {', '.join(names)}")
    problems = specs.unknown_names("check name", selected, names)
    if problems:
        raise ValueError(" ".join(problems) + f" The checks are: {', '.join(names)}.")
    return tuple(dict.fromkeys(selected))


def start_target(options: Options) -> targets.Target:
    """The target of ``options``, started (an in-process one) or connected, with the run's limits set."""
    connection = {"region": options.region, "timeout": options.request_timeout}
    if options.rate_limit is not None:
        connection["rate_limit"] = options.rate_limit
    if options.endpoint == "emulator":
        target = targets.start_emulator(faults=options.emulator_faults, **connection)
    elif options.endpoint == "moto":
        target = targets.start_moto(**connection)
    else:
        target = targets.url_target(
            options.endpoint, assume_remote=options.assume_remote, profile=options.profile, **connection
        )
    _limit(target, options)
    _place(target, options)
    return target


def _limit(target: targets.Target, options: Options) -> None:
    """Whether the run may change anything on ``target``, how many WorkSpaces it may create, how fast it may ask."""
    if target.remote:
        if options.rate_limit is None:
            target.connection.rate_limit = 2.0  # the documented WorkSpaces API rate, bursts of 5
        target.allow_mutations = options.allow_mutations
        target.max_workspaces = 1 if options.max_workspaces is None else options.max_workspaces
        return
    target.allow_mutations = True
    # In-process targets are ours to fill; someone else's mock on loopback gets a modest budget.
    default_budget = 1000 if target.kind in ("emulator", "moto") else 50
    target.max_workspaces = default_budget if options.max_workspaces is None else options.max_workspaces


def _place(target: targets.Target, options: Options) -> None:
    """Where the run's own WorkSpaces go: the directory, bundle and users the options name, if any."""
    target.directory_id = options.directory_id or target.directory_id
    target.bundle_id = options.bundle_id or target.bundle_id
    # --user-name may list several users (a,b): a real directory needs one user per new WorkSpace.
    names = [name.strip() for name in (options.user_name or "").split(",") if name.strip()]
    target.user_names = names
    target.user_name = names[0] if names else target.user_name


class Run:
    """One conformance run against one target, composed of parts with one job each.

    ``coverage`` knows which operations the target implements, ``guard`` what a
    remote target may receive, ``sender`` sends requests and returns exchanges,
    ``resources`` discovers and pools live resources and creates WorkSpaces within
    the budget, ``leftovers`` removes what the run made. The methods below are the
    surface the conformance tests use.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.operations = targets.operations_under_test(options.operations)
        self.target = start_target(options)
        try:
            self._assemble()
            self.coverage.probe(self.operations, self.resources.discover())
        except BaseException:
            self.target.stop()
            raise

    def _assemble(self) -> None:
        options, target = self.options, self.target
        self.caller = Caller(target.connection)
        # Told of every exchange, so a reproduction can rebuild what its request depends on.
        self.ledger = Ledger(remote=target.remote)
        self.caller.observer = self.ledger
        self.collector = Collector(
            tool_version=TOOL_VERSION, contract=contract_record(), seed=options.seed, operations=self.operations,
            target={"endpoint": target.endpoint, "kind": target.kind, "faults": list(target.faults),
                    "remote": target.remote},
        )
        # Deadlines fitted to the target, the --max-duration budget, what lifecycle polls saw.
        self.timing = Timing(remote=target.remote, time_scale=options.time_scale,
                             max_duration=options.max_duration, started=options.started)
        self.guard = RemoteGuard(target)
        self.coverage = Coverage(self.caller, target, self.guard, self.collector)
        self.leftovers = Leftovers(target, self.caller, self.guard, self.coverage, self.collector.notes,
                                   keep=options.keep_resources)
        self.sender = Sender(self.caller, target, self.ledger, self.guard, self.leftovers)
        self.resources = Resources(target, self.caller, self.guard, self.sender, self.coverage, self.timing)

    # --- coverage and safety ----------------------------------------------------------------

    def implemented(self, operation: str) -> bool:
        """Whether the target implements ``operation``."""
        return self.coverage.implemented(operation)

    @property
    def probe_answers(self) -> dict[str, str]:
        """Operation -> the last probe's response, described."""
        return self.coverage.answers

    def may_send(self, operation: str) -> bool:
        """Whether this run may send requests to ``operation`` at all."""
        return self.guard.may_send(operation)

    # --- live resources ---------------------------------------------------------------------

    def pool(self, *, workspaces: int = 3, operation: str | None = None):
        """Live resources for generated requests to ``operation`` (see :meth:`Resources.pool`)."""
        return self.resources.pool(workspaces=workspaces, operation=operation)

    def settle_for(self, operation: str, pool) -> None:
        """Wait for a WorkSpace of ``pool`` that ``operation`` may act on (see :meth:`Resources.settle_for`)."""
        self.resources.settle_for(operation, pool)

    def create_workspaces(self, entries: list[dict]) -> Exchange | None:
        """WorkSpaces the suite itself needs, within the budget (see :meth:`Resources.create_workspaces`)."""
        return self.resources.create_workspaces(entries)

    @property
    def known_ids(self) -> frozenset | None:
        """The ids of directories, bundles and WorkSpaces the target was last seen to hold."""
        return self.sender.known_ids

    # --- sending and failures ---------------------------------------------------------------

    def call(self, operation: str, params: dict) -> Exchange:
        """Send ``params`` to ``operation`` through boto3 and return the exchange."""
        return self.sender.call(operation, params)

    def send_invalid(self, invalid) -> Exchange:
        """Send an ``InvalidRequest`` through boto3, or raw when boto3 cannot carry it."""
        return self.sender.send_invalid(invalid)

    def send_case(self, case) -> Exchange:
        """Send a boundary case (raw or through boto3)."""
        return self.sender.send_case(case)

    def failure(self, check: str, rule: str, title: str, message: str, *, exchange: Exchange | None = None,
                operation: str | None = None) -> CheckFailure:
        """A failure of a behaviour check (see :func:`checks.failure`), with ``exchange`` as its evidence.

        Its reproduction rebuilds everything the exchange's answer lists; without an
        exchange, the operation's simplest call stands in as the way to look again.
        """
        return checks.failure(
            check, rule, title, message, exchange=exchange, operation=operation, listing=True,
            reproduce=None if exchange else reproduce_call(self.target.connection, operation, {}),
        )

    # --- the end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove what this run created (on every kind of target, unless --keep-resources), then stop the target.

        Runs at the end of the session, after a failure and after Ctrl-C or SIGTERM
        (the plugin turns SIGTERM into an interrupt); a further signal during the
        cleanup is deferred once, so an impatient second Ctrl-C does not leak WorkSpaces.
        """
        note = self.sender.throttling_note()
        if note:
            self.collector.notes.append(note)
        try:
            self.leftovers.remove()
        finally:
            try:
                self.caller.close()
            finally:
                self.target.stop()

    def sweep_command(self) -> str:
        """The command that removes, later, what this run left on its target."""
        return self.leftovers.sweep_command()
