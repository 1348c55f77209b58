"""The WorkSpace operations beyond the seed: admin maintenance, restore, snapshots, migration, standby copies."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _available(env, **create) -> str:
    workspace_id = env.create(**create)
    assert env.settle(workspace_id) == "AVAILABLE"
    return workspace_id


def _code(call, **params) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"]


def _restore_pending(env) -> str:
    """What RestoreWorkspace makes of a WorkSpace still PENDING: its error code, or the state it entered."""
    workspace_id = env.create(user="pending")
    try:
        env.client.restore_workspace(WorkspaceId=workspace_id)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return env.state(workspace_id)


def _migrated_source(env) -> str:
    source = _available(env)
    env.client.migrate_workspace(SourceWorkspaceId=source, BundleId=env.bundle)
    return env.state(source)


FAULT_SCENARIOS = {
    "restore_ignores_state": (_restore_pending, "OperationNotSupportedException", "RESTORING"),
    "migrate_keeps_source": (_migrated_source, "TERMINATING", "AVAILABLE"),
}


def test_admin_maintenance_round_trip_and_refusals(env):
    workspace_id = _available(env)
    env.client.modify_workspace_state(WorkspaceId=workspace_id, WorkspaceState="ADMIN_MAINTENANCE")
    assert env.state(workspace_id) == "ADMIN_MAINTENANCE"
    # In ADMIN_MAINTENANCE a WorkSpace does not take reboots (the precondition of rules.json).
    failed = env.client.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": workspace_id}])["FailedRequests"]
    assert [entry["WorkspaceId"] for entry in failed] == [workspace_id]
    env.client.modify_workspace_state(WorkspaceId=workspace_id, WorkspaceState="AVAILABLE")
    assert env.state(workspace_id) == "AVAILABLE"
    pending = env.create(user="dave")
    assert _code(env.client.modify_workspace_state, WorkspaceId=pending,
                 WorkspaceState="ADMIN_MAINTENANCE") == "InvalidResourceStateException"
    assert _code(env.client.modify_workspace_state, WorkspaceId="ws-0000000000",
                 WorkspaceState="AVAILABLE") == "ResourceNotFoundException"


def test_restore_passes_through_restoring_and_is_refused_while_pending(env):
    workspace_id = _available(env)
    env.client.restore_workspace(WorkspaceId=workspace_id)
    assert [env.state(workspace_id) for _ in range(2)] == ["RESTORING", "AVAILABLE"]
    assert _restore_pending(env) == "OperationNotSupportedException"


def test_snapshots_appear_once_the_workspace_is_available(env):
    workspace_id = env.create()
    empty = env.client.describe_workspace_snapshots(WorkspaceId=workspace_id)
    assert (empty["RebuildSnapshots"], empty["RestoreSnapshots"]) == ([], [])
    env.settle(workspace_id)
    taken = env.client.describe_workspace_snapshots(WorkspaceId=workspace_id)
    assert len(taken["RebuildSnapshots"]) == len(taken["RestoreSnapshots"]) == 1


def test_migrate_makes_a_new_workspace_on_the_bundle_and_terminates_the_source(env):
    source = _available(env, user="erin")
    other_bundle = next(b["BundleId"] for b in env.emulator.seed["bundles"] if b["BundleId"] != env.bundle)
    result = env.client.migrate_workspace(SourceWorkspaceId=source, BundleId=other_bundle)
    target = result["TargetWorkspaceId"]
    assert result["SourceWorkspaceId"] == source and target != source
    found = env.raw("DescribeWorkspaces", {"WorkspaceIds": [target]})[2]["Workspaces"][0]
    assert (found["UserName"], found["BundleId"], found["State"]) == ("erin", other_bundle, "PENDING")
    assert env.state(source) == "TERMINATING"
    assert _code(env.client.migrate_workspace, SourceWorkspaceId=target,
                 BundleId="wsb-0000000000") == "ResourceNotFoundException"


def test_standby_workspaces_name_their_primary_and_unknown_primaries_fail(env):
    primary = _available(env, user="frank")
    result = env.client.create_standby_workspaces(PrimaryRegion="us-west-2", StandbyWorkspaces=[
        {"PrimaryWorkspaceId": primary, "DirectoryId": env.directories[1]},
        {"PrimaryWorkspaceId": "ws-0000000000", "DirectoryId": env.directories[1]}])
    (pending,) = result["PendingStandbyRequests"]
    (failed,) = result["FailedStandbyRequests"]
    assert failed["StandbyWorkspaceRequest"]["PrimaryWorkspaceId"] == "ws-0000000000" and failed["ErrorCode"]
    assert (pending["UserName"], pending["DirectoryId"], pending["State"]) == ("frank", env.directories[1], "PENDING")
    standby = env.raw("DescribeWorkspaces", {"WorkspaceIds": [pending["WorkspaceId"]]})[2]["Workspaces"][0]
    assert standby["RelatedWorkspaces"] == [{"WorkspaceId": primary, "Region": "us-west-2", "Type": "PRIMARY"}]
    first = env.raw("DescribeWorkspaces", {"WorkspaceIds": [primary]})[2]["Workspaces"][0]
    assert first["RelatedWorkspaces"] == [{"WorkspaceId": pending["WorkspaceId"], "Region": "us-east-1",
                                           "Type": "STANDBY"}]
