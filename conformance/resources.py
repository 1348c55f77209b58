"""The target's live resources, as a run uses them: discovered, pooled for generated requests, topped up.

A pool of live ids lets generated requests name resources that exist, so a
refusal can only be the request's doing. Where the budget (``--max-workspaces``)
and the remote guard allow, the pool is topped up with WorkSpaces of the run's
own, created tagged with the run id and recorded for cleanup.
"""
from __future__ import annotations

import time

import specs

from . import targets
from .checks import Exchange
from .cleanup import WORKSPACES, run_tags


def with_run_tags(entry: dict, run_id: str) -> dict:
    """A CreateWorkspaces entry carrying the run's tags (replacing any tag with the same keys)."""
    ours = run_tags(run_id)
    keys = {tag["Key"] for tag in ours}
    kept = [t for t in entry.get("Tags") or [] if not (isinstance(t, dict) and t.get("Key") in keys)]
    return dict(entry, Tags=kept + ours)


class Resources:
    """Discovery, the resource pool and the WorkSpaces the run creates for itself, within its budget."""

    def __init__(self, target, caller, guard, sender, coverage, timing) -> None:
        self.target = target
        self.caller = caller
        self.guard = guard
        self.sender = sender
        self.coverage = coverage
        self.timing = timing

    def discover(self):
        """The live resources of the target now (a ``strategies.ResourcePool``); the guard learns them."""
        pool = targets.discover(self.caller, self.target)
        self.guard.meet(pool)
        return pool

    def pool(self, *, workspaces: int = 3, operation: str | None = None):
        """Live resources of the target, refreshed, with at least ``workspaces`` of the run's own where allowed.

        Give ``operation`` when the pool feeds generated requests to it: the guard
        then leaves out what those requests must not name (see :meth:`RemoteGuard.restrict`).
        """
        pool = self.discover()
        self._ensure_workspaces(pool, workspaces)
        self.sender.known_ids = frozenset(pool.resource_ids())
        return self.guard.restrict(pool, operation)

    def settle_for(self, operation: str, pool) -> None:
        """Wait until one of the pool's WorkSpaces is in a state ``operation`` accepts, if waiting can bring one.

        A new WorkSpace is PENDING; an action whose cited precondition wants it
        AVAILABLE would refuse every valid request drawn before it settles, and
        the refusals would be the timing's doing, not the target's.
        """
        allowed = _accepted_states(operation)
        rule = specs.rule("timing.create")
        if rule["transition"][-1] not in allowed or not pool.workspaces:
            return
        # Real targets take the documented time, loopback ones the deadline fitted to them; a mock whose
        # WorkSpaces never settle shows it in the lifecycle checks.
        limit = self.timing.deadlines.deadline(rule["deadline_seconds"], rule["id"]).seconds
        deadline = time.monotonic() + limit
        while not self.timing.budget.spent():
            states = self._states(pool.workspaces[:25])
            if set(states.values()) & allowed:
                return
            now = time.monotonic()
            # WorkSpaces an earlier test already waited for past the deadline are not waited for again.
            latest = max((self.timing.deadlines.shown(w, str(s), now) for w, s in states.items()), default=now)
            if now >= deadline or now - latest >= limit:
                self.timing.deadlines.overdue(rule["id"])
                return
            time.sleep(15.0 if self.target.remote else 0.05)

    def _states(self, workspace_ids: list[str]) -> dict:
        """WorkspaceId -> State, as the WorkSpaces' describe operation answers for ``workspace_ids`` now."""
        family = specs.resource(WORKSPACES)
        listing, state = family["describe"], family["states"]["member"]
        body = self.caller.call(listing["operation"], {listing["id_filter"]: workspace_ids}).json
        if not isinstance(body, dict):
            return {}
        return {w.get(listing["id_key"]): w.get(state) for w in (body.get(listing["result_key"]) or [])
                if isinstance(w, dict) and isinstance(w.get(listing["id_key"]), str)}

    def _ensure_workspaces(self, pool, count: int) -> None:
        own = [w for w in pool.workspaces if w in self.target.created] if self.target.remote else pool.workspaces
        missing = min(count - len(own), self.target.room())
        creating = specs.resource(WORKSPACES)["create"][0]
        if missing <= 0 or not self.guard.may_send(creating) or not self.coverage.implemented(creating):
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
            exchange = self.sender.call(specs.resource(WORKSPACES)["create"][0], params, own_create=True)
            answered = True
        finally:
            if not answered:  # a timeout or an interrupt: the WorkSpaces may exist all the same
                self.target.uncertain = True
        self.target.record_creation(granted, exchange.response)
        return exchange


def _accepted_states(operation: str) -> set[str]:
    """The WorkSpace states in which the cited preconditions let ``operation`` act."""
    return {state for rule in specs.rules()["preconditions"] if rule.get("operation") == operation
            for state in rule.get("allowed_states", [])}
