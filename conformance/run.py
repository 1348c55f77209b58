"""One conformance run: the target, the caller, live resources and the report collector.

The pytest plugin builds a :class:`Run` once per session; the conformance tests
send requests and judge exchanges through it.
"""
from __future__ import annotations

import dataclasses
import json


import specs
from strategies import to_boto3

from . import targets
from .cleanup import cleanup_run
from .checks import CHECK_TIERS, TIERS, CheckFailure, Exchange
from .client import Caller, TargetUnreachable, reproduce_call, reproduce_raw
from .report import Collector

TOOL_VERSION = "0.1.0"


def is_mutating(operation: str) -> bool:
    """Whether an operation can create or change anything (everything but Describe*)."""
    return not operation.startswith("Describe")


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
    target.user_name = options.user_name or target.user_name
    return target


class Run:
    """The state of one conformance run against one target."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.operations = targets.operations_under_test(options.operations)
        self.target = start_target(options)
        try:
            self.caller = Caller(self.target.connection)
            info = specs.model_info()
            self.collector = Collector(
                tool_version=TOOL_VERSION,
                contract={"service": "workspaces", "api_version": info["api_version"], "botocore": info["botocore"]},
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
            self._probe()
        except BaseException:
            self.target.stop()
            raise

    # --- coverage -------------------------------------------------------------------------

    def _probe(self) -> None:
        pool = targets.discover(self.caller, self.target)
        for operation in self.operations:
            if self.target.remote and not self.target.allow_mutations and is_mutating(operation):
                implemented = True  # not probed: read-only mode sends no mutating request
            else:
                implemented = targets.probe_implemented(self.caller, operation, pool)
            self.collector.set_implemented(operation, implemented)
            if not implemented:
                self.caller.unimplemented.add(operation)

    def implemented(self, operation: str) -> bool:
        return operation not in self.caller.unimplemented

    def may_send(self, operation: str) -> bool:
        """Whether this run may send requests to ``operation`` at all."""
        return self.target.allow_mutations or not is_mutating(operation)

    # --- live resources ---------------------------------------------------------------------

    def pool(self, *, workspaces: int = 3):
        """Live resources of the target, refreshed, with at least ``workspaces`` WorkSpaces where allowed."""
        pool = targets.discover(self.caller, self.target)
        pool = targets.ensure_workspaces(self.caller, self.target, pool, workspaces)
        self.known_ids = frozenset(pool.directories) | frozenset(pool.bundles) | frozenset(pool.workspaces)
        return pool

    # --- sending ----------------------------------------------------------------------------

    def call(self, operation: str, params: dict) -> Exchange:
        reproduce = reproduce_call(self.target.connection, operation, params)
        try:
            response = self.caller.call(operation, to_boto3(operation, params))
        except TargetUnreachable as error:
            raise self._no_answer(operation, {"operation": operation, "params": params}, reproduce, error)
        return Exchange(operation, params, response, reproduce=reproduce, known_ids=self.known_ids)

    def _no_answer(self, operation, request, reproduce, error) -> CheckFailure:
        return CheckFailure(
            check="not_a_server_error", operation=operation, title="No answer from the target",
            message=f"The request got no HTTP response: {error}", rule="errors.server_error",
            source="https://docs.aws.amazon.com/workspaces/latest/api/CommonErrors.html",
            request=request, response={}, reproduce=reproduce,
        )

    def _send_raw(self, operation, body: bytes, violation, params) -> Exchange:
        reproduce = reproduce_raw(self.target.connection, operation, body)
        try:
            response = self.caller.send_raw(operation, body)
        except TargetUnreachable as error:
            raw_text = body.decode("utf-8", "replace")[:4000]
            raise self._no_answer(operation, {"operation": operation, "raw_body": raw_text}, reproduce, error)
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
            reproduce=exchange.reproduce if exchange else "",
        )

    def close(self) -> None:
        """Remove what this run created (on targets we do not own), then stop the target."""
        try:
            if self.target.kind not in ("emulator", "moto") and self.target.created:
                refused = cleanup_run(self.caller, self.target.run_id, self.target.created)
                if refused:
                    self.collector.notes.append(f"cleanup: the target refused to terminate {refused}")
        except Exception as error:  # cleanup must not hide the run's results
            self.collector.notes.append(f"cleanup failed: {error}; run python -m conformance sweep")
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
