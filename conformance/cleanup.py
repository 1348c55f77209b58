"""Removing what a run created: at the end of a run, on interrupt, and by the sweep command.

Only resources that carry the suite's run tag are ever touched.
"""
from __future__ import annotations

import time

from .client import Caller

RUN_TAG = "conformance:run-id"
CREATED_TAG = "conformance:created-at"


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
            raise RuntimeError(f"DescribeWorkspaces failed while sweeping: {response.describe()}")
        for workspace in body.get("Workspaces") or []:
            if workspace.get("State") in ("TERMINATING", "TERMINATED"):
                continue
            tags = _tags(caller, workspace.get("WorkspaceId", ""))
            if RUN_TAG not in tags or (run_id is not None and tags[RUN_TAG] != run_id):
                continue
            created = float(tags.get(CREATED_TAG, "0") or 0)
            if now - created >= older_than:
                found.append(workspace["WorkspaceId"])
        token = body.get("NextToken")
        if not token:
            return found


def _tags(caller: Caller, resource_id: str) -> dict[str, str]:
    response = caller.call("DescribeTags", {"ResourceId": resource_id})
    body = response.json if isinstance(response.json, dict) else {}
    return {t.get("Key"): t.get("Value", "") for t in body.get("TagList") or [] if isinstance(t, dict)}


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


def cleanup_run(caller: Caller, run_id: str, created: list[str]) -> list[str]:
    """Terminate what run ``run_id`` created, checked against the tags before each call."""
    ours = set(tagged_workspaces(caller, run_id=run_id))
    doomed = [w for w in dict.fromkeys(created) if w in ours]
    return terminate(caller, doomed) if doomed else []
