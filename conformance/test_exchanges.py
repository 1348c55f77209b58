"""Request/response checks: valid, invalid and boundary requests against every seed operation."""
from __future__ import annotations

import dataclasses
import functools

import pytest
from hypothesis import given, settings

import strategies
from conformance.checks import REGISTRY
from conformance.run import is_mutating

VALID_CHECKS = [
    "not_a_server_error", "response_schema", "response_enum", "error_shape", "positive_data_acceptance", "content_type",
]
INVALID_CHECKS = ["not_a_server_error", "negative_data_rejection", "error_shape", "error_code", "content_type"]


@pytest.mark.conformance(checks=VALID_CHECKS)
def test_valid_requests(operation, check, target_run):
    """Valid requests (live and unknown ids) earn schema-valid, accepted, non-5xx responses."""
    judge = REGISTRY[check]
    pool = target_run.pool(operation=operation)
    # Counts and the last refusal only: holding every exchange would hold every body (10 MB ones too).
    seen = {"accepted": 0, "refused": None}

    @given(params=strategies.requests(operation, pool))
    def run(params):
        exchange = target_run.call(operation, params)
        if 200 <= exchange.response.status < 300:
            seen["accepted"] += 1
        else:
            seen["refused"] = exchange
        judge(exchange)

    run()
    if check == "positive_data_acceptance" and not seen["accepted"]:
        if target_run.target.remote and is_mutating(operation) and not pool.workspaces:
            # On a real account generated requests may name only the run's own WorkSpaces.
            pytest.skip(f"budget: no WorkSpace of this run is left for {operation} to act on (see --max-workspaces)")
        raise target_run.failure(
            check, operation, "No valid request was ever accepted",
            "Every valid request drawn for this operation was refused; an operation that never succeeds "
            "cannot pass by being empty.",
            f"model.{operation}.input", f"botocore model: operation {operation}",
            seen["refused"],
        )


@pytest.mark.conformance(checks=INVALID_CHECKS)
def test_invalid_requests(operation, check, target_run):
    """Requests breaking exactly one constraint are rejected with a well-formed, fitting error."""
    judge = REGISTRY[check]
    pool = target_run.pool(operation=operation)
    kinds = sorted(strategies.violation_kinds(operation))
    # Every kind gets its share of the examples, so none is left to chance.
    per_kind = max(2, -(-settings.default.max_examples // len(kinds)))
    for kind in kinds:

        @settings(settings.default, max_examples=per_kind)
        @given(invalid=strategies.invalid_requests(operation, pool, kinds={kind}))
        def run(invalid):
            judge(target_run.send_invalid(invalid))

        run()


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


@pytest.mark.conformance(checks=sorted(set(VALID_CHECKS) | set(INVALID_CHECKS)))
def test_boundaries(operation, check, target_run):
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
