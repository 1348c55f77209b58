"""WorkSpaces Pools: pools of non-persistent WorkSpaces, their lifecycle and their user sessions.

A pool is CREATING, then RUNNING; StopWorkspacesPool and StartWorkspacesPool
move an AutoStop pool through STOPPING to STOPPED and through STARTING back to
RUNNING; UpdateWorkspacesPool on a running pool rolls its WorkSpaces through
UPDATING; TerminateWorkspacesPool leaves it DELETING until it is gone. The
settling of each transitional state is the pools entry of rules.json's
resources section. Sessions belong to a running pool and end with it.
"""
from __future__ import annotations

import random
import time

from ..operations import handles, seeds

POOLS = "pools"
SESSIONS = "pool_sessions"
_POOL_ID_PREFIX = "wspool-"
_POOL_ID_LENGTH = 9
_HEX = "0123456789abcdef"
# The documented preconditions: a pool starts only if it is an AutoStop pool that is STOPPED,
# and stops only if it is an AutoStop pool that is running.
_ACTIONS = {
    "StartWorkspacesPool": ("STOPPED", "STARTING"),
    "StopWorkspacesPool": ("RUNNING", "STOPPING"),
}
# States a pool passes through on its own; a request in one of them finds an operation in progress.
_BUSY = ("CREATING", "STARTING", "STOPPING", "UPDATING")
# Members of UpdateWorkspacesPool that replace the pool's value whole; TimeoutSettings merges member by member.
_REPLACED = ("Description", "BundleId", "DirectoryId", "ApplicationSettings", "RunningMode")


def _render(record) -> dict:
    """The WorkspacesPool structure of ``record``, with its state and capacity as of now."""
    body = dict(record.body)
    body["State"] = record.state
    body["CapacityStatus"] = _capacity(record)
    return body


def _capacity(record) -> dict:
    """The pool's user sessions: desired as configured, actual provisioned while it runs, active in use."""
    desired = record.private["desired"]
    active = record.private["active"]
    actual = max(desired, active) if record.state in ("RUNNING", "UPDATING") else 0
    return {"AvailableUserSessions": max(actual - active, 0), "DesiredUserSessions": desired,
            "ActualUserSessions": actual, "ActiveUserSessions": active}


def _application_settings(backend, requested: dict | None) -> dict | None:
    """The ApplicationSettingsResponse of a request's settings: enabled ones name the bucket they persist in."""
    if requested is None:
        return None
    settings = {"Status": requested["Status"]}
    if requested["Status"] == "ENABLED":
        settings["SettingsGroup"] = requested.get("SettingsGroup") or "default"
        settings["S3BucketName"] = f"wspool-app-settings-{backend.region}-{backend.store.account_id}"
    return settings


def _check_references(backend, params: dict, operation: str) -> None:
    """Refuse a BundleId or DirectoryId that names nothing the account holds."""
    if params.get("DirectoryId") is not None:
        backend.directory(params["DirectoryId"], operation)
    bundle_id = params.get("BundleId")
    if bundle_id is not None and bundle_id not in backend.store.bundles:
        raise backend.refuse(operation, "not_found", f"The bundle {bundle_id} could not be found.")


def _pool(backend, pool_id: str, operation: str):
    """The live pool ``pool_id``; else the not-found error ``operation`` models."""
    return backend.find(POOLS, pool_id, operation, what="WorkSpaces pool")


def _refuse_busy(backend, record, operation: str) -> None:
    """Refuse ``operation`` on a pool that is changing by itself or being deleted."""
    if record.state in _BUSY:
        raise backend.refuse(operation, "in_progress",
                             f"The WorkSpaces pool {record.id} is {record.state}; try {operation} again "
                             "when it has settled.")
    if record.state == "DELETING":
        raise backend.refuse(operation, "invalid_state",
                             f"The WorkSpaces pool {record.id} is being deleted; {operation} cannot change it.")


def add_pool(backend, params: dict, *, state: str, created_at: float, pool_id: str | None = None):
    """Store a pool made from the members of a CreateWorkspacesPool request, in ``state``."""
    store = backend.store
    pool_id = pool_id or store.new_id(_POOL_ID_PREFIX, _POOL_ID_LENGTH)
    body = {
        "PoolId": pool_id,
        "PoolArn": f"arn:aws:workspaces:{backend.region}:{store.account_id}:workspacespool/{pool_id}",
        "PoolName": params["PoolName"],
        "Description": params["Description"],
        "CreatedAt": created_at,
        "BundleId": params["BundleId"],
        "DirectoryId": params["DirectoryId"],
        "RunningMode": params.get("RunningMode") or "AUTO_STOP",
    }
    settings = _application_settings(backend, params.get("ApplicationSettings"))
    if settings is not None:
        body["ApplicationSettings"] = settings
    if params.get("TimeoutSettings") is not None:
        body["TimeoutSettings"] = dict(params["TimeoutSettings"])
    return backend.add(POOLS, pool_id, body, state=state, tags=params.get("Tags") or (),
                       private={"desired": params["Capacity"]["DesiredUserSessions"], "active": 0})


def add_session(backend, pool, user_id: str, *, connected: bool, started: float, rng):
    """Open a user session on ``pool``: a streaming instance with its management network interface.

    ``rng`` draws the session's ids (seeded sessions use their own, so that seeding leaves the
    store's id sequence as it is).
    """
    session_id = "-".join("".join(rng.choice(_HEX) for _ in range(size)) for size in (8, 4, 4, 4, 12))
    duration = (pool.body.get("TimeoutSettings") or {}).get("MaxUserDurationInSeconds", 57600)
    body = {
        "SessionId": session_id,
        "PoolId": pool.id,
        "UserId": user_id,
        "AuthenticationType": "SAML",
        "ConnectionState": "CONNECTED" if connected else "NOT_CONNECTED",
        "InstanceId": "i-" + "".join(rng.choice(_HEX) for _ in range(17)),
        "StartTime": started,
        "ExpirationTime": started + duration,
        "NetworkAccessConfiguration": {
            "EniPrivateIpAddress": f"198.19.{rng.randint(0, 255)}.{rng.randint(4, 254)}",
            "EniId": "eni-" + "".join(rng.choice(_HEX) for _ in range(17)),
        },
    }
    pool.private["active"] += 1
    return backend.add(SESSIONS, session_id, body)


def _end_sessions(backend, pool) -> None:
    """End every session of ``pool`` (its WorkSpaces stop or go away)."""
    table = backend.store.of_kind(SESSIONS)
    for session_id in [s.id for s in table.values() if s.body["PoolId"] == pool.id]:
        del table[session_id]
    pool.private["active"] = 0


@seeds
def seed_pools(backend) -> None:
    """The seed's pools, each in its seeded state, with the user sessions a running one holds."""
    for entry in backend.seed_data.get("pools", []):
        pool = add_pool(backend, entry, state=entry.get("State", "RUNNING"), created_at=entry["CreatedAt"],
                        pool_id=entry["PoolId"])
        rng = random.Random(pool.id)
        for session in entry.get("Sessions", []):
            add_session(backend, pool, session["UserId"], connected=session.get("Connected", True),
                        started=session["StartTime"], rng=rng)


@handles("CreateWorkspacesPool")
def create_workspaces_pool(backend, params: dict) -> dict:
    name = params["PoolName"]
    if any(r.body["PoolName"] == name for r in backend.records(POOLS)):
        raise backend.refuse("CreateWorkspacesPool", "already_exists",
                             f"A WorkSpaces pool named {name} already exists; choose another PoolName.")
    _check_references(backend, params, "CreateWorkspacesPool")
    record = add_pool(backend, params, state="CREATING", created_at=time.time())
    return {"WorkspacesPool": _render(record)}


def _matches(name: str, condition: dict) -> bool:
    """Whether a pool name passes one PoolName filter of DescribeWorkspacesPools."""
    values, operator = condition["Values"], condition["Operator"]
    if operator in ("EQUALS", "NOTEQUALS"):
        found = name in values
    else:
        found = any(value in name for value in values)
    return found if operator in ("EQUALS", "CONTAINS") else not found


@handles("DescribeWorkspacesPools")
def describe_workspaces_pools(backend, params: dict) -> dict:
    records = backend.records(POOLS)
    if params.get("PoolIds") is not None:
        records = [r for r in records if r.id in params["PoolIds"]]
    for condition in params.get("Filters") or []:
        records = [r for r in records if _matches(r.body["PoolName"], condition)]
    return backend.listing("DescribeWorkspacesPools", params, records, "WorkspacesPools", render=_render)


@handles("UpdateWorkspacesPool")
def update_workspaces_pool(backend, params: dict) -> dict:
    record = _pool(backend, params["PoolId"], "UpdateWorkspacesPool")
    _refuse_busy(backend, record, "UpdateWorkspacesPool")
    _check_references(backend, params, "UpdateWorkspacesPool")
    changes = {member: params[member] for member in _REPLACED if params.get(member) is not None}
    if "ApplicationSettings" in changes:
        changes["ApplicationSettings"] = _application_settings(backend, changes["ApplicationSettings"])
    body = record.body
    if "pool_update_replaces_settings" in backend.faults:
        # The pool is rebuilt from the request, as if it listed every setting.
        body = {key: body[key] for key in ("PoolId", "PoolArn", "PoolName", "CreatedAt")}
        record.body = body
    body.update(changes)
    if params.get("TimeoutSettings") is not None:
        body["TimeoutSettings"] = dict(body.get("TimeoutSettings") or {}, **params["TimeoutSettings"])
    if params.get("Capacity") is not None:
        record.private["desired"] = params["Capacity"]["DesiredUserSessions"]
    if record.state == "RUNNING":
        backend.enter(record, "UPDATING")  # running WorkSpaces are replaced with the new settings
    return {"WorkspacesPool": _render(record)}


@handles("StartWorkspacesPool", "StopWorkspacesPool")
def start_or_stop_workspaces_pool(backend, params: dict, operation: str) -> dict:
    """Start or stop an AutoStop pool in the state the action leaves; refuse any other pool."""
    record = _pool(backend, params["PoolId"], operation)
    allowed, target = _ACTIONS[operation]
    ignore = operation == "StartWorkspacesPool" and "pool_start_ignores_state" in backend.faults
    if record.state == "RUNNING" and ignore:
        return {}  # the start request is taken for a pool that is already on its way up
    _refuse_busy(backend, record, operation)
    mode = record.body.get("RunningMode")
    if record.state != allowed or mode != "AUTO_STOP":
        raise backend.refuse(operation, "invalid_state",
                             f"The WorkSpaces pool {record.id} is {record.state} in running mode {mode}; "
                             f"{operation} needs an AUTO_STOP pool that is {allowed}.")
    if operation == "StopWorkspacesPool":
        _end_sessions(backend, record)
        if "pool_stop_skips_stopping" in backend.faults:
            target = "STOPPED"
    backend.enter(record, target)
    return {}


@handles("TerminateWorkspacesPool")
def terminate_workspaces_pool(backend, params: dict) -> dict:
    record = _pool(backend, params["PoolId"], "TerminateWorkspacesPool")
    _refuse_busy(backend, record, "TerminateWorkspacesPool")
    _end_sessions(backend, record)
    backend.enter(record, "DELETING")
    return {}


@handles("DescribeWorkspacesPoolSessions")
def describe_workspaces_pool_sessions(backend, params: dict) -> dict:
    pool = _pool(backend, params["PoolId"], "DescribeWorkspacesPoolSessions")
    sessions = [s for s in backend.records(SESSIONS) if s.body["PoolId"] == pool.id]
    if params.get("UserId") is not None:
        sessions = [s for s in sessions if s.body["UserId"] == params["UserId"]]
    return backend.listing("DescribeWorkspacesPoolSessions", params, sessions, "Sessions",
                           render=lambda s: dict(s.body))


@handles("TerminateWorkspacesPoolSession")
def terminate_workspaces_pool_session(backend, params: dict) -> dict:
    session = backend.find(SESSIONS, params["SessionId"], "TerminateWorkspacesPoolSession", what="session")
    pool = backend.store.of_kind(POOLS).get(session.body["PoolId"])
    if pool is not None:
        pool.private["active"] = max(pool.private["active"] - 1, 0)
    del backend.store.of_kind(SESSIONS)[session.id]
    return {}
