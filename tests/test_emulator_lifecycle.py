"""WorkSpace lifecycle in the emulator: asynchronous transitions, polled mode, preconditions."""
from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config

import specs
from emulator import Emulator
from emulator.lifecycle import Lifecycle

ACTIONS = {
    "StartWorkspaces": ("start_workspaces", "StartWorkspaceRequests", "STARTING", "AVAILABLE"),
    "StopWorkspaces": ("stop_workspaces", "StopWorkspaceRequests", "STOPPING", "STOPPED"),
    "RebootWorkspaces": ("reboot_workspaces", "RebootWorkspaceRequests", "REBOOTING", "AVAILABLE"),
    "RebuildWorkspaces": ("rebuild_workspaces", "RebuildWorkspaceRequests", "REBUILDING", "AVAILABLE"),
    "TerminateWorkspaces": ("terminate_workspaces", "TerminateWorkspaceRequests", "TERMINATING", "TERMINATED"),
}


def _client(url):
    return boto3.client("workspaces", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


class World:
    def __init__(self, emulator):
        self.emu = emulator
        self.client = _client(emulator.url)
        self.users = 0

    def create(self, mode="AUTO_STOP"):
        self.users += 1
        bundle = next(b["BundleId"] for b in self.emu.seed["bundles"] if b["Owner"] == "AMAZON")
        result = self.client.create_workspaces(Workspaces=[{
            "DirectoryId": self.emu.seed["directories"][0]["DirectoryId"], "UserName": f"user{self.users}",
            "BundleId": bundle, "WorkspaceProperties": {"RunningMode": mode}}])
        return result["PendingRequests"][0]["WorkspaceId"]

    def state(self, workspace_id):
        found = self.client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
        return found[0]["State"] if found else "GONE"

    def states(self, workspace_id, polls):
        return [self.state(workspace_id) for _ in range(polls)]

    def act(self, operation, workspace_id):
        method, key, _, _ = ACTIONS[operation]
        return getattr(self.client, method)(**{key: [{"WorkspaceId": workspace_id}]})["FailedRequests"]

    def settled(self, workspace_id):
        """Poll until a settled state (at most 10 describes)."""
        state = None
        for _ in range(10):
            state = self.state(workspace_id)
            if state not in ("PENDING", "STARTING", "STOPPING", "REBOOTING", "REBUILDING", "TERMINATING"):
                return state
        return state


@pytest.fixture(scope="module", params=[1, 2], ids=["polls1", "polls2"])
def emulator(request):
    with Emulator(polls_per_state=request.param) as running:
        yield running


@pytest.fixture
def world(emulator):
    emulator.reset()
    emulator.set_faults(())
    return World(emulator)


def test_each_transitional_state_seen_exactly_n_times(world):
    n = world.emu.backend.lifecycle.polls_per_state
    workspace_id = world.create()
    assert world.states(workspace_id, n + 1) == ["PENDING"] * n + ["AVAILABLE"]
    for operation in ("StopWorkspaces", "StartWorkspaces", "RebuildWorkspaces"):
        _, _, transitional, settled = ACTIONS[operation]
        assert world.act(operation, workspace_id) == []
        assert world.states(workspace_id, n + 1) == [transitional] * n + [settled]
    assert world.act("TerminateWorkspaces", workspace_id) == []
    assert world.states(workspace_id, 2 * n + 1) == ["TERMINATING"] * n + ["TERMINATED"] * n + ["GONE"]


def test_reboot_goes_through_rebooting(world):
    n = world.emu.backend.lifecycle.polls_per_state
    workspace_id = world.create()
    world.settled(workspace_id)
    assert world.act("RebootWorkspaces", workspace_id) == []
    assert world.states(workspace_id, n + 1) == ["REBOOTING"] * n + ["AVAILABLE"]


def test_other_calls_do_not_advance_the_polled_clock(world):
    workspace_id = world.create()
    for _ in range(5):
        world.client.describe_workspaces_connection_status()
        world.client.describe_workspaces(WorkspaceIds=["ws-0000000000"])
    assert world.state(workspace_id) == "PENDING"


def test_observed_transitions_are_edges_of_the_state_graph(world):
    edges = {(source, edge["to"]) for edge in specs.rules()["state_graph"] for source in edge["from"]}
    workspace_id = world.create()
    seen = world.states(workspace_id, 3)
    for operation in ("StopWorkspaces", "StartWorkspaces", "RebootWorkspaces", "RebuildWorkspaces", "TerminateWorkspaces"):
        world.act(operation, workspace_id)
        seen += world.states(workspace_id, 5)
    changes = [(a, b) for a, b in zip(seen, seen[1:]) if a != b]
    assert changes and set(changes) <= edges


def test_the_polled_clock_replays_the_same_calls_exactly(world):
    """The same calls on a new WorkSpace see the same answers, whatever other WorkSpaces did meanwhile
    and however long it took: what lets the lifecycle state machine shrink a failing walk here."""
    def walk():
        workspace_id = world.create()
        seen = world.states(workspace_id, 3)
        for operation in ("StopWorkspaces", "RebootWorkspaces", "StartWorkspaces", "StartWorkspaces"):
            seen.append([entry["ErrorCode"] for entry in world.act(operation, workspace_id)])
            seen += world.states(workspace_id, 1)
        return seen

    first = walk()
    assert ["InvalidResourceState"] in first  # a refusal (Reboot while STOPPING) is part of the walk
    other = world.create()
    world.act("RebootWorkspaces", other)
    world.states(other, 3)
    time.sleep(0.05)
    assert walk() == first


def _reach(world, state):
    """A WorkSpace in ``state`` (PENDING, AVAILABLE, STOPPED, or a transitional state of an action)."""
    workspace_id = world.create()
    if state == "PENDING":
        return workspace_id
    world.settled(workspace_id)
    if state == "AVAILABLE":
        return workspace_id
    if state == "STOPPED":
        world.act("StopWorkspaces", workspace_id)
        world.settled(workspace_id)
        return workspace_id
    for operation, (_, _, transitional, _) in ACTIONS.items():
        if transitional == state:
            if operation == "StartWorkspaces":
                world.act("StopWorkspaces", workspace_id)
                world.settled(workspace_id)
            world.act(operation, workspace_id)
            return workspace_id
    raise AssertionError(state)


@pytest.mark.parametrize("operation", list(ACTIONS))
@pytest.mark.parametrize("state", ["PENDING", "AVAILABLE", "STOPPED", "STOPPING", "REBOOTING", "STARTING"])
def test_preconditions_follow_rules(world, operation, state):
    rule = specs.rule(f"precondition.{operation}")
    workspace_id = _reach(world, state)
    failed = world.act(operation, workspace_id)
    allowed = state in rule["allowed_states"] and state not in (rule.get("min_seconds_in_state") or {})
    if allowed:
        assert failed == []
    else:
        assert len(failed) == 1 and failed[0]["WorkspaceId"] == workspace_id and failed[0]["ErrorCode"]


@pytest.mark.parametrize("operation", ["StartWorkspaces", "StopWorkspaces"])
def test_always_on_cannot_be_started_or_stopped(world, operation):
    workspace_id = world.create(mode="ALWAYS_ON")
    world.settled(workspace_id)
    failed = world.act(operation, workspace_id)
    assert len(failed) == 1 and failed[0]["ErrorCode"]


@pytest.mark.parametrize("operation", list(ACTIONS))
def test_unknown_workspace_is_failed_request_or_success(world, operation):
    failed = world.act(operation, "ws-0000000000")
    if operation != "TerminateWorkspaces":
        assert failed[0]["WorkspaceId"] == "ws-0000000000" and failed[0]["ErrorCode"]


def test_terminate_twice_and_after_gone(world):
    workspace_id = _reach(world, "AVAILABLE")
    assert world.act("TerminateWorkspaces", workspace_id) == []
    assert world.act("TerminateWorkspaces", workspace_id) == []
    assert world.settled(workspace_id) in ("TERMINATED", "GONE")
    world.settled(workspace_id)
    assert world.state(workspace_id) == "GONE"
    assert world.act("StartWorkspaces", workspace_id)[0]["ErrorCode"]
    with pytest.raises(world.client.exceptions.ResourceNotFoundException):
        world.client.describe_tags(ResourceId=workspace_id)


def test_clock_mode_settles_after_transition_seconds():
    with Emulator(transition_seconds=0.05) as emu:
        world = World(emu)
        workspace_id = world.create()
        assert world.state(workspace_id) == "PENDING"
        time.sleep(0.08)
        assert world.state(workspace_id) == "AVAILABLE"
        world.act("TerminateWorkspaces", workspace_id)
        assert world.state(workspace_id) == "TERMINATING"
        time.sleep(0.16)
        assert world.state(workspace_id) == "GONE"


def test_lifecycle_clock_is_injectable_and_validates_arguments():
    now = [0.0]
    lifecycle = Lifecycle({"PENDING": "AVAILABLE"}, transition_seconds=10, clock=lambda: now[0])

    class Record:
        pass

    record = Record()
    lifecycle.enter(record, "PENDING")
    now[0] = 9.9
    lifecycle.advance(record)
    assert record.state == "PENDING"
    now[0] = 10.0
    lifecycle.advance(record)
    assert record.state == "AVAILABLE"
    with pytest.raises(ValueError, match="polls_per_state"):
        Lifecycle({}, polls_per_state=0)
    with pytest.raises(ValueError, match="transition_seconds"):
        Lifecycle({}, transition_seconds=-1)
