"""Each fault switch of the emulator changes exactly the behaviour its description names."""
from __future__ import annotations

import pytest
from botocore.exceptions import PaginationError

import specs
from conformance.checks import CHECKS
from emulator import CATALOGUE, Emulator
from emulator.faults import validate_fault_names
from tests.emulator_env import family_declarations


def _status(env, operation, body):
    status, _, parsed = env.raw(operation, body)
    return status, parsed.get("__type") if isinstance(parsed, dict) else None


def _stopped(env):
    workspace_id = env.create()
    env.settle(workspace_id)
    env.client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    env.settle(workspace_id)
    return workspace_id


def _walk(env, limit=2, **filters):
    ids, token, pages = [], None, 0
    while pages < 8:
        body = dict(filters, Limit=limit, **({"NextToken": token} if token else {}))
        page = env.raw("DescribeWorkspaces", body)[2]
        ids += [w["WorkspaceId"] for w in page["Workspaces"]]
        token, pages = page.get("NextToken"), pages + 1
        if not token:
            break
    return ids, pages


def _five(env):
    return [env.create(user=f"user{i}") for i in range(5)]


def _walks(env, count, *limits):
    """Per Limit, walking ``count`` new WorkSpaces: (items listed, distinct items, largest page)."""
    for i in range(count):
        env.create(user=f"user{i}")
    seen = []
    for limit in limits:
        ids, sizes, token = [], [], None
        while len(sizes) < 30:
            page = env.raw("DescribeWorkspaces", dict(Limit=limit, **({"NextToken": token} if token else {})))[2]
            ids += [w["WorkspaceId"] for w in page["Workspaces"]]
            sizes.append(len(page["Workspaces"]))
            token = page.get("NextToken")
            if not token:
                break
        seen.append((len(ids), len(set(ids)), max(sizes)))
    return seen


def _tagged_directory(env):
    env.client.create_tags(ResourceId=env.directories[0], Tags=[{"Key": "team", "Value": "blue"}])
    return env.directories[0]


# Each scenario returns an observation; SCENARIOS maps fault -> (scenario, clean, faulty).
SCENARIOS = {
    "unimplemented_connection_status": (
        lambda env: env.raw("DescribeWorkspacesConnectionStatus", {})[:2],
        (200, "application/x-amz-json-1.1"), (500, "text/html; charset=utf-8")),
    "server_error_on_malformed_json": (
        lambda env: _status(env, "DescribeWorkspaces", b"{not json"),
        (400, "SerializationException"), (500, "InternalFailure")),
    "server_error_on_wrong_type": (
        lambda env: _status(env, "DescribeWorkspaces", {"Limit": "five"}),
        (400, "SerializationException"), (500, "InternalFailure")),
    "bundle_storage_without_capacity": (
        lambda env: "Capacity" in env.raw("DescribeWorkspaceBundles", {"Owner": "AMAZON"})[2]["Bundles"][0]["UserStorage"],
        True, False),
    "volume_size_as_string": (
        lambda env: type(env.raw("DescribeWorkspaces", {"WorkspaceIds": [env.create()]})[2]
                         ["Workspaces"][0]["WorkspaceProperties"]["RootVolumeSizeGib"]).__name__,
        "int", "str"),
    "timestamp_as_string": (
        lambda env: (env.create(), type(env.raw("DescribeWorkspacesConnectionStatus", {})[2]
                                        ["WorkspacesConnectionStatus"][0]["ConnectionStateCheckTimestamp"]).__name__)[1],
        "float", "str"),
    "tag_list_as_map": (
        lambda env: env.raw("DescribeTags", {"ResourceId": _tagged_directory(env)})[2]["TagList"],
        [{"Key": "team", "Value": "blue"}], {"team": "blue"}),
    "state_outside_enum": (
        lambda env: env.settle(env.create()), "AVAILABLE", "RUNNING"),
    "compute_type_lowercase": (
        lambda env: env.raw("DescribeWorkspaceBundles", {"Owner": "AMAZON"})[2]["Bundles"][0]["ComputeType"]["Name"],
        "VALUE", "value"),
    "error_without_type": (
        lambda env: sorted(env.raw("DescribeTags", {"ResourceId": "ws-0000000000"})[2]),
        ["__type", "message"], ["code", "message"]),
    "error_without_message": (
        lambda env: sorted(env.raw("DescribeTags", {"ResourceId": "ws-0000000000"})[2]),
        ["__type", "message"], ["__type"]),
    "not_found_http_404": (
        lambda env: _status(env, "DescribeTags", {"ResourceId": "ws-0000000000"}),
        (400, "ResourceNotFoundException"), (404, "ResourceNotFoundException")),
    "content_type_html": (
        lambda env: env.raw("DescribeWorkspaces", {})[1],
        "application/x-amz-json-1.1", "text/html; charset=utf-8"),
    "rejects_wsd_directory_ids": (
        lambda env: _status(env, "DescribeWorkspaces", {"DirectoryId": "wsd-k3m9x2p7q"}),
        (200, None), (400, "ValidationException")),
    "rejects_limit_25": (
        lambda env: _status(env, "DescribeWorkspaces", {"Limit": 25}),
        (200, None), (400, "ValidationException")),
    "rejects_long_user_name": (
        lambda env: _status(env, "CreateWorkspaces", {"Workspaces": [
            {"DirectoryId": env.directories[0], "UserName": "a" * 25, "BundleId": env.bundle}]}),
        (200, None), (400, "ValidationException")),
    "accepts_too_long": (
        lambda env: _status(env, "DescribeWorkspaces", {"DirectoryId": env.directories[0], "UserName": "u" * 64}),
        (400, "ValidationException"), (200, None)),
    "accepts_too_short": (
        lambda env: _status(env, "DescribeWorkspaces", {"DirectoryId": env.directories[0], "UserName": ""}),
        (400, "ValidationException"), (200, None)),
    "accepts_too_many_items": (
        lambda env: _status(env, "DescribeWorkspaces", {"WorkspaceIds": [f"ws-{i:09d}" for i in range(26)]}),
        (400, "ValidationException"), (200, None)),
    "accepts_too_few_items": (
        lambda env: _status(env, "DescribeWorkspaces", {"WorkspaceIds": []}),
        (400, "ValidationException"), (200, None)),
    "accepts_pattern_mismatch": (
        lambda env: _status(env, "DescribeWorkspaces", {"BundleId": "bundle-1"}),
        (400, "ValidationException"), (200, None)),
    "accepts_enum_violation": (
        lambda env: _status(env, "DescribeWorkspaceDirectories", {"Filters": [{"Name": "COLOUR", "Values": ["x"]}]}),
        (400, "ValidationException"), (200, None)),
    "accepts_out_of_range": (
        lambda env: _status(env, "DescribeWorkspaces", {"Limit": 0}),
        (400, "ValidationException"), (200, None)),
    "validation_as_bad_request": (
        lambda env: _status(env, "DescribeWorkspaces", {"Limit": 0}),
        (400, "ValidationException"), (400, "BadRequestException")),
    "not_found_as_invalid_parameter": (
        lambda env: _status(env, "DescribeTags", {"ResourceId": "ws-0000000000"}),
        (400, "ResourceNotFoundException"), (400, "InvalidParameterValuesException")),
    "stop_ignores_state": (
        lambda env: len(env.client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": _stopped(env)}])["FailedRequests"]),
        1, 0),
    "reboot_ignores_state": (
        lambda env: len(env.client.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": _stopped(env)}])["FailedRequests"]),
        1, 0),
    "modify_ignores_state": (
        lambda env: _status(env, "ModifyWorkspaceProperties", {
            "WorkspaceId": env.create(), "WorkspaceProperties": {"RunningModeAutoStopTimeoutInMinutes": 120}}),
        (400, "InvalidResourceStateException"), (200, None)),
    "skip_pending": (lambda env: env.state(env.create()), "PENDING", "AVAILABLE"),
    "skip_stopping": (
        lambda env: (lambda w: (env.settle(w), env.client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": w}]),
                                env.state(w))[2])(env.create()),
        "STOPPING", "STOPPED"),
    "connected_while_stopped": (
        lambda env: env.raw("DescribeWorkspacesConnectionStatus", {"WorkspaceIds": [_stopped(env)]})[2]
        ["WorkspacesConnectionStatus"][0]["ConnectionState"],
        "UNKNOWN", "CONNECTED"),
    "stuck_rebooting": (
        lambda env: (lambda w: (env.settle(w), env.client.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": w}]),
                                env.settle(w, 4))[2])(env.create()),
        "AVAILABLE", "REBOOTING"),
    "stuck_pending": (lambda env: env.settle(env.create(), 4), "AVAILABLE", "PENDING"),
    "terminated_stays_available": (
        lambda env: (lambda w: (env.settle(w), env.client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": w}]),
                                env.settle(w, 4))[2])(env.create()),
        "GONE", "AVAILABLE"),
    "page_duplicates_item": (
        lambda env: (lambda made, seen: (len(seen), len(set(seen)), set(seen) == set(made)))(_five(env), _walk(env)[0]),
        (5, 5, True), (8, 5, True)),
    "page_drops_item": (
        lambda env: (lambda made, seen: (len(seen), set(seen) <= set(made)))(_five(env), _walk(env)[0]),
        (5, True), (4, True)),
    "limit_ignored": (
        lambda env: (_five(env), _walk(env))[1][1], 3, 1),
    "endless_next_token": (
        lambda env: (_five(env), _walk(env, limit=25))[1][1], 1, 8),
    "garbage_token_accepted": (
        lambda env: _status(env, "DescribeWorkspaces", {"NextToken": "garbage"}),
        (400, "InvalidParameterValuesException"), (200, None)),
    "token_not_bound_to_filters": (
        lambda env: (_five(env), _status(env, "DescribeWorkspaces", {
            "DirectoryId": env.directories[0],
            "NextToken": env.raw("DescribeWorkspaces", {"Limit": 2})[2]["NextToken"]}))[1],
        (400, "InvalidParameterValuesException"), (200, None)),
    # Limit=1 walks first: these page-boundary bugs show only with larger pages (but the read-ahead one).
    "token_marks_first_item": (
        lambda env: _walks(env, 5, 1, 3), [(5, 5, 1), (5, 5, 3)], [(5, 5, 1), (9, 5, 3)]),
    "token_names_highest_id": (
        lambda env: _walks(env, 5, 1, 3), [(5, 5, 1), (5, 5, 3)], [(5, 5, 1), (6, 5, 3)]),
    "last_partial_page_lost": (
        lambda env: _walks(env, 5, 1, 2), [(5, 5, 1), (5, 5, 2)], [(5, 5, 1), (4, 4, 2)]),
    "page_cap_skips_by_limit": (
        lambda env: _walks(env, 12, 1, 11), [(12, 12, 1), (12, 12, 11)], [(12, 12, 1), (11, 11, 10)]),
    "page_overfilled_by_peek": (
        lambda env: _walks(env, 5, 1, 2), [(5, 5, 1), (5, 5, 2)], [(9, 5, 2), (7, 5, 3)]),
    "tags_append_duplicate_key": (
        lambda env: (env.client.create_tags(ResourceId=env.directories[0], Tags=[{"Key": "k", "Value": "1"}]),
                     env.client.create_tags(ResourceId=env.directories[0], Tags=[{"Key": "k", "Value": "2"}]),
                     env.client.describe_tags(ResourceId=env.directories[0])["TagList"])[2],
        [{"Key": "k", "Value": "2"}], [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]),
    "tags_no_limit": (
        lambda env: _status(env, "CreateTags", {"ResourceId": env.directories[0],
                                                "Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]}),
        (400, "ResourceLimitExceededException"), (200, None)),
    "tags_delete_ignored": (
        lambda env: (_tagged_directory(env), env.client.delete_tags(ResourceId=env.directories[0], TagKeys=["team"]),
                     len(env.client.describe_tags(ResourceId=env.directories[0])["TagList"]))[2],
        0, 1),
    "tags_unknown_resource_accepted": (
        lambda env: _status(env, "CreateTags", {"ResourceId": "ws-0000000000", "Tags": [{"Key": "a", "Value": "b"}]}),
        (400, "ResourceNotFoundException"), (200, None)),
    "tags_reserved_prefix_accepted": (
        lambda env: _status(env, "CreateTags", {"ResourceId": env.directories[0], "Tags": [{"Key": "aws:owner", "Value": "x"}]}),
        (400, "InvalidParameterValuesException"), (200, None)),
    "filters_ignored": (
        lambda env: (env.create("a", 0), env.create("b", 1),
                     len(env.raw("DescribeWorkspaces", {"DirectoryId": env.directories[0]})[2]["Workspaces"]))[2],
        1, 2),
    "exclusive_filters_accepted": (
        lambda env: _status(env, "DescribeWorkspaces", {"WorkspaceIds": ["ws-0000000000"], "DirectoryId": env.directories[0]}),
        (400, "InvalidParameterValuesException"), (200, None)),
    "bundle_owner_ignored": (
        lambda env: sorted({b["Owner"] for b in env.raw("DescribeWorkspaceBundles", {})[2]["Bundles"]}),
        ["123456789012"], ["123456789012", "AMAZON"]),
}


def _paginate(env):
    _five(env)
    try:
        pages = list(env.client.get_paginator("describe_workspaces").paginate(
            PaginationConfig={"PageSize": 2, "MaxItems": 50}))
    except PaginationError:
        return "PaginationError", len(env.client.describe_workspaces()["Workspaces"])
    return sum(len(p["Workspaces"]) for p in pages), len(env.client.describe_workspaces()["Workspaces"])


SCENARIOS["token_ignored_with_limit"] = (_paginate, (5, 5), ("PaginationError", 5))

UNKNOWN_WORKSPACE = "ws-0000000000"


def _available(env, user="alice", mode="AUTO_STOP"):
    workspace_id = env.create(user=user, mode=mode)
    env.settle(workspace_id)
    return workspace_id


def _act(env, operation, *workspace_ids):
    """Send ``operation`` for ``workspace_ids``; the ids its FailedRequests name (UNKNOWN kept, live ones as 'live')."""
    key = {"StartWorkspaces": "StartWorkspaceRequests", "StopWorkspaces": "StopWorkspaceRequests",
           "RebootWorkspaces": "RebootWorkspaceRequests"}[operation]
    failed = env.raw(operation, {key: [{"WorkspaceId": w} for w in workspace_ids]})[2]["FailedRequests"]
    return [e.get("WorkspaceId") if e.get("WorkspaceId") == UNKNOWN_WORKSPACE else "live" for e in failed]


def _users_workspaces(env, user):
    env.create(user=user)
    env.raw("CreateWorkspaces", {"Workspaces": [
        {"DirectoryId": env.directories[0], "UserName": user, "BundleId": env.bundle}]})
    return len(env.raw("DescribeWorkspaces", {"DirectoryId": env.directories[0], "UserName": user})[2]["Workspaces"])


SCENARIOS.update({
    "create_fails_every_request": (
        lambda env: len(env.raw("CreateWorkspaces", {"Workspaces": [
            {"DirectoryId": env.directories[0], "UserName": "zoe", "BundleId": env.bundle}]})[2]["FailedRequests"]),
        0, 1),
    "start_stop_report_done_as_failed": (
        lambda env: (lambda w: (_act(env, "StopWorkspaces", w), env.state(w)))(_available(env)),
        ([], "STOPPING"), (["live"], "STOPPING")),
    "failed_entry_off_by_one": (
        lambda env: _act(env, "RebootWorkspaces", UNKNOWN_WORKSPACE, _available(env)),
        [UNKNOWN_WORKSPACE], ["live"]),
    "batch_fails_after_first_refusal": (
        lambda env: (lambda w: (_act(env, "RebootWorkspaces", UNKNOWN_WORKSPACE, w), env.state(w)))(_available(env)),
        ([UNKNOWN_WORKSPACE], "REBOOTING"), ([UNKNOWN_WORKSPACE, "live"], "AVAILABLE")),
    "refused_action_still_applied": (
        lambda env: (lambda w: (_act(env, "StartWorkspaces", w), env.state(w)))(_available(env)),
        (["live"], "AVAILABLE"), (["live"], "STARTING")),
    "create_keeps_refused_workspace": (lambda env: _users_workspaces(env, "alice"), 1, 2),
    "describe_ids_drops_last": (
        lambda env: len(env.raw("DescribeWorkspaces", {"WorkspaceIds": [env.create("a"), env.create("b")]})[2]
                        ["Workspaces"]),
        2, 1),
    "connection_status_omits_available": (
        lambda env: len(env.raw("DescribeWorkspacesConnectionStatus", {"WorkspaceIds": [_available(env)]})[2]
                        ["WorkspacesConnectionStatus"]),
        1, 0),
})


def _states_after(env, operation, polls, *, stopped=False):
    """The states ``polls`` describes show after ``operation`` on a settled AutoStop WorkSpace (STOPPED if asked)."""
    workspace_id = _stopped(env) if stopped else env.create()
    if not stopped:
        env.state(workspace_id)  # PENDING
        env.state(workspace_id)  # AVAILABLE
    key = operation.replace("Workspaces", "WorkspaceRequests")
    env.raw(operation, {key: [{"WorkspaceId": workspace_id}]})
    return [env.state(workspace_id) for _ in range(polls)]


SCENARIOS.update({
    "stuck_rebuilding": (lambda env: _states_after(env, "RebuildWorkspaces", 4),
                         ["REBUILDING", "AVAILABLE", "AVAILABLE", "AVAILABLE"], ["REBUILDING"] * 4),
    "terminate_removes_at_once": (lambda env: _states_after(env, "TerminateWorkspaces", 2),
                                  ["TERMINATING", "TERMINATED"], ["GONE", "GONE"]),
    "start_leaves_stopped": (lambda env: _states_after(env, "StartWorkspaces", 2, stopped=True),
                             ["STARTING", "AVAILABLE"], ["STOPPED", "STOPPED"]),
    "rebuild_ends_stopped": (lambda env: _states_after(env, "RebuildWorkspaces", 2),
                             ["REBUILDING", "AVAILABLE"], ["REBUILDING", "STOPPED"]),
    "available_regresses_to_pending": (lambda env: (lambda w: [env.state(w) for _ in range(4)])(env.create()),
                                       ["PENDING", "AVAILABLE", "AVAILABLE", "AVAILABLE"],
                                       ["PENDING", "AVAILABLE", "PENDING", "AVAILABLE"]),
})


def test_catalogue_is_large_and_covers_every_check():
    assert len(CATALOGUE) >= 30
    assert {fault.check for fault in CATALOGUE.values()} == set(CHECKS)
    for fault in CATALOGUE.values():
        assert fault.description.endswith(".") and len(fault.description) < 220
        assert set(fault.operations) <= set(specs.operation_names()) | {"*"}, fault


SCENARIOS.update(family_declarations("FAULT_SCENARIOS"))


def test_every_fault_has_a_scenario():
    assert set(SCENARIOS) == set(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_fault_changes_what_it_says(env, name):
    scenario, clean, faulty = SCENARIOS[name]
    assert scenario(env) == clean
    env.emulator.reset()
    env.emulator.set_faults([name])
    assert scenario(env) == faulty


@pytest.mark.parametrize("name", sorted(n for n, f in CATALOGUE.items()
                                        if not {"*", "DescribeWorkspaceDirectories"} & set(f.operations)))
def test_fault_leaves_other_operations_alone(env, name):
    before = env.raw("DescribeWorkspaceDirectories", {"Limit": 2})
    env.emulator.set_faults([name])
    after = env.raw("DescribeWorkspaceDirectories", {"Limit": 2})
    assert before[:2] == after[:2]
    assert before[2]["Directories"] == after[2]["Directories"]


def test_unknown_fault_name_names_the_closest():
    with pytest.raises(ValueError, match="skip_pending"):
        validate_fault_names(["skip_pendng"])
    with Emulator() as emulator, pytest.raises(ValueError, match="tags_no_limit"):
        emulator.set_faults(["tags_no_limits"])


def test_faults_property_round_trips(emulator):
    emulator.faults = ["skip_pending", "tags_no_limit"]
    assert emulator.faults == frozenset({"skip_pending", "tags_no_limit"})
    emulator.set_faults(())
    assert emulator.faults == frozenset()
