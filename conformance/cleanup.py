"""Removing what a run created: at the end of a run, on interrupt, and by the sweep command.

A WorkSpace is the run's own when a CreateWorkspaces the run sent returned its
id, or when it carries the run's tag. The sweep touches only WorkSpaces that
carry the suite's tag; nothing else is ever terminated.
"""
from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
import time

from .client import Caller

RUN_TAG = "conformance:run-id"
CREATED_TAG = "conformance:created-at"
GONE_STATES = ("TERMINATING", "TERMINATED")


def run_tags(run_id: str, now: float | None = None) -> list[dict]:
    """The tags every resource created by run ``run_id`` carries."""
    return [
        {"Key": RUN_TAG, "Value": run_id},
        {"Key": CREATED_TAG, "Value": str(int(now if now is not None else time.time()))},
    ]


def tagged_workspaces(caller: Caller, *, run_id: str | None = None, older_than: float = 0.0) -> list[str]:
    """Ids of live WorkSpaces carrying our run tag (of ``run_id`` when given), older than ``older_than`` s."""
    found, token, now = [], None, time.time()
    while True:
        response = caller.call("DescribeWorkspaces", {"NextToken": token} if token else {})
        body = response.json if isinstance(response.json, dict) else {}
        if response.status != 200:
            raise RuntimeError(f"DescribeWorkspaces failed while looking for tagged WorkSpaces: {response.describe(300)}")
        for workspace in body.get("Workspaces") or []:
            if not isinstance(workspace, dict) or workspace.get("State") in GONE_STATES:
                continue
            workspace_id = workspace.get("WorkspaceId")
            if not isinstance(workspace_id, str):
                continue
            tags = _tags(caller, workspace_id)
            if RUN_TAG not in tags or (run_id is not None and tags[RUN_TAG] != run_id):
                continue
            if now - _created_at(tags) >= older_than:
                found.append(workspace_id)
        token = body.get("NextToken")
        if not token:
            return found


def _created_at(tags: dict[str, str]) -> float:
    # A missing or garbled stamp counts as old: the run tag alone proves the WorkSpace is ours.
    try:
        return float(tags.get(CREATED_TAG) or 0)
    except ValueError:
        return 0.0


def _tags(caller: Caller, resource_id: str) -> dict[str, str]:
    response = caller.call("DescribeTags", {"ResourceId": resource_id})
    body = response.json if isinstance(response.json, dict) else {}
    if response.status != 200:
        return {}  # unreadable tags: treated as untagged, so left alone
    return {t.get("Key"): t.get("Value", "") for t in body.get("TagList") or [] if isinstance(t, dict)}


def live_workspaces(caller: Caller, workspace_ids: list[str]) -> list[str]:
    """Those of ``workspace_ids`` the target still describes in a state other than TERMINATING/TERMINATED."""
    live = []
    for start in range(0, len(workspace_ids), 25):
        batch = workspace_ids[start : start + 25]
        response = caller.call("DescribeWorkspaces", {"WorkspaceIds": batch})
        body = response.json if isinstance(response.json, dict) else None
        if response.status != 200 or body is None:
            live += batch  # cannot tell: try to terminate them all the same
            continue
        live += [w.get("WorkspaceId") for w in body.get("Workspaces") or []
                 if isinstance(w, dict) and w.get("WorkspaceId") in batch and w.get("State") not in GONE_STATES]
    return live


def terminate(caller: Caller, workspace_ids: list[str]) -> list[str]:
    """Terminate ``workspace_ids`` in batches of 25; return the ids the target refused."""
    refused = []
    for start in range(0, len(workspace_ids), 25):
        batch = workspace_ids[start : start + 25]
        response = caller.call(
            "TerminateWorkspaces", {"TerminateWorkspaceRequests": [{"WorkspaceId": w} for w in batch]}
        )
        body = response.json if isinstance(response.json, dict) else {}
        if response.status != 200:
            refused += batch
            continue
        refused += [f.get("WorkspaceId") for f in body.get("FailedRequests") or [] if isinstance(f, dict)]
    return refused


@dataclasses.dataclass
class CleanupResult:
    """What the cleanup of one run did."""

    terminated: list[str]
    refused: list[str]


def cleanup_run(caller: Caller, run_id: str, created: list[str], *, scan: bool = False) -> CleanupResult:
    """Terminate the live WorkSpaces run ``run_id`` created.

    With ``scan`` (an answer to a CreateWorkspaces was lost) every WorkSpace of the
    account is also checked for the run's tag, to find those whose id never came back.
    """
    doomed = live_workspaces(caller, list(dict.fromkeys(created))) if created else []
    if scan:
        doomed += [w for w in tagged_workspaces(caller, run_id=run_id) if w not in doomed]
    refused = terminate(caller, doomed) if doomed else []
    return CleanupResult([w for w in doomed if w not in refused], refused)


@contextlib.contextmanager
def deferred_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Hold off the first SIGINT/SIGTERM while the block runs (a second one interrupts as usual)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in signals}
    received: list[int] = []

    def hold(number, frame):
        if received:
            raise KeyboardInterrupt(f"signal {number} during cleanup")
        received.append(number)
        print("workspaces-conformance: cleaning up the run's WorkSpaces; signal again to abandon the cleanup",
              file=sys.stderr, flush=True)

    for number in signals:
        signal.signal(number, hold)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
