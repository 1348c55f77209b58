"""WorkSpaces waiters (available, stopped, terminated) built from rules.json, in botocore's waiter format.

botocore ships no waiters for WorkSpaces. These poll DescribeWorkspaces: a
waiter succeeds when every WorkSpace asked for is in the target state, and
fails at once on a state from which the state graph cannot reach the target
without another action. Delays and attempt counts come from ``timing``.

    waiter = get_waiter(client, "WorkspaceAvailable")
    waiter.wait(WorkspaceIds=[workspace_id], WaiterConfig={"Delay": 5})
"""
from __future__ import annotations

import functools
import math

import botocore.waiter

import specs
from strategies.lifecycle import GONE, LifecycleModel

__all__ = ["DEFAULT_DELAY", "WAITERS", "get_waiter", "waiter_model", "waiter_names"]

DEFAULT_DELAY = 15  # seconds between polls, terraform's and most botocore waiters' choice
# Waiter name -> (target state, timing rule that bounds the wait).
WAITERS = {
    "WorkspaceAvailable": ("AVAILABLE", "timing.create"),
    "WorkspaceStopped": ("STOPPED", "timing.stop"),
    "WorkspaceTerminated": ("TERMINATED", "timing.terminate"),
}
STATE_PATH = "Workspaces[].State"


def _unreachable_from(lifecycle: LifecycleModel, target: str) -> list[str]:
    """States from which no chain of asynchronous edges leads to ``target``."""
    goals = {target, GONE} if target == "TERMINATED" else {target}
    return sorted(state for state in lifecycle.states
                  if state not in goals and not goals & lifecycle.reachable(state))


def waiter_model(rules: dict | None = None, delay: int = DEFAULT_DELAY) -> dict:
    """The waiter definitions (``{"version": 2, "waiters": {...}}``) for ``rules`` (default: rules.json)."""
    if not isinstance(delay, (int, float)) or delay < 0:
        raise ValueError(f"Expected a delay in seconds >= 0 but got delay={delay!r}")
    rules = specs.rules() if rules is None else rules
    lifecycle = LifecycleModel(rules)
    timing = {entry["id"]: entry for entry in rules["timing"]}
    waiters = {}
    for name, (target, timing_id) in WAITERS.items():
        deadline = timing[timing_id]["deadline_seconds"]
        acceptors = [{"matcher": "pathAll", "argument": STATE_PATH, "expected": target, "state": "success"}]
        if target == "TERMINATED":
            # TERMINATED shows only briefly; a WorkSpace no longer described is terminated too.
            acceptors.append({"matcher": "path", "argument": "length(Workspaces[]) == `0`",
                              "expected": True, "state": "success"})
        acceptors += [{"matcher": "pathAny", "argument": STATE_PATH, "expected": state, "state": "failure"}
                      for state in _unreachable_from(lifecycle, target)]
        waiters[name] = {
            "operation": "DescribeWorkspaces",
            "delay": delay,
            "maxAttempts": max(1, math.ceil(deadline / max(delay, 1))),
            "description": f"Wait until WorkSpaces are {target} ({timing_id}: {deadline} s).",
            "acceptors": acceptors,
        }
    return {"version": 2, "waiters": waiters}


@functools.lru_cache(maxsize=1)
def _default_model() -> botocore.waiter.WaiterModel:
    return botocore.waiter.WaiterModel(waiter_model())


def waiter_names() -> list[str]:
    return sorted(WAITERS)


def get_waiter(client, name: str) -> botocore.waiter.Waiter:
    """A botocore waiter called ``name`` for a WorkSpaces ``client``."""
    if name not in WAITERS:
        raise ValueError(f"Expected a waiter name from {waiter_names()} but got name={name!r}")
    return botocore.waiter.create_waiter_with_client(name, _default_model(), client)
