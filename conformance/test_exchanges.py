"""Request/response checks: valid, invalid and boundary requests against every seed operation."""
from __future__ import annotations

import dataclasses
import functools

import pytest
from hypothesis import given, settings

import strategies
from conformance import batches
from conformance.checks import REGISTRY, CheckFailure, judge_all
from conformance.run import is_mutating

VALID_CHECKS = [
    "not_a_server_error", "response_schema", "response_enum", "error_shape", "positive_data_acceptance", "content_type",
]
INVALID_CHECKS = ["not_a_server_error", "negative_data_rejection", "error_shape", "error_code", "content_type"]
EXCHANGE_CHECKS = list(dict.fromkeys(VALID_CHECKS + INVALID_CHECKS))


class Survey:
    """Every exchange check judged on each answer of one sending pass: first failures, counts."""

    def __init__(self, checks: list[str]) -> None:
        self.checks = checks
        self.failures: dict[str, CheckFailure] = {}
        # Counts and the last refusal only: holding every exchange would hold every body (10 MB ones too).
        self.accepted = 0
        self.refused = None

    def judge(self, exchange) -> None:
        if 200 <= exchange.response.status < 300:
            self.accepted += 1
        else:
            self.refused = exchange
        for check in self.checks:
            if check not in self.failures:
                try:
                    REGISTRY[check](exchange)
                except CheckFailure as failure:
                    self.failures[check] = failure

    def send(self, send) -> None:
        """Send one request through ``send`` and judge what came back."""
        try:
            exchange = send()
        except CheckFailure as failure:  # no answer at all
            self.failures.setdefault(failure.check, failure)
            return
        self.judge(exchange)


def _examples_per_kind(kinds) -> int:
    # Every violation kind gets its share of the examples, so none is left to chance.
    return max(2, -(-settings.default.max_examples // len(kinds)))


@functools.lru_cache(maxsize=None)
def _valid_survey(run, operation):
    """Valid requests sent once per operation: mixed live and unknown ids, then live ids only."""
    pool = run.pool(operation=operation)
    run.settle_for(operation, pool)
    survey = Survey(VALID_CHECKS)
    pools = [pool]
    if pool.directories or pool.bundles or pool.workspaces:
        # Only a request naming nothing unknown is judged strictly by positive_data_acceptance.
        pools.append(dataclasses.replace(pool, live_only=True))
    for drawn_from in pools:

        @given(params=strategies.requests(operation, drawn_from))
        def send(params):
            # A batch request goes out with what it names looked up, so its items can be judged.
            survey.send(lambda: batches.call(run, operation, params))

        send()
    return survey, pools


@functools.lru_cache(maxsize=None)
def _invalid_survey(run, operation):
    """Invalid requests of every violation kind, sent once per operation."""
    pool = run.pool(operation=operation)
    survey = Survey(INVALID_CHECKS)
    kinds = sorted(strategies.violation_kinds(operation))
    for kind in kinds:

        @settings(settings.default, max_examples=_examples_per_kind(kinds))
        @given(invalid=strategies.invalid_requests(operation, pool, kinds={kind}))
        def send(invalid):
            survey.send(lambda: run.send_invalid(invalid))

        send()
    return survey, pool


@pytest.mark.conformance(checks=EXCHANGE_CHECKS)
def test_exchanges(operation, check, target_run):
    """One exchange check judged on the operation's valid, invalid and boundary requests, as it applies."""
    parts = []
    if check in VALID_CHECKS:
        parts.append(lambda: valid_requests(operation, check, target_run))
    if check in INVALID_CHECKS:
        parts.append(lambda: invalid_requests(operation, check, target_run))
    parts.append(lambda: boundaries(operation, check, target_run))
    judge_all(*parts)


def valid_requests(operation, check, target_run):
    """Valid requests (live and unknown ids) earn schema-valid, accepted, non-5xx responses.

    One sending pass per operation serves every check; a check that fails is
    run again on its own, so Hypothesis can shrink its failing request.
    """
    survey, pools = _valid_survey(target_run, operation)
    if check in survey.failures:
        judge = REGISTRY[check]
        for pool in pools:

            @given(params=strategies.requests(operation, pool))
            def shrink(params):
                judge(batches.call(target_run, operation, params))

            shrink()
        raise survey.failures[check]  # the target has moved on: the first failure stands
    if check == "positive_data_acceptance" and not survey.accepted:
        if target_run.target.remote and is_mutating(operation) and not pools[0].workspaces:
            # On a real account generated requests may name only the run's own WorkSpaces.
            pytest.skip(f"budget: no WorkSpace of this run is left for {operation} to act on (see --max-workspaces)")
        raise target_run.failure(
            check, operation, "No valid request was ever accepted",
            "Every valid request drawn for this operation was refused; an operation that never succeeds "
            "cannot pass by being empty.",
            f"model.{operation}.input", f"botocore model: operation {operation}",
            survey.refused,
        )


def invalid_requests(operation, check, target_run):
    """Requests breaking exactly one constraint are rejected with a well-formed, fitting error."""
    survey, pool = _invalid_survey(target_run, operation)
    if check not in survey.failures:
        return
    judge = REGISTRY[check]
    kinds = sorted(strategies.violation_kinds(operation))
    for kind in kinds:

        @settings(settings.default, max_examples=_examples_per_kind(kinds))
        @given(invalid=strategies.invalid_requests(operation, pool, kinds={kind}))
        def shrink(invalid):
            judge(target_run.send_invalid(invalid))

        shrink()
    raise survey.failures[check]


# Scalar members naming a resource, and the pool list a live one comes from.
LIVE_REFERENCES = {"WorkspaceId": "workspaces", "DirectoryId": "directories", "BundleId": "bundles",
                   "ResourceId": "directories"}


def rebind(params, pool, probed: str, path: str = ""):
    """``params`` with each resource reference, except the probed member, bound to a live resource.

    A boundary case on an unknown resource may be refused for the resource
    alone; bound to live ones, a refusal can only be the boundary's doing.
    """
    if isinstance(params, dict):
        out = {}
        for key, value in params.items():
            here = f"{path}.{key}" if path else key
            live = getattr(pool, LIVE_REFERENCES.get(key, ""), None) if isinstance(value, str) else None
            if live and here != probed and not probed.startswith(here + ".") and not probed.startswith(here + "["):
                out[key] = live[0]
            else:
                out[key] = rebind(value, pool, probed, here)
        return out
    if isinstance(params, list):
        return [rebind(item, pool, probed, f"{path}[{i}]") for i, item in enumerate(params)]
    return params


@functools.lru_cache(maxsize=2)  # tests run operation by operation; a larger cache only holds bodies longer
def _boundary_exchanges(run, operation):
    pool = run.pool(operation=operation)
    cases = [dataclasses.replace(case, params=rebind(case.params, pool, case.path))
             for case in strategies.boundaries(operation)]
    return [(case, run.send_case(case)) for case in cases]


def boundaries(operation, check, target_run):
    """Every boundary case (min-1, min, max, max+1, enum edges) is judged by the checks it concerns."""
    judge = REGISTRY[check]
    failures, rules = [], set()
    for case, exchange in _boundary_exchanges(target_run, operation):
        side = "valid" if case.valid else "invalid"
        if judge.applies_to not in ("any", side):
            continue
        try:
            judge(exchange)
        except AssertionError as failure:
            if getattr(failure, "rule", None) not in rules:
                rules.add(getattr(failure, "rule", None))
                failures.append(failure)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup(f"{len(failures)} boundary failures for {operation}", failures)
