"""Request/response checks: valid, invalid and boundary requests against every seed operation."""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

import strategies
from conformance import batches, targets
from conformance.checks import CHECKS, CheckFailure, exchange_checks, judge_all

# The checks each kind of request is judged by, and the cells of this test: from the declarations.
VALID_CHECKS = exchange_checks("valid")
INVALID_CHECKS = exchange_checks("invalid")
EXCHANGE_CHECKS = list(dict.fromkeys(VALID_CHECKS + INVALID_CHECKS))
# Boundary exchanges kept at once: tests run operation by operation; more would only hold bodies longer.
BOUNDARY_OPERATIONS_KEPT = 2


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
                    CHECKS[check](exchange)
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


class Surveys:
    """The sending passes of one run, each made once per operation and shared by every check's test."""

    def __init__(self, run) -> None:
        self.run = run
        self._valid: dict[str, tuple] = {}
        self._invalid: dict[str, tuple] = {}
        self._boundaries: dict[str, list] = {}

    def valid(self, operation: str) -> tuple[Survey, list]:
        """Valid requests sent once per operation: mixed live and unknown ids, then live ids only."""
        return _once(self._valid, operation, self._send_valid)

    def _send_valid(self, operation: str) -> tuple[Survey, list]:
        run = self.run
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

    def invalid(self, operation: str) -> tuple[Survey, object]:
        """Invalid requests of every violation kind, sent once per operation."""
        return _once(self._invalid, operation, self._send_invalid)

    def _send_invalid(self, operation: str) -> tuple[Survey, object]:
        run = self.run
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

    def boundaries(self, operation: str) -> list:
        """Every boundary case of the operation, its resource references bound to live ones, with its answer."""
        if operation not in self._boundaries:
            while len(self._boundaries) >= BOUNDARY_OPERATIONS_KEPT:
                self._boundaries.pop(next(iter(self._boundaries)))
            pool = self.run.pool(operation=operation)
            cases = [dataclasses.replace(case, params=rebind(case.params, pool, case.path))
                     for case in strategies.boundaries(operation)]
            self._boundaries[operation] = [(case, self.run.send_case(case)) for case in cases]
        return self._boundaries[operation]


def _once(made: dict, operation: str, make):
    """``made[operation]``, made by ``make(operation)`` the first time it is asked for."""
    if operation not in made:
        made[operation] = make(operation)
    return made[operation]


@pytest.fixture(scope="session")
def surveys(conformance) -> Surveys:
    """The run's sending passes (valid, invalid, boundary requests), made once per operation."""
    return Surveys(conformance)


@pytest.mark.conformance(checks=EXCHANGE_CHECKS)
def test_exchanges(operation, check, target_run, surveys):
    """One exchange check judged on the operation's valid, invalid and boundary requests, as it applies."""
    parts = []
    if check in VALID_CHECKS:
        parts.append(lambda: valid_requests(operation, check, target_run, surveys))
    if check in INVALID_CHECKS:
        parts.append(lambda: invalid_requests(operation, check, target_run, surveys))
    parts.append(lambda: boundaries(operation, check, surveys))
    judge_all(*parts)


def valid_requests(operation, check, target_run, surveys):
    """Valid requests (live and unknown ids) earn schema-valid, accepted, non-5xx responses.

    One sending pass per operation serves every check; a check that fails is
    run again on its own, so Hypothesis can shrink its failing request.
    """
    survey, pools = surveys.valid(operation)
    if check in survey.failures:
        judge = CHECKS[check]
        for pool in pools:

            @given(params=strategies.requests(operation, pool))
            def shrink(params):
                judge(batches.call(target_run, operation, params))

            shrink()
        raise survey.failures[check]  # the target has moved on: the first failure stands
    if check == "positive_data_acceptance" and not survey.accepted:
        if target_run.guard.watches(operation) and not pools[0].workspaces:
            # On a real account generated requests may name only the run's own WorkSpaces.
            pytest.skip(f"budget: no WorkSpace of this run is left for {operation} to act on (see --max-workspaces)")
        raise target_run.failure(check, f"model.{operation}.input", "No valid request was ever accepted",
                                 "Every valid request drawn for this operation was refused; an operation that "
                                 "never succeeds cannot pass by being empty.",
                                 operation=operation, exchange=survey.refused)


def invalid_requests(operation, check, target_run, surveys):
    """Requests breaking exactly one constraint are rejected with a well-formed, fitting error."""
    survey, pool = surveys.invalid(operation)
    if check not in survey.failures:
        return
    judge = CHECKS[check]
    kinds = sorted(strategies.violation_kinds(operation))
    for kind in kinds:

        @settings(settings.default, max_examples=_examples_per_kind(kinds))
        @given(invalid=strategies.invalid_requests(operation, pool, kinds={kind}))
        def shrink(invalid):
            judge(target_run.send_invalid(invalid))

        shrink()
    raise survey.failures[check]


def rebind(params, pool, probed: str, path: str = ""):
    """``params`` with each resource reference, except the probed member, bound to a live resource.

    A boundary case on an unknown resource may be refused for the resource
    alone; bound to live ones, a refusal can only be the boundary's doing.
    """
    if isinstance(params, dict):
        out = {}
        for key, value in params.items():
            here = f"{path}.{key}" if path else key
            live = targets.live_id(pool, key) if isinstance(value, str) else None
            if live and here != probed and not probed.startswith(here + ".") and not probed.startswith(here + "["):
                out[key] = live
            else:
                out[key] = rebind(value, pool, probed, here)
        return out
    if isinstance(params, list):
        return [rebind(item, pool, probed, f"{path}[{i}]") for i, item in enumerate(params)]
    return params


def boundaries(operation, check, surveys):
    """Every boundary case (min-1, min, max, max+1, enum edges) is judged by the checks it concerns."""
    judge = CHECKS[check]
    failures, rules = [], set()
    for case, exchange in surveys.boundaries(operation):
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
