"""Removing what a run created: at the end of a run, on interrupt, and by the sweep command.

A WorkSpace is the run's own when a CreateWorkspaces the run sent returned its
id, or when it carries the run's tag. The sweep touches only WorkSpaces that
carry the suite's tag; nothing else is ever terminated.

Which operation lists, describes and removes a kind of resource, and in which
states it is already gone, comes from the resources section of rules.json
(:func:`specs.resource`); the functions take the pool kind, WorkSpaces by default.
"""
from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
import time

import specs

from .client import Caller

RUN_TAG = "conformance:run-id"
CREATED_TAG = "conformance:created-at"
# The kind of resource a run creates for itself (Target.created), and the only one it removes.
WORKSPACES = "workspaces"


def run_tags(run_id: str, now: float | None = None) -> list[dict]:
    """The tags every resource created by run ``run_id`` carries."""
    return [
        {"Key": RUN_TAG, "Value": run_id},
        {"Key": CREATED_TAG, "Value": str(int(now if now is not None else time.time()))},
    ]


def _family(kind: str) -> dict:
    """The resource family of pool kind ``kind``, which cleanup must be able to list and remove."""
    entry = specs.resource(kind)
    if "describe" not in entry or "delete" not in entry:
        raise ValueError(f"Expected a resource kind that rules.json says how to describe and delete but got kind={kind!r}")
    return entry


def _is_gone(entry: dict, item: dict) -> bool:
    gone = specs.gone_states(entry)
    return bool(gone) and item.get(entry["states"]["member"]) in gone


def tagged_resources(caller: Caller, kind: str = WORKSPACES, *, run_id: str | None = None,
                     older_than: float = 0.0) -> list[str]:
    """Ids of live resources of ``kind`` carrying our run tag (of ``run_id`` when given), older than ``older_than`` s."""
    entry = _family(kind)
    describe = entry["describe"]
    found, token, now = [], None, time.time()
    while True:
        response = caller.call(describe["operation"], {"NextToken": token} if token else {})
        body = response.json if isinstance(response.json, dict) else {}
        if response.status != 200:
            raise RuntimeError(f"{describe['operation']} failed while looking for tagged resources: "
                               f"{response.describe(300)}")
        for item in body.get(describe["result_key"]) or []:
            if not isinstance(item, dict) or _is_gone(entry, item):
                continue
            resource_id = item.get(describe["id_key"])
            if not isinstance(resource_id, str):
                continue
            tags = _tags(caller, resource_id)
            if RUN_TAG not in tags or (run_id is not None and tags[RUN_TAG] != run_id):
                continue
            if now - _created_at(tags) >= older_than:
                found.append(resource_id)
        token = body.get("NextToken")
        if not token:
            return found


def tagged_workspaces(caller: Caller, *, run_id: str | None = None, older_than: float = 0.0) -> list[str]:
    """Ids of live WorkSpaces carrying our run tag (of ``run_id`` when given), older than ``older_than`` s."""
    return tagged_resources(caller, WORKSPACES, run_id=run_id, older_than=older_than)


def _created_at(tags: dict[str, str]) -> float:
    # A missing or garbled stamp counts as old: the run tag alone proves the resource is ours.
    try:
        return float(tags.get(CREATED_TAG) or 0)
    except ValueError:
        return 0.0


def _tags(caller: Caller, resource_id: str) -> dict[str, str]:
    reading = specs.tag_listing()
    response = caller.call(reading["operation"], {reading["member"]: resource_id})
    body = response.json if isinstance(response.json, dict) else {}
    if response.status != 200:
        return {}  # unreadable tags: treated as untagged, so left alone
    return {t.get("Key"): t.get("Value", "") for t in body.get(reading["result_key"]) or [] if isinstance(t, dict)}


def live_resources(caller: Caller, resource_ids: list[str], kind: str = WORKSPACES) -> list[str]:
    """Those of ``resource_ids`` the target still describes in a state other than a gone one."""
    entry = _family(kind)
    describe = entry["describe"]
    if "id_filter" not in describe:  # no filter by ids: the whole listing, kept to the ids asked about
        listed = _listing(caller, describe)
        if listed is None:
            return list(resource_ids)  # cannot tell: try to delete them all the same
        return [i for i in resource_ids if any(item.get(describe["id_key"]) == i and not _is_gone(entry, item)
                                               for item in listed)]
    size = _batch(describe["operation"], describe["id_filter"])
    live = []
    for start in range(0, len(resource_ids), size):
        batch = resource_ids[start : start + size]
        response = caller.call(describe["operation"], {describe["id_filter"]: batch})
        body = response.json if isinstance(response.json, dict) else None
        if response.status != 200 or body is None:
            live += batch  # cannot tell: try to delete them all the same
            continue
        live += [item.get(describe["id_key"]) for item in body.get(describe["result_key"]) or []
                 if isinstance(item, dict) and item.get(describe["id_key"]) in batch and not _is_gone(entry, item)]
    return live


def live_workspaces(caller: Caller, workspace_ids: list[str]) -> list[str]:
    """Those of ``workspace_ids`` the target still describes in a state other than TERMINATING/TERMINATED."""
    return live_resources(caller, workspace_ids, WORKSPACES)


def _listing(caller: Caller, describe: dict) -> list[dict] | None:
    """Every item of a listing followed to its last page; None when a page is refused."""
    items, token = [], None
    while True:
        response = caller.call(describe["operation"], {"NextToken": token} if token else {})
        body = response.json if isinstance(response.json, dict) else None
        if response.status != 200 or body is None:
            return None
        items += [item for item in body.get(describe["result_key"]) or [] if isinstance(item, dict)]
        token = body.get("NextToken")
        if not token:
            return items


def _batch(operation: str, member: str) -> int:
    """How many ids one request may carry in list member ``member`` (its maxItems; 25 when the model sets none)."""
    return int(specs.input_member(operation, member).get("maxItems", 25))


def delete_resources(caller: Caller, resource_ids: list[str], kind: str = WORKSPACES) -> list[str]:
    """Delete ``resource_ids`` of ``kind`` with the kind's delete operation, in batches; return the ids refused."""
    deletion = _family(kind)["delete"]
    operation = deletion["operation"]
    listed, _, member = deletion["request"].rpartition("[].")
    size = _batch(operation, listed) if listed else 1
    refused = []
    for start in range(0, len(resource_ids), size):
        batch = resource_ids[start : start + size]
        params = {listed: [{member: i} for i in batch]} if listed else {member: batch[0]}
        response = caller.call(operation, params)
        body = response.json if isinstance(response.json, dict) else {}
        if response.status != 200:
            refused += batch
            continue
        if "refused" in deletion:
            failures, _, key = deletion["refused"].partition("[].")
            refused += [f.get(key) for f in body.get(failures) or [] if isinstance(f, dict)]
    return refused


def terminate(caller: Caller, workspace_ids: list[str]) -> list[str]:
    """Terminate ``workspace_ids`` in batches of the model's maximum; return the ids the target refused."""
    return delete_resources(caller, workspace_ids, WORKSPACES)


@dataclasses.dataclass
class CleanupResult:
    """What the cleanup of one run did."""

    terminated: list[str]
    refused: list[str]


def cleanup_run(caller: Caller, run_id: str, created: list[str], *, scan: bool = False,
                kind: str = WORKSPACES) -> CleanupResult:
    """Delete the live resources of ``kind`` (WorkSpaces: terminate them) run ``run_id`` created.

    With ``scan`` (an answer to a create was lost) every resource of the kind in
    the account is also checked for the run's tag, to find those whose id never came back.
    """
    doomed = live_resources(caller, list(dict.fromkeys(created)), kind) if created else []
    if scan:
        doomed += [i for i in tagged_resources(caller, kind, run_id=run_id) if i not in doomed]
    refused = delete_resources(caller, doomed, kind) if doomed else []
    return CleanupResult([i for i in doomed if i not in refused], refused)


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
