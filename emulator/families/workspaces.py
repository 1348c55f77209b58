"""WorkSpaces beyond the seed operations: standby copies, migration, restore, admin maintenance, snapshots.

The WorkSpace records and their lifecycle are the backend's (the seed
operations'); these handlers move the same records along the same state graph
of rules.json.
"""
from __future__ import annotations

from ..operations import handles

# The answer's WorkspaceErrorCode for a standby request naming what this account does not hold.
_NOT_FOUND = {"workspace": "ResourceNotFound.Workspace", "directory": "ResourceNotFound.Directory"}


def _edges(backend, operation: str) -> list[dict]:
    """The state graph's edges ``operation`` triggers."""
    return [edge for edge in backend.contract.rules["state_graph"] if edge["trigger"] == operation]


def _workspace(backend, workspace_id, operation: str):
    record = backend.live_workspace(workspace_id)
    if record is None:
        raise backend.refuse(operation, "not_found", f"The WorkSpace {workspace_id} could not be found.")
    return record


@handles("ModifyWorkspaceState")
def modify_workspace_state(backend, params: dict) -> dict:
    """Put an AVAILABLE WorkSpace in ADMIN_MAINTENANCE or bring it back, as the state graph allows."""
    record = _workspace(backend, params["WorkspaceId"], "ModifyWorkspaceState")
    wanted = params["WorkspaceState"]
    if record.state == wanted:
        return {}  # already there: nothing to change
    if not any(record.state in edge["from"] and edge["to"] == wanted for edge in _edges(backend, "ModifyWorkspaceState")):
        raise backend.refuse("ModifyWorkspaceState", "invalid_state",
                             f"The WorkSpace {record.workspace_id} is in state {record.state}; "
                             f"it cannot be put in {wanted}.")
    backend.lifecycle.enter(record, wanted)
    return {}


@handles("RestoreWorkspace")
def restore_workspace(backend, params: dict) -> dict:
    """Restore a WorkSpace to its last snapshot: RESTORING, then AVAILABLE on the clock."""
    record = _workspace(backend, params["WorkspaceId"], "RestoreWorkspace")
    allowed = backend.contract.preconditions["RestoreWorkspace"][0]
    if record.state not in allowed and "restore_ignores_state" not in backend.faults:
        raise backend.refuse("RestoreWorkspace", "operation_not_supported",
                             f"The WorkSpace {record.workspace_id} is in state {record.state}; "
                             f"it can be restored only in {', '.join(allowed)}.")
    record.marks["restored"] = backend.lifecycle.clock()
    backend.lifecycle.enter(record, "RESTORING")
    return {}


@handles("DescribeWorkspaceSnapshots")
def describe_workspace_snapshots(backend, params: dict) -> dict:
    """The snapshots a WorkSpace can be rebuilt or restored to: the one taken when it became available."""
    record = _workspace(backend, params["WorkspaceId"], "DescribeWorkspaceSnapshots")
    if record.state == "PENDING":
        return {"RebuildSnapshots": [], "RestoreSnapshots": []}
    taken = backend.wall_time(record.marks["launched"])
    return {"RebuildSnapshots": [{"SnapshotTime": taken}], "RestoreSnapshots": [{"SnapshotTime": taken}]}


@handles("MigrateWorkspace")
def migrate_workspace(backend, params: dict) -> dict:
    """Move a WorkSpace to another bundle: a new WorkSpace for the same user, the source terminated."""
    source = _workspace(backend, params["SourceWorkspaceId"], "MigrateWorkspace")
    bundle_id = params["BundleId"]
    if bundle_id not in backend.store.bundles:
        raise backend.refuse("MigrateWorkspace", "not_found", f"The bundle {bundle_id} could not be found.")
    if source.state not in ("AVAILABLE", "STOPPED"):
        raise backend.refuse("MigrateWorkspace", "invalid_state",
                             f"The WorkSpace {source.workspace_id} is in state {source.state}; "
                             "it can be migrated only when AVAILABLE or STOPPED.")
    request = {"DirectoryId": source.directory_id, "UserName": source.user_name, "BundleId": bundle_id,
               "WorkspaceProperties": {"RunningMode": source.properties.get("RunningMode")}}
    target = backend.launch(request)
    target.tags = [list(pair) for pair in source.tags]
    if "migrate_keeps_source" not in backend.faults:
        backend.lifecycle.enter(source, "TERMINATING")
    return {"SourceWorkspaceId": source.workspace_id, "TargetWorkspaceId": target.workspace_id}


@handles("CreateStandbyWorkspaces")
def create_standby_workspaces(backend, params: dict) -> dict:
    """Standby WorkSpaces of primaries, each PENDING; a request naming an unknown one is a failed entry.

    The emulator holds one account: the primary Region's WorkSpaces are looked
    up among its own, and each side names the other in RelatedWorkspaces.
    """
    failed, pending = [], []
    for request in params["StandbyWorkspaces"]:
        backend.check_tags(request.get("Tags") or [])
        primary = backend.live_workspace(request["PrimaryWorkspaceId"])
        missing = ("workspace" if primary is None
                   else "directory" if request["DirectoryId"] not in backend.store.directories else None)
        if missing:
            failed.append({"StandbyWorkspaceRequest": request, "ErrorCode": _NOT_FOUND[missing],
                           "ErrorMessage": f"The {missing} named by the request could not be found."})
            continue
        standby = backend.launch({"DirectoryId": request["DirectoryId"], "UserName": primary.user_name,
                                  "BundleId": primary.bundle_id, "Tags": request.get("Tags") or [],
                                  **{key: request[key] for key in ("VolumeEncryptionKey",) if key in request}})
        if request.get("DataReplication"):
            for record in (primary, standby):
                record.extra["DataReplicationSettings"] = {"DataReplication": request["DataReplication"]}
        region = params["PrimaryRegion"]
        primary.extra.setdefault("RelatedWorkspaces", []).append(
            {"WorkspaceId": standby.workspace_id, "Region": backend.region, "Type": "STANDBY"})
        standby.extra["RelatedWorkspaces"] = [
            {"WorkspaceId": primary.workspace_id, "Region": region, "Type": "PRIMARY"}]
        pending.append({"UserName": standby.user_name, "DirectoryId": standby.directory_id,
                        "State": standby.state, "WorkspaceId": standby.workspace_id})
    return {"FailedStandbyRequests": failed, "PendingStandbyRequests": pending}

