"""Self-tests of target handling: not-implemented shapes, broken endpoints, loopback detection."""
from __future__ import annotations

import json
import re

import pytest

import specs
from conformance import targets
from conformance.client import Caller, Connection, RateLimiter, TargetUnreachable, redact

from .servers import canned

NOT_IMPLEMENTED = {
    "moto_html_500": (500, b"<!doctype html><title>500 Internal Server Error</title>", "text/html"),
    "localstack_501": (501, json.dumps({"__type": "InternalFailure", "message": "API action 'StopWorkspaces' for service 'workspaces' not yet implemented"}).encode(), "application/json"),
    "unknown_operation": (400, b'{"__type": "UnknownOperationException"}', "application/x-amz-json-1.1"),
    "not_found_404": (404, b"Not Found", "text/plain"),
}


@pytest.mark.parametrize("shape", sorted(NOT_IMPLEMENTED))
def test_each_not_implemented_shape_is_classified(shape):
    status, body, content_type = NOT_IMPLEMENTED[shape]
    with canned(status=status, body=body, content_type=content_type) as server:
        caller = Caller(Connection(server.url, timeout=5))
        assert targets.probe_implemented(caller, "StopWorkspaces") is False
        caller.close()


@pytest.mark.parametrize("answer", [
    (400, b'{"__type": "ValidationException", "message": "1 validation error"}'),
    (200, b'{"FailedRequests": []}'),
    (500, b'{"__type": "InternalServerError", "message": "boom"}'),  # an AWS error: implemented, but broken
])
def test_implemented_answers_are_not_mistaken(answer):
    status, body = answer
    with canned(status=status, body=body) as server:
        caller = Caller(Connection(server.url, timeout=5))
        assert targets.probe_implemented(caller, "StopWorkspaces") is True
        caller.close()


def test_a_hanging_server_times_out_with_a_clear_message():
    with canned(delay=1.0) as server:
        caller = Caller(Connection(server.url, timeout=0.3))
        with pytest.raises(TargetUnreachable, match="127.0.0.1"):
            caller.call("DescribeWorkspaces", {})
        caller.close()


def test_connection_refused_is_unreachable():
    port = targets.free_port()
    caller = Caller(Connection(f"http://127.0.0.1:{port}", timeout=2))
    with pytest.raises(TargetUnreachable, match=str(port)):
        caller.send_raw("DescribeWorkspaces", b"{}")
    caller.close()


@pytest.mark.parametrize("url,loopback", [
    ("http://127.0.0.1:4566", True), ("http://localhost:5000", True), ("http://[::1]:80", True),
    ("https://workspaces.us-east-1.amazonaws.com", False), ("http://10.0.0.5:4566", False),
])
def test_loopback_detection(url, loopback):
    assert targets.is_loopback(url) is loopback
    assert targets.url_target(url).remote is (not loopback)


def test_bad_endpoint_names_the_argument():
    with pytest.raises(ValueError, match="endpoint='ftp://x'"):
        targets.url_target("ftp://x")


def test_rate_limiter_spaces_requests_after_the_burst():
    import time

    limiter = RateLimiter(20.0, burst=2)
    start = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    # 2 from the burst, then 4 at 20/s: at least 0.2 s.
    assert time.monotonic() - start >= 0.18
    with pytest.raises(ValueError, match="rate_limit=0"):
        RateLimiter(0)


def test_redaction_removes_secrets_and_signatures():
    value = {"headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=abc123"},
             "body": "token SECRETTOKEN and Signature=deadbeef"}
    clean = redact(value, ["SECRETTOKEN"])
    assert clean["headers"]["Authorization"] == "***"
    assert "SECRETTOKEN" not in json.dumps(clean) and "deadbeef" not in json.dumps(clean)


def test_throttling_is_retried_and_counted():
    with canned(status=400, body=b'{"__type": "ThrottlingException", "message": "slow down"}') as server:
        caller = Caller(Connection(server.url, timeout=5, throttle_retries=2))
        import conformance.client as client_module

        original = client_module.time.sleep
        client_module.time.sleep = lambda s: None
        try:
            response = caller.call("DescribeWorkspaces", {})
        finally:
            client_module.time.sleep = original
        assert response.error_code == "ThrottlingException"
        assert caller.throttled == 2 and len(server.requests) == 3
        caller.close()


# --- probes and discovery, from the resources section of rules.json ------------------------------


def test_probes_name_only_resources_that_exist_nowhere_or_the_live_directory():
    from strategies import ResourcePool

    pool = ResourcePool(directories=["d-1234567890"], workspaces=["ws-abcdefgh1"])
    assert targets._probes("CreateWorkspaces", pool) == [{"Workspaces": []}, {}]  # entries that name no resource
    assert targets._probes("TerminateWorkspaces", pool) == [
        {"TerminateWorkspaceRequests": [{"WorkspaceId": "ws-000000000"}]}, {}]
    assert targets._probes("ModifyWorkspaceProperties", pool) == [{"WorkspaceId": "ws-000000000"}, {}]
    assert targets._probes("CreateTags", pool) == [{"ResourceId": "d-000000000", "Tags": []},
                                                   {"ResourceId": "d-1234567890", "Tags": []}, {}]
    assert targets._probes("CreateTags", None)[1]["ResourceId"] == "d-000000000"  # no pool: nothing live is named
    assert targets._probes("DescribeWorkspaces", pool) == [{}, {}]
    live = {"d-1234567890", "ws-abcdefgh1"}
    for operation in specs.seed_operations():
        text = json.dumps(targets._probes(operation, pool))
        named = set(re.findall(r'"((?:ws|d)-[0-9a-z]+)"', text))
        assert named <= live | {"ws-000000000", "d-000000000"}, (operation, named)
        if not specs.read_only(operation) and operation != "CreateWorkspaces":
            assert named & {"ws-000000000", "d-000000000"}, operation  # every mutating probe aims at nothing


def test_nowhere_ids_match_their_familys_pattern():
    for entry in specs.resources():
        if entry["pattern"] is None:
            continue
        value = targets.nowhere_id(entry["id_members"][0])
        assert re.fullmatch(entry["pattern"], value) and set(value.split("-", 1)[1]) == {"0"}, (entry["id"], value)
    with pytest.raises(ValueError, match="member='UserName'"):
        targets.nowhere_id("UserName")


def test_discovery_finds_each_kind_and_lists_unchanging_kinds_once(emulator):
    target = targets.url_target(emulator.url)
    target.directory_id = "d-9999999999"  # as --directory-id gives it: first, though the target lists it not
    caller = target.caller()
    sent, call = [], caller.call

    def counted(operation, params):
        sent.append(operation)
        return call(operation, params)

    caller.call = counted
    try:
        first = targets.discover(caller, target)
        second = targets.discover(caller, target)
    finally:
        caller.close()
    assert first.directories[0] == "d-9999999999" and len(first.directories) > 1 and first.bundles
    assert first == second
    # The kinds the emulator seeds beyond the seed operations are found as the seed holds them.
    assert first.images == [image["ImageId"] for image in emulator.seed["images"]]
    assert first.ip_groups == [group["groupId"] for group in emulator.seed["network"]["ip_groups"]]
    # WorkSpaces come and go (CreateWorkspaces is tested): listed each time; the rest once a run.
    assert sent.count("DescribeWorkspaces") == 2 and sent.count("DescribeWorkspaceDirectories") == 1
    assert sent.count("DescribeWorkspaceBundles") == 2  # Owner AMAZON, then the account's own
    assert sent.count("DescribeWorkspaceImages") == 1  # no operation the suite tests makes images: asked once
