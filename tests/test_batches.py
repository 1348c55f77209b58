"""Self-tests of the item-level judgement of batch answers and of their follow-up, on canned exchanges."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from conformance import batches
from conformance import checks
from conformance.checks import CHECKS, BatchShape, CheckFailure, Exchange, Holdings, Response, batch_shape
from conformance.test_filters import omissions

JSON = {"content-type": "application/x-amz-json-1.1"}
LIVE, OTHER, UNKNOWN = "ws-abcdefgh1", "ws-abcdefgh2", "ws-0cf0000000"
DIRECTORY, BUNDLE = "d-1234567890", "wsb-abcdefgh1"
BUNDLE_80_50 = {"BundleId": BUNDLE, "RootStorage": {"Capacity": "80"}, "UserStorage": {"Capacity": "50"},
                "ComputeType": {"Name": "STANDARD"}}


def workspace(workspace_id=LIVE, state="AVAILABLE", mode="AUTO_STOP", user="alice"):
    return {"WorkspaceId": workspace_id, "DirectoryId": DIRECTORY, "UserName": user, "BundleId": BUNDLE,
            "State": state, "WorkspaceProperties": {"RunningMode": mode}}


def action(operation, ids, failed=(), held=(), status=200):
    key = batch_shape(operation).items
    body = {"FailedRequests": [{"WorkspaceId": w, "ErrorCode": "InvalidResourceState", "ErrorMessage": "no"}
                               for w in failed]}
    return Exchange(operation, {key: [{"WorkspaceId": w} for w in ids]},
                    Response(status, dict(JSON), json.dumps(body).encode()), reproduce="print('again')",
                    holdings=Holdings(workspaces={w["WorkspaceId"]: w for w in held}))


def request(user="bob", directory=DIRECTORY, bundle=BUNDLE, **extra):
    return dict({"DirectoryId": directory, "UserName": user, "BundleId": bundle}, **extra)


def creation(items, failed_items, code="ResourceNotFound.User", listed=(), bundle=BUNDLE_80_50, directories=(DIRECTORY,)):
    body = {"FailedRequests": [{"WorkspaceRequest": item, "ErrorCode": code, "ErrorMessage": "no"}
                               for item in failed_items], "PendingRequests": []}
    holdings = Holdings(directories=frozenset(directories), bundles={BUNDLE: bundle} if bundle is not None else {},
                        listed={d: list(listed) for d in directories})
    return Exchange("CreateWorkspaces", {"Workspaces": list(items)},
                    Response(200, dict(JSON), json.dumps(body).encode()), reproduce="print('again')",
                    holdings=holdings)


def judged(exchange):
    """The positive_data_acceptance failure of ``exchange``, or None when it passes."""
    try:
        CHECKS["positive_data_acceptance"](exchange)
    except CheckFailure as failure:
        return failure
    return None


# --- which operations are batches ------------------------------------------------------------


def test_batch_operations_come_from_the_output_schema():
    assert batch_shape("CreateWorkspaces") == BatchShape("Workspaces", "WorkspaceRequest", None)
    for operation in ("StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces",
                      "TerminateWorkspaces"):
        shape = batch_shape(operation)
        assert shape.key == "WorkspaceId" and shape.echo is None and shape.items.endswith("Requests"), shape
    for operation in ("DescribeWorkspaces", "CreateTags", "ModifyWorkspaceProperties"):
        assert batch_shape(operation) is None


# --- actions --------------------------------------------------------------------------------


def test_a_refused_item_the_precondition_allows_fails_with_the_edge_and_a_reproduction():
    failure = judged(action("StopWorkspaces", [LIVE], failed=[LIVE], held=[workspace()]))
    assert failure.check == "positive_data_acceptance" and failure.rule == "edge.stop"
    assert failure.source.startswith("https://docs.aws.amazon.com/workspaces/latest/api/API_StopWorkspaces")
    assert LIVE in failure.message and "AVAILABLE" in failure.message
    assert failure.reproduce == "print('again')"


def test_refusals_of_unknown_ids_pass():
    assert judged(action("StopWorkspaces", [UNKNOWN], failed=[UNKNOWN])) is None
    assert judged(action("TerminateWorkspaces", [UNKNOWN, LIVE], failed=[UNKNOWN], held=[workspace()])) is None


@pytest.mark.parametrize("operation, held", [
    ("StopWorkspaces", workspace(state="STOPPED")),
    ("StopWorkspaces", workspace(mode="ALWAYS_ON")),
    ("StartWorkspaces", workspace()),
    ("RebootWorkspaces", workspace(state="STOPPED")),
    ("RebootWorkspaces", workspace(state="REBOOTING")),  # only after 20 minutes there
])
def test_a_refusal_the_precondition_explains_passes(operation, held):
    assert judged(action(operation, [LIVE], failed=[LIVE], held=[held])) is None


def test_a_refusal_in_a_transitional_state_is_not_judged():
    # The state seen before the request may have moved on by the time it arrives.
    assert judged(action("TerminateWorkspaces", [LIVE], failed=[LIVE], held=[workspace(state="PENDING")])) is None


def test_a_repeated_id_may_be_refused_after_its_first_item_but_not_every_time():
    held = [workspace()]
    assert judged(action("StopWorkspaces", [LIVE, LIVE], failed=[LIVE], held=held)) is None
    assert judged(action("StopWorkspaces", [LIVE, LIVE], failed=[LIVE, LIVE], held=held)).rule == "edge.stop"


def test_the_other_items_of_a_batch_are_judged_on_their_own():
    held = [workspace(), workspace(OTHER, state="STOPPED")]
    assert judged(action("StopWorkspaces", [LIVE, OTHER], failed=[OTHER], held=held)) is None
    failure = judged(action("StopWorkspaces", [OTHER, LIVE], failed=[OTHER, LIVE], held=held))
    assert LIVE in failure.message and OTHER not in failure.message.split("Request:")[0]


def test_without_holdings_or_failed_requests_nothing_is_judged():
    bare = action("StopWorkspaces", [LIVE], failed=[LIVE], held=[workspace()])
    bare.holdings = None
    assert judged(bare) is None
    assert judged(action("StopWorkspaces", [LIVE], held=[workspace()])) is None


# --- creation -------------------------------------------------------------------------------


def test_a_refused_creation_of_a_new_user_in_live_resources_fails():
    failure = judged(creation([request()], [request()]))
    assert failure.rule == "edge.create" and "'bob'" in failure.message
    assert "ResourceNotFound.User" in failure.title


@pytest.mark.parametrize("items, failed, kwargs", [
    ([request("alice")], [request("alice")], {"listed": [workspace()]}),  # the user has a WorkSpace
    ([request("ALICE")], [request("ALICE")], {"listed": [workspace()]}),  # user names compare without case
    ([request(directory="d-0000000000")], [request(directory="d-0000000000")], {}),  # unknown directory
    ([request(bundle="wsb-000000000")], [request(bundle="wsb-000000000")], {}),  # unknown bundle
    ([request(), request()], [request()], {}),  # the second request for one user
    ([request()], [request()], {"code": "ResourceLimitExceededException"}),  # the account's quota
    # 175 GB root with the bundle's 50 GB user volume fits no documented group
    ([request(WorkspaceProperties={"RootVolumeSizeGib": 175})],
     [request(WorkspaceProperties={"RootVolumeSizeGib": 175})], {}),
    # a root size given alone, for a bundle the target cannot describe
    ([request(WorkspaceProperties={"RootVolumeSizeGib": 80})],
     [request(WorkspaceProperties={"RootVolumeSizeGib": 80})], {"bundle": {}}),
    # a timeout for an AlwaysOn WorkSpace (the mode by default)
    ([request(WorkspaceProperties={"RunningModeAutoStopTimeoutInMinutes": 60})],
     [request(WorkspaceProperties={"RunningModeAutoStopTimeoutInMinutes": 60})], {}),
])
def test_a_refused_creation_a_rule_explains_passes(items, failed, kwargs):
    assert judged(creation(items, failed, **kwargs)) is None


def test_a_fitting_volume_size_with_the_bundle_defaults_must_be_created():
    item = request(WorkspaceProperties={"RootVolumeSizeGib": 80})
    assert judged(creation([item], [item])).rule == "edge.create"
    timed = request(WorkspaceProperties={"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 120})
    assert judged(creation([timed], [timed])).rule == "edge.create"


def test_both_requests_of_one_user_refused_fails():
    assert judged(creation([request(), request()], [request(), request()])).rule == "edge.create"


# --- the follow-up --------------------------------------------------------------------------


class FakeRun:
    """Just enough of a Run for the follow-up: describe answers from a dict, failures as CheckFailure."""

    def __init__(self, after: dict, kind="emulator"):
        self.after = after  # WorkspaceId -> Workspace now
        self.target = SimpleNamespace(kind=kind, polls_per_state=1, remote=False)
        self.known_ids = frozenset()
        self.caller = SimpleNamespace(call=self.answer)

    def implemented(self, operation):
        return True

    def answer(self, operation, params):
        found = [w for w in self.after.values()
                 if w["WorkspaceId"] in params.get("WorkspaceIds", [w["WorkspaceId"]])
                 and w["DirectoryId"] == params.get("DirectoryId", w["DirectoryId"])]
        return Response(200, dict(JSON), json.dumps({"Workspaces": found}).encode())

    def failure(self, check, rule, title, message, *, exchange=None, operation=None):
        return checks.failure(check, rule, title, message, exchange=exchange, operation=operation, listing=True)


def test_an_item_reported_failed_that_changed_state_anyway_fails_state_transition():
    exchange = action("StartWorkspaces", [LIVE], failed=[LIVE], held=[workspace()])
    with pytest.raises(CheckFailure) as info:
        batches.follow_up(FakeRun({LIVE: workspace(state="STARTING")}), exchange)
    assert info.value.check == "state_transition" and info.value.rule == "precondition.StartWorkspaces"
    assert "STARTING" in info.value.message and info.value.reproduce == "print('again')"


def test_an_item_reported_failed_that_stayed_put_passes():
    exchange = action("StartWorkspaces", [LIVE], failed=[LIVE], held=[workspace()])
    batches.follow_up(FakeRun({LIVE: workspace()}), exchange)
    # Elsewhere than on the polled clock a poll may see what the state graph lets happen by itself.
    pending = action("StopWorkspaces", [LIVE], failed=[LIVE], held=[workspace(state="PENDING")])
    batches.follow_up(FakeRun({LIVE: workspace(state="AVAILABLE")}, kind="moto"), pending)


def test_an_accepted_item_shows_the_actions_state():
    exchange = action("StopWorkspaces", [LIVE], held=[workspace()])
    batches.follow_up(FakeRun({LIVE: workspace(state="STOPPING")}), exchange)
    with pytest.raises(CheckFailure) as info:
        batches.follow_up(FakeRun({LIVE: workspace()}), exchange)
    assert info.value.check == "state_transition" and info.value.rule == "edge.stop"


def test_a_creation_reported_failed_that_left_a_workspace_fails():
    exchange = creation([request()], [request()], code="ResourceExists.WorkSpace")
    leftover = dict(workspace("ws-leftover1", state="PENDING", user="bob"))
    with pytest.raises(CheckFailure) as info:
        batches.follow_up(FakeRun({"ws-leftover1": leftover}), exchange)
    assert info.value.check == "state_transition" and info.value.rule == "edge.create"
    assert "ResourceExists.WorkSpace" in info.value.message
    batches.follow_up(FakeRun({}), exchange)  # nothing left behind


def test_a_workspace_reported_pending_must_be_described():
    body = {"FailedRequests": [], "PendingRequests": [dict(workspace("ws-pending01", state="PENDING"))]}
    exchange = Exchange("CreateWorkspaces", {"Workspaces": [request()]},
                        Response(200, dict(JSON), json.dumps(body).encode()), reproduce="print('again')",
                        holdings=Holdings(directories=frozenset([DIRECTORY]), bundles={BUNDLE: BUNDLE_80_50},
                                          listed={DIRECTORY: []}))
    batches.follow_up(FakeRun({"ws-pending01": workspace("ws-pending01", state="PENDING")}), exchange)
    with pytest.raises(CheckFailure) as info:
        batches.follow_up(FakeRun({}), exchange)
    assert info.value.rule == "timing.create.visible" and "ws-pending01" in info.value.message


# --- listings -------------------------------------------------------------------------------


def test_listings_may_leave_out_only_what_a_rule_names():
    assert set(omissions("DescribeWorkspaces")) == {"TERMINATING", "TERMINATED", "GONE"}
    connection = omissions("DescribeWorkspacesConnectionStatus")
    assert {"PENDING", "ERROR", "TERMINATED", "GONE"} <= set(connection)
    assert connection["PENDING"] == "connection.may_omit_new_or_failed"
    assert "AVAILABLE" not in connection and "STOPPED" not in connection
