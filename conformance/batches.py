"""Batch requests (those whose answer lists FailedRequests), judged item by item.

Before a batch request goes out, :func:`call` looks up what it names: the
WorkSpaces and their states, or for CreateWorkspaces the directories, bundles
and the WorkSpaces each directory holds. The exchange carries that
(:class:`~conformance.checks.Holdings`), so positive_data_acceptance can tell a
refusal a cited rule explains from one no rule does. :func:`follow_up` looks
again after the answer: an item reported failed left its WorkSpace as it was
(or created nothing), an item reported pending is describable in time
(state_transition). :func:`consistency` is the Hypothesis-driven part of the
state_transition cell of each batch operation.

Lookups are plain describe calls (``caller.call``), never judged themselves:
another cell judges what DescribeWorkspaces answers.
"""
from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings

import strategies
from strategies.lifecycle import GONE, model

from .behaviour import STRICT_MAX_POLLS, require, strict_clock
from .checks import CheckFailure, Exchange, Holdings, batch_items, batch_shape, failed_entries
from .timing import CAP_S

PAGES = 40  # pages of a directory's listing read at most (25 WorkSpaces each by default)
FOLLOW_UP_EXAMPLES = 8  # examples per pool of the follow-up part; each costs a lookup before and after


def call(run, operation: str, params) -> Exchange:
    """Send ``params`` to ``operation``; a batch request first has what it names looked up."""
    holdings = look_up(run, operation, params)
    exchange = run.call(operation, params)
    exchange.holdings = holdings
    return exchange


def look_up(run, operation: str, params) -> Holdings | None:
    """What the target holds of the resources ``params`` names (None: not a batch, or it cannot be known)."""
    shape = batch_shape(operation)
    if shape is None or not isinstance(params, dict) or not run.implemented("DescribeWorkspaces"):
        return None
    items = [item for item in params.get(shape.items) or [] if isinstance(item, dict)]
    if shape.key:
        held = workspaces(run, _strings(item.get(shape.key) for item in items))
        return None if held is None else Holdings(workspaces=held)
    directories = _live_directories(run, _strings(item.get("DirectoryId") for item in items))
    bundles = _live_bundles(run, _strings(item.get("BundleId") for item in items))
    if directories is None or bundles is None:
        return None
    listed = {}
    for directory in sorted(directories):
        found = listing(run, {"DirectoryId": directory})
        if found is None:
            return None
        listed[directory] = found
    return Holdings(directories=frozenset(directories), bundles=bundles, listed=listed)


def _strings(values) -> list[str]:
    return list(dict.fromkeys(value for value in values if isinstance(value, str)))


def _answer(run, operation: str, params: dict):
    response = run.caller.call(operation, params)
    return response.json if response.status == 200 and isinstance(response.json, dict) else None


def workspaces(run, ids: list[str]) -> dict | None:
    """The WorkSpaces DescribeWorkspaces returns for ``ids``, by id (None if it failed)."""
    found = {}
    for start in range(0, len(ids), 25):
        chunk = ids[start:start + 25]
        listed = listing(run, {"WorkspaceIds": chunk})
        if listed is None:
            return None
        for workspace in listed:
            if workspace["WorkspaceId"] in chunk:
                found[workspace["WorkspaceId"]] = workspace
    return found


def listing(run, params: dict) -> list[dict] | None:
    """Every WorkSpace DescribeWorkspaces lists for ``params``, page by page (None if a page failed)."""
    found, token = [], None
    for _ in range(PAGES):
        body = _answer(run, "DescribeWorkspaces", dict(params, NextToken=token) if token else params)
        if body is None:
            return None
        found += [w for w in body.get("Workspaces") or [] if isinstance(w, dict) and isinstance(w.get("WorkspaceId"), str)]
        token = body.get("NextToken")
        if not token:
            break
    return found


def _live_directories(run, named: list[str]) -> set[str] | None:
    if not named:
        return set()
    if not run.implemented("DescribeWorkspaceDirectories"):
        return set(named) & set(run.known_ids or ())
    body = _answer(run, "DescribeWorkspaceDirectories", {"DirectoryIds": named[:25]})
    if body is None:
        return None
    return {d.get("DirectoryId") for d in body.get("Directories") or [] if isinstance(d, dict)} & set(named)


def _live_bundles(run, named: list[str]) -> dict | None:
    if not named:
        return {}
    if not run.implemented("DescribeWorkspaceBundles"):
        return {bundle: {} for bundle in named if bundle in (run.known_ids or ())}
    body = _answer(run, "DescribeWorkspaceBundles", {"BundleIds": named[:25]})
    if body is None:
        return None
    return {b["BundleId"]: b for b in body.get("Bundles") or [] if isinstance(b, dict) and b.get("BundleId") in named}


# --- after the answer ------------------------------------------------------------------------


def follow_up(run, exchange: Exchange) -> None:
    """Judge what a batch answer left behind; raise a state_transition CheckFailure on a deviation."""
    shape = batch_shape(exchange.operation)
    if shape is None or exchange.holdings is None or not 200 <= exchange.response.status < 300:
        return
    if shape.key:
        _follow_actions(run, exchange, shape)
    else:
        _follow_creation(run, exchange)


def _follow_actions(run, exchange: Exchange, shape) -> None:
    """A WorkSpace whose every item was reported failed is as it was; one acted on shows the action's state."""
    lifecycle, operation = model(), exchange.operation
    before_all = exchange.holdings.workspaces
    after_all = workspaces(run, list(before_all)) if before_all else None
    if after_all is None:
        return
    items = batch_items(exchange)
    refused = [entry.get(shape.key) for entry in failed_entries(exchange)]
    strict = strict_clock(run.target)
    for workspace_id, workspace in before_all.items():
        before = workspace.get("State")
        mode = (workspace.get("WorkspaceProperties") or {}).get("RunningMode")
        after = after_all.get(workspace_id, {}).get("State", GONE)
        if before not in lifecycle.states or (after != GONE and after not in lifecycle.states):
            continue  # a state outside the enum is response_enum's finding
        settled = lifecycle.is_settled(before)
        # Only a settled state seen just before is where the request found it: the polled clock
        # moves a transitional one on after each observation.
        exact = strict and settled
        count = sum(1 for item in items if item.get(shape.key) == workspace_id)
        if refused.count(workspace_id) >= count:
            verdict = lifecycle.judge_sequence(operation, before, mode, [after], accepted=False, strict=exact)
            told = "reported every request naming it failed"
        elif settled and lifecycle.allows(operation, before, mode):
            verdict = lifecycle.judge_sequence(operation, before, mode, [after], accepted=True, strict=exact)
            told = "did not report it failed"
        else:
            continue
        if verdict is not None:
            raise run.failure(verdict.check, verdict.rule, verdict.title,
                              f"{verdict.message} The answer {told} ({workspace_id} was {before} just before the request, "
                f"{after} right after it).",
                              operation=operation, exchange=exchange)


def _follow_creation(run, exchange: Exchange) -> None:
    """A request reported failed created nothing; each WorkSpace reported pending is describable in time."""
    holdings, operation = exchange.holdings, exchange.operation
    body = exchange.response.json if isinstance(exchange.response.json, dict) else {}
    pending = [p for p in body.get("PendingRequests") or [] if isinstance(p, dict) and isinstance(p.get("WorkspaceId"), str)]
    pending_ids = {p["WorkspaceId"] for p in pending}
    failed = failed_entries(exchange)
    rule = "edge.create"
    for directory, before in holdings.listed.items():
        after = listing(run, {"DirectoryId": directory})
        if after is None:
            return
        known = {w["WorkspaceId"] for w in before} | pending_ids
        for workspace in after:
            if workspace["WorkspaceId"] in known:
                continue
            user = str(workspace.get("UserName", ""))
            reported = [e for e in failed if isinstance(e.get("WorkspaceRequest"), dict)
                        and e["WorkspaceRequest"].get("DirectoryId") == directory
                        and str(e["WorkspaceRequest"].get("UserName", "")).lower() == user.lower()]
            told = (f"the answer reported the request for {user!r} failed with "
                    f"{reported[0].get('ErrorCode')!r}" if reported else "the answer did not list it in PendingRequests")
            raise run.failure("state_transition", rule, "A WorkSpace the answer did not report created exists",
                              f"After CreateWorkspaces, {workspace['WorkspaceId']} (user {user!r}, state {workspace.get('State')}) "
                f"is listed in {directory}, where it was not before; {told}. By {rule} every new WorkSpace is "
                "returned in PendingRequests, and a request reported failed leaves nothing behind.",
                              operation=operation, exchange=exchange)
    _pending_visible(run, exchange, sorted(pending_ids))



def _pending_visible(run, exchange: Exchange, ids: list[str]) -> None:
    """Every WorkspaceId of PendingRequests is described within timing.create.visible."""
    if not ids:
        return
    limit, rule = model().visibility_deadline()
    strict = strict_clock(run.target)
    if not run.target.remote:
        limit = min(limit, CAP_S)  # the longest a loopback target is given (see conformance.timing)
    started, delay, polls = time.monotonic(), 0.05, 0
    while True:
        seen = workspaces(run, ids)
        missing = [i for i in ids if seen is not None and i not in seen]
        polls += 1
        if seen is None or not missing:
            return
        if (strict and polls >= STRICT_MAX_POLLS) or time.monotonic() - started > limit:
            break
        if not strict:
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    bound = f"{polls} polls" if strict else f"{limit:.0f} s"
    raise run.failure("state_transition", rule, "A WorkSpace reported pending is never described",
                      f"CreateWorkspaces returned {', '.join(missing)} in PendingRequests, yet DescribeWorkspaces did not return "
        f"{'it' if len(missing) == 1 else 'them'} within {bound}; by {rule} a new WorkSpace is describable "
        "(as PENDING) within that time.",
                      operation=exchange.operation, exchange=exchange)


# --- the part of the state_transition cell ---------------------------------------------------


def consistency(run, operation: str) -> None:
    """Valid batch requests drawn by Hypothesis, each answer followed up (see :func:`follow_up`).

    Requests name live resources only: the pool's WorkSpaces in whatever states
    the run has left them, or for CreateWorkspaces live directories and bundles
    with the users of live WorkSpaces and with new users.
    """
    require(run, operation, "DescribeWorkspaces", purpose="following a batch answer up")
    shape = batch_shape(operation)
    pool = run.pool(operation=operation)
    if not (pool.workspaces if shape.key else pool.directories and pool.bundles):
        pytest.skip(f"unjudgeable: the target holds nothing live for {operation} to name")
    pools = [dataclasses.replace(pool, live_only=True)]
    if shape.echo:
        pools.append(dataclasses.replace(pool, live_only=True, user_names=[]))  # new users: drawn names
    found: list[CheckFailure] = []
    for drawn_from in pools:

        @settings(settings.default, max_examples=min(settings.default.max_examples, FOLLOW_UP_EXAMPLES))
        @given(params=strategies.requests(operation, drawn_from))
        def send(params):
            try:
                follow_up(run, call(run, operation, params))
            except CheckFailure as failure:
                found[:] = [failure]  # the last one raised is the smallest example Hypothesis found
                raise

        try:
            send()
        except Exception:
            # The target moved on between examples, so a shrunk example may not fail again;
            # the failure itself, not Hypothesis' account of the replay, is the finding.
            if not found:
                raise
        if found:
            raise found[0]
