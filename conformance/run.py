"""One conformance run: the target, the caller, live resources and the report collector.

The pytest plugin builds a :class:`Run` once per session; the conformance tests
send requests and judge exchanges through it.
"""
from __future__ import annotations

import dataclasses
import json
import time

import pytest

import specs
from strategies import to_boto3
from strategies.wire import boto3_sends_exactly, encode

from . import targets
from .cleanup import cleanup_run, deferred_signals, live_workspaces, run_tags, tagged_workspaces
from .checks import CHECK_TIERS, THROTTLING_CODES, TIERS, CheckFailure, Exchange
from .client import Caller, TargetUnreachable, reproduce_call, reproduce_raw
from .replay import Ledger
from .report import Collector, contract_record
from .timing import Timing

TOOL_VERSION = "0.2.0"
# How a note about --keep-resources begins; the terminal summary repeats such notes.
KEPT = "kept"
# How a skip says the target lacks the operation; the report counts such cells as not_implemented.
NOT_IMPLEMENTED = "not implemented"


def is_mutating(operation: str | None) -> bool:
    """Whether an operation can create or change anything (everything but Describe*)."""
    return not (operation or "").startswith("Describe")


class UnsafeRequest(RuntimeError):
    """The suite was about to send a request a remote target must never receive (a bug of the suite)."""


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
        return CHECK_TIERS[check] in self.tiers() and (self.checks is None or check in self.checks)


def checks_selected(selected: list[str] | None) -> tuple[str, ...] | None:
    """The check names of ``--checks``, every bad name reported at once (None: not given)."""
    if selected is None:
        return None
    if not selected:
        raise ValueError(f"Expected check names in --checks but got checks=''; choose among: {', '.join(CHECK_TIERS)}")
    problems = specs.unknown_names("check name", selected, list(CHECK_TIERS))
    if problems:
        raise ValueError(" ".join(problems) + f" The checks are: {', '.join(CHECK_TIERS)}.")
    return tuple(dict.fromkeys(selected))


def start_target(options: Options) -> targets.Target:
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
    if target.remote:
        if options.rate_limit is None:
            target.connection.rate_limit = 2.0  # the documented WorkSpaces API rate, bursts of 5
        target.allow_mutations = options.allow_mutations
        target.max_workspaces = 1 if options.max_workspaces is None else options.max_workspaces
    else:
        target.allow_mutations = True
        # In-process targets are ours to fill; someone else's mock on loopback gets a modest budget.
        default_budget = 1000 if target.kind in ("emulator", "moto") else 50
        target.max_workspaces = default_budget if options.max_workspaces is None else options.max_workspaces
    target.directory_id = options.directory_id or target.directory_id
    target.bundle_id = options.bundle_id or target.bundle_id
    # --user-name may list several users (a,b): a real directory needs one user per new WorkSpace.
    names = [name.strip() for name in (options.user_name or "").split(",") if name.strip()]
    target.user_names = names
    target.user_name = names[0] if names else target.user_name
    return target


def with_run_tags(entry: dict, run_id: str) -> dict:
    """A CreateWorkspaces entry carrying the run's tags (replacing any tag with the same keys)."""
    ours = run_tags(run_id)
    keys = {tag["Key"] for tag in ours}
    kept = [t for t in entry.get("Tags") or [] if not (isinstance(t, dict) and t.get("Key") in keys)]
    return dict(entry, Tags=kept + ours)


class Run:
    """The state of one conformance run against one target."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.operations = targets.operations_under_test(options.operations)
        self._installed_model_differs = specs.drift() is not None
        self.target = start_target(options)
        try:
            self.caller = Caller(self.target.connection)
            # Told of every exchange, so a reproduction can rebuild what its request depends on.
            self.ledger = Ledger(remote=self.target.remote)
            self.caller.observer = self.ledger
            self.collector = Collector(
                tool_version=TOOL_VERSION,
                contract=contract_record(),
                target={
                    "endpoint": self.target.endpoint,
                    "kind": self.target.kind,
                    "faults": list(self.target.faults),
                    "remote": self.target.remote,
                },
                seed=options.seed,
                operations=self.operations,
            )
            self.known_ids: frozenset | None = None
            # Ids of the remote target's resources this run did not create: no mutating request may name them.
            self.foreign: set[str] = set()
            self.probe_answers: dict[str, str] = {}  # operation -> the last probe's response, described
            self.untagged: set[str] = set()  # WorkSpaces of generated requests the target would not tag
            # Deadlines fitted to the target, the --max-duration budget, what lifecycle polls saw.
            self.timing = Timing(remote=self.target.remote, time_scale=options.time_scale,
                                 max_duration=options.max_duration, started=options.started)
            self._probe()
        except BaseException:
            self.target.stop()
            raise

    # --- coverage -------------------------------------------------------------------------

    def _probe(self) -> None:
        pool = self._discover()
        for operation in self.operations:
            if self.target.remote and not self.target.allow_mutations and is_mutating(operation):
                implemented = True  # not probed: read-only mode sends no mutating request
            else:
                answers = []
                # On a remote target mutating probes name only ids that exist nowhere.
                probe_pool = None if self.target.remote and is_mutating(operation) else pool
                implemented = targets.probe_implemented(self.caller, operation, probe_pool, answers)
                if answers:
                    self.probe_answers[operation] = answers[-1].describe(300)
            self.collector.set_implemented(operation, implemented)
            if not implemented:
                self.caller.unimplemented.add(operation)
                answer = self.probe_answers.get(operation)
                self.collector.notes.append(f"{NOT_IMPLEMENTED}: {operation}" + (f" answered {answer}" if answer else ""))

    def implemented(self, operation: str) -> bool:
        return operation not in self.caller.unimplemented

    def may_send(self, operation: str) -> bool:
        """Whether this run may send requests to ``operation`` at all."""
        return self.target.allow_mutations or not is_mutating(operation)

    # --- live resources ---------------------------------------------------------------------

    def _discover(self):
        pool = targets.discover(self.caller, self.target)
        if self.target.remote:
            live = set(pool.directories) | set(pool.bundles) | set(pool.workspaces) | set(pool.images) \
                | set(pool.ip_groups) | set(pool.connection_aliases)
            self.foreign |= live - set(self.target.created)
        return pool

    def pool(self, *, workspaces: int = 3, operation: str | None = None):
        """Live resources of the target, refreshed, with at least ``workspaces`` of the run's own where allowed.

        Give ``operation`` when the pool feeds generated requests to it: on a remote
        target a mutating operation gets only the WorkSpaces this run created, so no
        generated request names anything else, and CreateWorkspaces gets no live
        directory, so every generated create names a directory that exists nowhere.
        """
        pool = self._discover()
        self._ensure_workspaces(pool, workspaces)
        self.known_ids = frozenset(pool.directories) | frozenset(pool.bundles) | frozenset(pool.workspaces)
        if self.target.remote and operation is not None and is_mutating(operation):
            from strategies import ResourcePool

            return ResourcePool(workspaces=[w for w in pool.workspaces if w in self.target.created])
        return pool

    def settle_for(self, operation: str, pool) -> None:
        """Wait until one of the pool's WorkSpaces is in a state ``operation`` accepts, if waiting can bring one.

        A new WorkSpace is PENDING; an action whose cited precondition wants it
        AVAILABLE would refuse every valid request drawn before it settles, and
        the refusals would be the timing's doing, not the target's.
        """
        allowed = {state for rule in specs.rules()["preconditions"] if rule.get("operation") == operation
                   for state in rule.get("allowed_states", [])}
        settled = specs.rule("timing.create")["transition"][-1]
        if settled not in allowed or not pool.workspaces:
            return
        # Real targets take the documented time, loopback ones the deadline fitted to them; a mock whose
        # WorkSpaces never settle shows it in the lifecycle checks.
        rule = specs.rule("timing.create")
        limit = self.timing.deadlines.deadline(rule["deadline_seconds"], rule["id"]).seconds
        deadline = time.monotonic() + limit
        while not self.timing.budget.spent():
            body = self.caller.call("DescribeWorkspaces", {"WorkspaceIds": pool.workspaces[:25]}).json
            states = {w.get("WorkspaceId"): w.get("State") for w in (body.get("Workspaces") or [])
                      if isinstance(w, dict) and isinstance(w.get("WorkspaceId"), str)} if isinstance(body, dict) else {}
            if set(states.values()) & allowed:
                return
            now = time.monotonic()
            # WorkSpaces an earlier test already waited for past the deadline are not waited for again.
            latest = max((self.timing.deadlines.shown(w, str(s), now) for w, s in states.items()), default=now)
            if now >= deadline or now - latest >= limit:
                self.timing.deadlines.overdue(rule["id"])
                return
            time.sleep(15.0 if self.target.remote else 0.05)

    def _ensure_workspaces(self, pool, count: int) -> None:
        own = [w for w in pool.workspaces if w in self.target.created] if self.target.remote else pool.workspaces
        missing = min(count - len(own), self.target.room())
        if missing <= 0 or not self.may_send("CreateWorkspaces") or not self.implemented("CreateWorkspaces"):
            return
        entries = targets.workspace_requests(self.target, pool, missing)
        exchange = self.create_workspaces(entries) if entries else None
        if exchange is None:
            return
        body = exchange.response.json if isinstance(exchange.response.json, dict) else {}
        for pending in body.get("PendingRequests") or []:
            if isinstance(pending, dict) and isinstance(pending.get("WorkspaceId"), str):
                pool.workspaces.append(pending["WorkspaceId"])
                if isinstance(pending.get("UserName"), str):
                    pool.user_names.append(pending["UserName"])

    def create_workspaces(self, entries: list[dict]) -> Exchange | None:
        """CreateWorkspaces for WorkSpaces the suite itself needs: within the budget and tagged with the run id.

        Returns None when the budget (``--max-workspaces``) has no room for all of
        ``entries``. Every WorkSpace the target reports created is recorded in
        ``target.created`` for cleanup; an answer that is lost marks the target for
        a cleanup by tag.
        """
        if not entries:
            raise ValueError(f"Expected at least one CreateWorkspaces entry but got entries={entries!r}")
        granted = self.target.reserve(len(entries))
        if granted < len(entries):
            self.target.release(granted)  # all or nothing: give the partial claim back
            return None
        params = {"Workspaces": [with_run_tags(entry, self.target.run_id) for entry in entries]}
        answered = False
        try:
            exchange = self._exchange("CreateWorkspaces", params, own_create=True)
            answered = True
        finally:
            if not answered:  # a timeout or an interrupt: the WorkSpaces may exist all the same
                self.target.uncertain = True
        self.target.record_creation(granted, exchange.response)
        return exchange

    # --- safety on remote targets ----------------------------------------------------------

    def _guard(self, operation: str | None, text: str, *, own_create: bool = False) -> None:
        """Refuse a mutating request to a remote target that is read-only, or that names what is not ours."""
        if not self.target.remote or not is_mutating(operation):
            return
        if not self.target.allow_mutations:
            raise UnsafeRequest(f"Refusing to send {operation} to the remote target {self.target.endpoint}: "
                                "it is read-only without --allow-mutations")
        # The suite's own creations name a live directory and bundle, and nothing else of the account.
        placement = {i for i in self.foreign if i.startswith(("d-", "wsb-"))} if own_create else set()
        named = sorted(i for i in self.foreign - set(self.target.created) - placement if i and i in text)
        if named:
            raise UnsafeRequest(f"Refusing to send {operation} to the remote target {self.target.endpoint}: it names "
                                f"{', '.join(named[:5])}, which this run did not create")

    def _note_stray_creation(self, operation: str | None, response) -> None:
        """A generated CreateWorkspaces the target accepted: record, tag and (at the end) terminate what it made.

        Any target: a long-lived mock would otherwise keep every WorkSpace a valid
        generated request created, untagged, and each later run would be slower.
        On a remote target they also count against the budget and a note names them.
        """
        if operation != "CreateWorkspaces" or response.status != 200:
            return
        body = response.json if isinstance(response.json, dict) else {}
        if not any(isinstance(p, dict) and p.get("WorkspaceId") for p in body.get("PendingRequests") or []):
            return
        made = self.target.record_creation(0, response, generated=True)
        self._tag_generated(made)
        if self.target.remote:
            self.collector.notes.append(
                f"the target created {', '.join(made)} from a generated CreateWorkspaces that names no live "
                "directory; they are terminated at the end of the run"
            )

    def _tag_generated(self, workspace_ids: list[str]) -> None:
        """Give WorkSpaces made by a generated request the run's tags, so a sweep finds them should the run die.

        Best effort: a refusal (the generated request already gave 50 tags, the
        target lacks CreateTags) or a lost answer changes nothing, because the ids
        are recorded and the end of the run terminates them by id.
        """
        if not self.implemented("CreateTags"):
            self.untagged.update(workspace_ids)
            return
        tags = run_tags(self.target.run_id)
        for workspace_id in workspace_ids:
            params = {"ResourceId": workspace_id, "Tags": tags}
            self._guard("CreateTags", json.dumps(params))
            try:
                answer = self.caller.call("CreateTags", params)
            except TargetUnreachable:
                answer = None
            if answer is None or answer.status != 200:
                self.untagged.add(workspace_id)

    # --- sending ----------------------------------------------------------------------------

    def call(self, operation: str, params: dict) -> Exchange:
        """Send ``params`` to ``operation`` through boto3 and return the exchange."""
        return self._exchange(operation, params)

    def _exchange(self, operation: str, params: dict, *, own_create: bool = False) -> Exchange:
        if self._installed_model_differs and not boto3_sends_exactly(operation, params):
            # The installed botocore's model lacks a member or shape the contract has (an older
            # release): boto3 would drop or refuse it, so the request goes out as the contract writes it.
            return self._send_raw(operation, encode(params), None, params, own_create=own_create)
        self._guard(operation, json.dumps(params, default=str), own_create=own_create)
        try:
            response = self.caller.call(operation, to_boto3(operation, params))
        except TargetUnreachable as error:
            reproduce = reproduce_call(self.target.connection, operation, params, self.ledger.setup(operation, params))
            raise self._no_answer(operation, {"operation": operation, "params": params}, reproduce, error)
        writer = self._writer(lambda setup: reproduce_call(self.target.connection, operation, params, setup))
        if not own_create:
            self._note_stray_creation(operation, response)
        self._skip_if_throttled(operation, response)
        return Exchange(operation, params, response, writer=writer, known_ids=self.known_ids)

    def _writer(self, render):
        """What writes the last exchange's reproduction: ``render`` after the setup it needed (see Exchange.writer)."""
        setup = self.caller.last_setup()

        def write(listing) -> str:
            if setup is None or listing is True:
                return render(setup)
            return render(setup.keeping(frozenset(listing or ())))
        return write

    def _skip_if_throttled(self, operation: str | None, response) -> None:
        """A throttling answer that outlasted the retries is the account's limit, not a conformance result."""
        if response.error_code in THROTTLING_CODES:
            pytest.skip(f"throttled: {operation} was still answered {response.error_code} after "
                        f"{self.target.connection.throttle_retries} retries with backoff; lower --rate-limit")

    def _no_answer(self, operation, request, reproduce, error) -> CheckFailure:
        return CheckFailure(
            check="not_a_server_error", operation=operation, title="No answer from the target",
            message=f"The request got no HTTP response: {error}", rule="errors.server_error",
            source="https://docs.aws.amazon.com/workspaces/latest/api/CommonErrors.html",
            request=request, response={}, reproduce=reproduce,
        )

    def _send_raw(self, operation, body: bytes, violation, params, *, own_create: bool = False) -> Exchange:
        self._guard(operation, body.decode("utf-8", "replace"), own_create=own_create)
        try:
            response = self.caller.send_raw(operation, body)
        except TargetUnreachable as error:
            raw_text = body.decode("utf-8", "replace")[:4000]
            setup = self.ledger.setup(operation, params if isinstance(params, dict) else {})
            reproduce = reproduce_raw(self.target.connection, operation, body, setup=setup)
            raise self._no_answer(operation, {"operation": operation, "raw_body": raw_text}, reproduce, error)
        writer = self._writer(lambda setup: reproduce_raw(self.target.connection, operation, body, setup=setup))
        if not own_create:
            self._note_stray_creation(operation, response)
        self._skip_if_throttled(operation, response)
        return Exchange(operation, params, response, raw=True, body=body, violation=violation, writer=writer,
                        known_ids=self.known_ids)

    def send_invalid(self, invalid) -> Exchange:
        """Send an ``InvalidRequest`` through boto3, or raw when boto3 cannot carry it."""
        if invalid.raw:
            return self._send_raw(invalid.operation, invalid.body, invalid.violation, invalid.params)
        exchange = self.call(invalid.operation, invalid.params)
        exchange.violation = invalid.violation
        return exchange

    def send_case(self, case) -> Exchange:
        """Send a boundary case (raw or through boto3)."""
        if getattr(case, "raw", False):
            body = json.dumps(case.params).encode()
            return self._send_raw(case.operation, body, _BoundaryViolation.of(case), case.params)
        exchange = self.call(case.operation, case.params)
        if not case.valid:
            exchange.violation = _BoundaryViolation.of(case)
        return exchange

    def failure(self, check: str, operation: str, title: str, message: str, rule: str, source: str,
                exchange: Exchange | None = None) -> CheckFailure:
        """A failure of a behavioural check, with the last exchange as its evidence."""
        return CheckFailure(
            check=check, operation=operation, title=title, message=message, rule=rule, source=source,
            request=exchange.request_for_report() if exchange else {},
            response=exchange.response.to_report() if exchange else {},
            # Without an exchange, the operation's simplest call stands in as the way to look again.
            reproduce=exchange.reproduction() if exchange else reproduce_call(self.target.connection, operation, {}),
        )

    def close(self) -> None:
        """Remove what this run created (on every kind of target, unless --keep-resources), then stop the target.

        Runs at the end of the session, after a failure and after Ctrl-C or SIGTERM
        (the plugin turns SIGTERM into an interrupt); a further signal during the
        cleanup is deferred once, so an impatient second Ctrl-C does not leak WorkSpaces.
        A target that cannot terminate gets a note, never a failure.
        """
        target = self.target
        if self.caller.throttled:
            self.collector.notes.append(
                f"throttling: {self.caller.throttled} answers were throttling errors, retried with backoff; "
                "they are not conformance results")
        try:
            if target.created or target.uncertain:
                self._clean_up()
        except Exception as error:  # cleanup must not hide the run's results
            self.collector.notes.append(f"cleanup failed: {error}; run {self.sweep_command()}")
        finally:
            try:
                self.caller.close()
            finally:
                self.target.stop()

    def sweep_command(self) -> str:
        """The command that removes, later, what this run left on its target."""
        return f"python -m conformance sweep --endpoint {self.target.endpoint} --run-id {self.target.run_id}"

    def _clean_up(self) -> None:
        """Terminate the live WorkSpaces this run created, or with --keep-resources name them; notes say which."""
        target = self.target
        in_process = target.kind in ("emulator", "moto")
        if self.options.keep_resources:
            if in_process:
                self.collector.notes.append(f"{KEPT}: --keep-resources keeps nothing on the in-process {target.kind}, "
                                            "which stops with the run")
                return
            kept = live_workspaces(self.caller, list(dict.fromkeys(target.created)))
            if target.uncertain:  # an answer was lost: what it created is known only by its tag
                kept += [w for w in tagged_workspaces(self.caller, run_id=target.run_id) if w not in kept]
            untagged = [w for w in kept if w in self.untagged]
            self.collector.notes.append(
                f"{KEPT}: {len(kept)} WorkSpace(s) this run created remain (--keep-resources)"
                + (f": {', '.join(kept)}" if kept else "") + f"; remove them with {self.sweep_command()}"
                + (f"; {', '.join(untagged)} carry no run tag (the target refused it), the sweep cannot find them"
                   if untagged else ""))
            return
        if "TerminateWorkspaces" in self.caller.unimplemented:
            self.collector.notes.append(
                f"cleanup: the target does not implement TerminateWorkspaces; the {len(target.created)} WorkSpace(s) "
                f"this run created remain: {', '.join(target.created)}")
            return
        with deferred_signals():
            result = cleanup_run(self.caller, target.run_id, target.created, scan=target.uncertain)
        if result.terminated:
            self.collector.notes.append(f"cleanup: terminated {len(result.terminated)} WorkSpace(s) this run "
                                        f"created: {', '.join(result.terminated)}")
        if result.refused:
            self.collector.notes.append(
                f"cleanup: the target refused to terminate {', '.join(result.refused)}; run {self.sweep_command()}")


@dataclasses.dataclass(frozen=True)
class _BoundaryViolation:
    """A boundary case seen as a violation, so invalid-request checks can judge it."""

    kind: str
    path: str
    keyword: str | None
    rule: str | None
    note: str

    @classmethod
    def of(cls, case) -> "_BoundaryViolation":
        rule = getattr(case, "rule", None)
        kind = "rule" if rule else _KEYWORD_KINDS.get(case.keyword, "invalid")
        if rule is None and f"errors.{kind}" in _error_rule_ids():
            rule = f"errors.{kind}"  # the same rule id the invalid-request strategies name
        return cls(kind, case.path, case.keyword, rule, case.note)


def _error_rule_ids() -> set[str]:
    return {entry["id"] for entry in specs.rules()["errors"]}


_KEYWORD_KINDS = {
    "minLength": "too_short",
    "maxLength": "too_long",
    "minItems": "too_few_items",
    "maxItems": "too_many_items",
    "minimum": "below_minimum",
    "maximum": "above_maximum",
    "enum": "enum_violation",
    "pattern": "pattern_mismatch",
    "required": "missing_required",
    "type": "wrong_type",
}
