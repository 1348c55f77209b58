"""The emulator's WorkSpaces Pools: pool lifecycle, updates, sessions, refusals and pagination."""
from __future__ import annotations

SEEDED_RUNNING = "wspool-7k2m9x4pq"
SEEDED_STOPPED = "wspool-3n8q5r1vz"
UNKNOWN_POOL = "wspool-000000000"
UNKNOWN_SESSION = "00000000-0000-0000-0000-000000000000"


def _create(env, name="pool-a", **extra) -> str:
    params = {"PoolName": name, "Description": "A test pool", "BundleId": env.bundle,
              "DirectoryId": env.directories[2], "Capacity": {"DesiredUserSessions": 2}, **extra}
    status, _, body = env.raw("CreateWorkspacesPool", params)
    assert status == 200, body
    return body["WorkspacesPool"]["PoolId"]


def _pool(env, pool_id) -> dict | None:
    found = env.raw("DescribeWorkspacesPools", {"PoolIds": [pool_id]})[2]["WorkspacesPools"]
    return found[0] if found else None


def _state(env, pool_id) -> str:
    found = _pool(env, pool_id)
    return found["State"] if found else "GONE"


def _running(env, name="pool-a", **extra) -> str:
    pool_id = _create(env, name, **extra)
    assert [_state(env, pool_id) for _ in range(2)] == ["CREATING", "RUNNING"]
    return pool_id


def _error(env, operation, body):
    status, _, parsed = env.raw(operation, body)
    return status, parsed.get("__type")


def _session_ids(env, pool_id=SEEDED_RUNNING) -> list[str]:
    return [s["SessionId"] for s in env.raw("DescribeWorkspacesPoolSessions", {"PoolId": pool_id})[2]["Sessions"]]


EXAMPLES = {
    "CreateWorkspacesPool": lambda env: {
        "PoolName": "example-pool", "Description": "Example pool", "BundleId": env.bundle,
        "DirectoryId": env.directories[2], "Capacity": {"DesiredUserSessions": 3}, "RunningMode": "AUTO_STOP",
        "TimeoutSettings": {"MaxUserDurationInSeconds": 3600},
        "ApplicationSettings": {"Status": "ENABLED", "SettingsGroup": "example"},
        "Tags": [{"Key": "team", "Value": "blue"}]},
    "DescribeWorkspacesPools": lambda env: {"Filters": [{"Name": "PoolName", "Values": ["call"],
                                                         "Operator": "CONTAINS"}], "Limit": 5},
    "UpdateWorkspacesPool": lambda env: {"PoolId": SEEDED_RUNNING, "Description": "Updated pool",
                                         "Capacity": {"DesiredUserSessions": 8}},
    "StartWorkspacesPool": lambda env: {"PoolId": SEEDED_STOPPED},
    "StopWorkspacesPool": lambda env: {"PoolId": SEEDED_RUNNING},
    "TerminateWorkspacesPool": lambda env: {"PoolId": SEEDED_STOPPED},
    "DescribeWorkspacesPoolSessions": lambda env: {"PoolId": SEEDED_RUNNING, "Limit": 2},
    "TerminateWorkspacesPoolSession": lambda env: {"SessionId": _session_ids(env)[0]},
}


def _update_then_describe(env) -> list[str]:
    env.raw("UpdateWorkspacesPool", {"PoolId": SEEDED_RUNNING, "Description": "Renamed"})
    return sorted(k for k in _pool(env, SEEDED_RUNNING) if k in ("BundleId", "DirectoryId", "RunningMode",
                                                                  "TimeoutSettings", "Description"))


def _states_after_stop(env) -> list[str]:
    env.raw("StopWorkspacesPool", {"PoolId": SEEDED_RUNNING})
    return [_state(env, SEEDED_RUNNING) for _ in range(2)]


FAULT_SCENARIOS = {
    "pool_start_ignores_state": (
        lambda env: _error(env, "StartWorkspacesPool", {"PoolId": SEEDED_RUNNING}),
        (400, "InvalidResourceStateException"), (200, None)),
    "pool_update_replaces_settings": (
        _update_then_describe,
        ["BundleId", "Description", "DirectoryId", "RunningMode", "TimeoutSettings"], ["Description"]),
    "pool_stop_skips_stopping": (_states_after_stop, ["STOPPING", "STOPPED"], ["STOPPED", "STOPPED"]),
}


def test_seeded_pools_and_sessions_are_described(env):
    pools = {p["PoolId"]: p for p in env.client.describe_workspaces_pools()["WorkspacesPools"]}
    assert pools[SEEDED_RUNNING]["State"] == "RUNNING" and pools[SEEDED_STOPPED]["State"] == "STOPPED"
    assert pools[SEEDED_RUNNING]["CapacityStatus"] == {"AvailableUserSessions": 2, "DesiredUserSessions": 5,
                                                       "ActualUserSessions": 5, "ActiveUserSessions": 3}
    sessions = env.client.describe_workspaces_pool_sessions(PoolId=SEEDED_RUNNING)["Sessions"]
    assert [s["UserId"] for s in sessions] == ["agent.ana", "agent.ben", "agent.chloe"]
    assert env.client.describe_workspaces_pool_sessions(PoolId=SEEDED_STOPPED)["Sessions"] == []


def test_create_settles_running_and_names_are_unique(env):
    pool_id = _create(env, Tags=[{"Key": "k", "Value": "v"}])
    assert [_state(env, pool_id) for _ in range(3)] == ["CREATING", "RUNNING", "RUNNING"]
    assert _error(env, "CreateWorkspacesPool", {
        "PoolName": "pool-a", "Description": "again", "BundleId": env.bundle, "DirectoryId": env.directories[2],
        "Capacity": {"DesiredUserSessions": 1}}) == (400, "ResourceAlreadyExistsException")
    assert env.client.describe_tags(ResourceId=pool_id)["TagList"] == [{"Key": "k", "Value": "v"}]


def test_create_refuses_unknown_bundle_and_directory(env):
    base = {"PoolName": "p", "Description": "d", "BundleId": env.bundle, "DirectoryId": env.directories[2],
            "Capacity": {"DesiredUserSessions": 1}}
    assert _error(env, "CreateWorkspacesPool", dict(base, BundleId="wsb-00000000")) == (400, "ResourceNotFoundException")
    assert _error(env, "CreateWorkspacesPool", dict(base, DirectoryId="wsd-00000000")) == (400, "ResourceNotFoundException")


def test_stop_then_start_walks_the_states(env):
    pool_id = _running(env)
    assert env.raw("StopWorkspacesPool", {"PoolId": pool_id})[0] == 200
    assert [_state(env, pool_id) for _ in range(2)] == ["STOPPING", "STOPPED"]
    assert _pool(env, pool_id)["CapacityStatus"]["ActualUserSessions"] == 0
    assert env.raw("StartWorkspacesPool", {"PoolId": pool_id})[0] == 200
    assert [_state(env, pool_id) for _ in range(2)] == ["STARTING", "RUNNING"]


def test_start_and_stop_refuse_other_states_and_always_on_pools(env):
    assert _error(env, "StartWorkspacesPool", {"PoolId": SEEDED_RUNNING}) == (400, "InvalidResourceStateException")
    assert _error(env, "StopWorkspacesPool", {"PoolId": SEEDED_STOPPED}) == (400, "InvalidResourceStateException")
    creating = _create(env, "pool-b")
    assert _error(env, "StopWorkspacesPool", {"PoolId": creating}) == (400, "OperationInProgressException")
    always_on = _running(env, "pool-c", RunningMode="ALWAYS_ON")
    assert _error(env, "StopWorkspacesPool", {"PoolId": always_on}) == (400, "InvalidResourceStateException")


def test_update_changes_only_the_named_members(env):
    before = _pool(env, SEEDED_RUNNING)
    answer = env.client.update_workspaces_pool(PoolId=SEEDED_RUNNING, Capacity={"DesiredUserSessions": 7},
                                               TimeoutSettings={"IdleDisconnectTimeoutInSeconds": 300})
    assert answer["WorkspacesPool"]["State"] == "UPDATING"
    after = _pool(env, SEEDED_RUNNING)
    assert after["TimeoutSettings"] == dict(before["TimeoutSettings"], IdleDisconnectTimeoutInSeconds=300)
    assert after["CapacityStatus"]["DesiredUserSessions"] == 7
    unchanged = ("Description", "BundleId", "DirectoryId", "RunningMode", "ApplicationSettings", "PoolName")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert _state(env, SEEDED_RUNNING) == "RUNNING"


def test_update_of_a_stopped_pool_stays_stopped(env):
    env.client.update_workspaces_pool(PoolId=SEEDED_STOPPED, RunningMode="ALWAYS_ON")
    assert _pool(env, SEEDED_STOPPED)["RunningMode"] == "ALWAYS_ON"
    assert _state(env, SEEDED_STOPPED) == "STOPPED"


def test_terminate_deletes_and_then_the_pool_is_gone(env):
    env.client.terminate_workspaces_pool(PoolId=SEEDED_RUNNING)
    assert [_state(env, SEEDED_RUNNING) for _ in range(2)] == ["DELETING", "GONE"]
    assert _error(env, "TerminateWorkspacesPool", {"PoolId": SEEDED_RUNNING}) == (400, "ResourceNotFoundException")
    assert _error(env, "DescribeWorkspacesPoolSessions", {"PoolId": SEEDED_RUNNING}) == (400, "ResourceNotFoundException")


def test_unknown_pool_and_session_are_refused_or_left_out(env):
    for operation in ("StartWorkspacesPool", "StopWorkspacesPool", "TerminateWorkspacesPool", "UpdateWorkspacesPool"):
        assert _error(env, operation, {"PoolId": UNKNOWN_POOL}) == (400, "ResourceNotFoundException"), operation
    assert _error(env, "TerminateWorkspacesPoolSession", {"SessionId": UNKNOWN_SESSION}) == (
        400, "ResourceNotFoundException")
    assert _pool(env, UNKNOWN_POOL) is None


def test_terminate_session_ends_it(env):
    first, *rest = _session_ids(env)
    env.client.terminate_workspaces_pool_session(SessionId=first)
    assert _session_ids(env) == rest
    assert _pool(env, SEEDED_RUNNING)["CapacityStatus"]["ActiveUserSessions"] == len(rest)


def test_sessions_filter_by_user_and_page(env):
    assert [s["UserId"] for s in env.client.describe_workspaces_pool_sessions(
        PoolId=SEEDED_RUNNING, UserId="agent.ben")["Sessions"]] == ["agent.ben"]
    seen, token = [], None
    while True:
        page = env.raw("DescribeWorkspacesPoolSessions", dict(PoolId=SEEDED_RUNNING, Limit=2,
                                                              **({"NextToken": token} if token else {})))[2]
        seen += [s["SessionId"] for s in page["Sessions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(_session_ids(env)) and len(set(seen)) == 3


def test_pools_page_completely_and_filter_by_name(env):
    made = [_create(env, f"pool-{i}") for i in range(4)]
    seen, token = [], None
    while True:
        page = env.raw("DescribeWorkspacesPools", dict(Limit=2, **({"NextToken": token} if token else {})))[2]
        seen += [p["PoolId"] for p in page["WorkspacesPools"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 6 and set(made) <= set(seen)

    def names(operator, *values):
        body = {"Filters": [{"Name": "PoolName", "Values": list(values), "Operator": operator}]}
        return sorted(p["PoolName"] for p in env.raw("DescribeWorkspacesPools", body)[2]["WorkspacesPools"])

    assert names("EQUALS", "pool-1") == ["pool-1"]
    assert names("CONTAINS", "lab", "center") == ["call-center", "training-lab"]
    assert names("NOTCONTAINS", "pool") == ["call-center", "training-lab"]
    assert len(names("NOTEQUALS", "pool-1")) == 5
