"""Self-tests of the WorkSpaces waiters: their model, and waiting on the emulator."""
from __future__ import annotations

import boto3
import botocore.waiter
import pytest
from botocore.config import Config
from botocore.exceptions import WaiterError

import specs
from conformance.waiters import WAITERS, get_waiter, waiter_model
from emulator import Emulator

FAST = {"Delay": 0, "MaxAttempts": 10}


def test_model_loads_in_botocore_and_names_only_real_states():
    model = waiter_model()
    loaded = botocore.waiter.WaiterModel(model)
    assert sorted(loaded.waiter_names) == sorted(WAITERS)
    states = {state["name"] for state in specs.rules()["states"]}
    for name, (target, timing_id) in WAITERS.items():
        waiter = model["waiters"][name]
        expected = {a["expected"] for a in waiter["acceptors"] if a["matcher"] != "path"}
        assert expected <= states
        success = [a["expected"] for a in waiter["acceptors"] if a["state"] == "success"]
        failure = [a["expected"] for a in waiter["acceptors"] if a["state"] == "failure"]
        assert target in success and target not in failure
        assert waiter["delay"] * waiter["maxAttempts"] >= specs.rule(timing_id)["deadline_seconds"]


def test_failure_states_cannot_reach_the_target():
    waiters = waiter_model()["waiters"]
    available = {a["expected"] for a in waiters["WorkspaceAvailable"]["acceptors"] if a["state"] == "failure"}
    assert {"ERROR", "TERMINATING", "TERMINATED"} <= available
    assert not available & {"PENDING", "STARTING", "STOPPED", "REBOOTING", "REBUILDING"}


def test_bad_arguments_name_the_fix():
    with pytest.raises(ValueError, match="name='WorkspaceRunning'"):
        get_waiter(None, "WorkspaceRunning")
    with pytest.raises(ValueError, match="delay=-1"):
        waiter_model(delay=-1)


@pytest.fixture
def emulator_client(request):
    faults = getattr(request, "param", ())
    emulator = Emulator(port=0, polls_per_state=1, faults=faults)
    url = emulator.start()
    try:
        client = boto3.client("workspaces", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing",
                              config=Config(retries={"total_max_attempts": 1}))
        yield emulator, client
    finally:
        emulator.stop()


def _create(emulator, client, mode="AUTO_STOP"):
    directory = emulator.seed["directories"][0]["DirectoryId"]
    bundle = next(b["BundleId"] for b in emulator.seed["bundles"] if b["Owner"] == "AMAZON")
    created = client.create_workspaces(Workspaces=[{
        "DirectoryId": directory, "UserName": "waiter-user", "BundleId": bundle,
        "WorkspaceProperties": {"RunningMode": mode}}])
    return created["PendingRequests"][0]["WorkspaceId"]


def _state(client, workspace_id):
    found = client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]
    return found[0]["State"] if found else None


def test_waiters_follow_a_workspace_through_its_life(emulator_client):
    emulator, client = emulator_client
    workspace_id = _create(emulator, client)
    get_waiter(client, "WorkspaceAvailable").wait(WorkspaceIds=[workspace_id], WaiterConfig=FAST)
    assert _state(client, workspace_id) == "AVAILABLE"
    client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    get_waiter(client, "WorkspaceStopped").wait(WorkspaceIds=[workspace_id], WaiterConfig=FAST)
    assert _state(client, workspace_id) == "STOPPED"
    client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    get_waiter(client, "WorkspaceTerminated").wait(WorkspaceIds=[workspace_id], WaiterConfig=FAST)
    assert _state(client, workspace_id) in (None, "TERMINATED")


def test_available_fails_fast_on_a_terminating_workspace(emulator_client):
    emulator, client = emulator_client
    workspace_id = _create(emulator, client)
    client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    with pytest.raises(WaiterError, match="terminal failure state"):
        get_waiter(client, "WorkspaceAvailable").wait(WorkspaceIds=[workspace_id], WaiterConfig=FAST)


@pytest.mark.parametrize("emulator_client", [("stuck_pending",)], indirect=True)
def test_available_gives_up_on_a_stuck_workspace(emulator_client):
    emulator, client = emulator_client
    workspace_id = _create(emulator, client)
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        get_waiter(client, "WorkspaceAvailable").wait(WorkspaceIds=[workspace_id],
                                                      WaiterConfig={"Delay": 0, "MaxAttempts": 4})
    assert _state(client, workspace_id) == "PENDING"
