"""One conformance run: the target, the caller, live resources and the report collector.

The pytest plugin builds a :class:`Run` once per session; the conformance tests
send requests and judge exchanges through it.
"""
from __future__ import annotations

import dataclasses
import json

import pytest

import specs
from strategies import to_boto3
from strategies.wire import boto3_sends_exactly, encode

from . import targets
from .cleanup import cleanup_run, deferred_signals, run_tags
from .checks import CHECK_TIERS, THROTTLING_CODES, TIERS, CheckFailure, Exchange
from .client import Caller, TargetUnreachable, reproduce_call, reproduce_raw
from .report import Collector, contract_record

TOOL_VERSION = "0.1.0"


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
    request_timeout: float = 30.0
    rate_limit: float | None = None
    emulator_faults: tuple[str, ...] = ()
    seed: int | str | None = None

    def tiers(self) -> tuple[str, ...]:
        """The tiers whose checks run: a tier includes those below it."""
        return TIERS[: TIERS.index(self.tier) + 1]

    def runs_check(self, check: str) -> bool:
        return CHECK_TIERS[check] in self.tiers()


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
        """A generated CreateWorkspaces that a remote target accepted: count it and clean it up."""
        if operation != "CreateWorkspaces" or not self.target.remote or response.status != 200:
            return
        body = response.json if isinstance(response.json, dict) else {}
        if not any(isinstance(p, dict) and p.get("WorkspaceId") for p in body.get("PendingRequests") or []):
            return
        made = self.target.record_creation(0, response)
        self.collector.notes.append(
            f"the target created {', '.join(made)} from a generated CreateWorkspaces that names no live "
            "directory; they are terminated at the end of the run"
        )

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
        reproduce = reproduce_call(self.target.connection, operation, params)
        try:
            response = self.caller.call(operation, to_boto3(operation, params))
        except TargetUnreachable as error:
            raise self._no_answer(operation, {"operation": operation, "params": params}, reproduce, error)
        if not own_create:
            self._note_stray_creation(operation, response)
        self._skip_if_throttled(operation, response)
        return Exchange(operation, params, response, reproduce=reproduce, known_ids=self.known_ids)

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
        reproduce = reproduce_raw(self.target.connection, operation, body)
        try:
            response = self.caller.send_raw(operation, body)
        except TargetUnreachable as error:
            raw_text = body.decode("utf-8", "replace")[:4000]
            raise self._no_answer(operation, {"operation": operation, "raw_body": raw_text}, reproduce, error)
        if not own_create:
            self._note_stray_creation(operation, response)
        self._skip_if_throttled(operation, response)
        return Exchange(operation, params, response, raw=True, body=body, violation=violation, reproduce=reproduce,
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
            reproduce=exchange.reproduce if exchange else reproduce_call(self.target.connection, operation, {}),
        )

    def close(self) -> None:
        """Remove what this run created (on targets we do not own), then stop the target.

        Runs at the end of the session, after a failure and after Ctrl-C or SIGTERM
        (the plugin turns SIGTERM into an interrupt); a further signal during the
        cleanup is deferred once, so an impatient second Ctrl-C does not leak WorkSpaces.
        """
        target = self.target
        if self.caller.throttled:
            self.collector.notes.append(
                f"throttling: {self.caller.throttled} answers were throttling errors, retried with backoff; "
                "they are not conformance results")
        try:
            if target.kind not in ("emulator", "moto") and (target.created or target.uncertain):
                with deferred_signals():
                    result = cleanup_run(self.caller, target.run_id, target.created, scan=target.uncertain)
                if result.terminated:
                    self.collector.notes.append(f"cleanup: terminated {', '.join(result.terminated)}")
                if result.refused:
                    self.collector.notes.append(
                        f"cleanup: the target refused to terminate {', '.join(result.refused)}; run "
                        f"python -m conformance sweep --endpoint {target.endpoint} --run-id {target.run_id}")
        except Exception as error:  # cleanup must not hide the run's results
            self.collector.notes.append(
                f"cleanup failed: {error}; run python -m conformance sweep --endpoint {target.endpoint} "
                f"--run-id {target.run_id}")
        finally:
            try:
                self.caller.close()
            finally:
                self.target.stop()


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
