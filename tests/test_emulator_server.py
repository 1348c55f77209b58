"""The emulator's HTTP surface: AWS JSON 1.1 wire errors, signatures, start/stop and the CLI."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from emulator import Emulator
from emulator.faults import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]


def _post(url, body=b"{}", headers=None, method="POST"):
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(url).netloc, timeout=10)
    try:
        connection.request(method, "/", body, headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _client(url, key="testing", secret="testing"):
    return boto3.client("workspaces", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def emu():
    with Emulator() as running:
        yield running


TARGET = {"Content-Type": "application/x-amz-json-1.1"}


@pytest.mark.parametrize("headers,body,code", [
    ({}, b"{}", "UnknownOperationException"),
    ({"X-Amz-Target": "WorkspacesService.NoSuchOperation"}, b"{}", "UnknownOperationException"),
    ({"X-Amz-Target": "OtherService.DescribeWorkspaces"}, b"{}", "UnknownOperationException"),
    ({"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"}, b"{not json", "SerializationException"),
    ({"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"}, b"[1, 2]", "SerializationException"),
    ({"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"}, b"\xff\xfe", "SerializationException"),
    ({"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"}, b'{"Limit": "5"}', "SerializationException"),
    ({"X-Amz-Target": "WorkspacesService.CreateTags"}, b'{"ResourceId": "d-906734b2c1"}', "ValidationException"),
])
def test_wire_errors_are_aws_json_400(emu, headers, body, code):
    status, response_headers, parsed = _post(emu.url, body, dict(TARGET, **headers))
    assert status == 400
    assert parsed["__type"] == code and parsed["message"]
    assert response_headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response_headers["x-amzn-RequestId"]


def test_empty_body_is_malformed_and_get_is_refused(emu):
    status, headers, parsed = _post(emu.url, b"", dict(TARGET, **{"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"}))
    assert status == 400 and parsed["__type"] == "SerializationException" and headers["x-amzn-RequestId"]
    status, _, parsed = _post(emu.url, None, {}, method="GET")
    assert status == 400 and parsed["__type"] == "UnknownOperationException"


def test_keep_alive_connection_is_reused(emu):
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(emu.url).netloc, timeout=10)
    headers = dict(TARGET, **{"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"})
    for _ in range(3):
        connection.request("POST", "/", b"{}", headers)
        response = connection.getresponse()
        assert response.status == 200 and not response.will_close
        response.read()
    connection.close()


def test_start_stop_and_context_manager_release_the_port():
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="start"):
        emulator.url
    url = emulator.start()
    assert url.startswith("http://127.0.0.1:") and emulator.url == url and emulator.start() == url
    assert _client(url).describe_workspaces()["Workspaces"] == []
    emulator.stop()
    emulator.stop()
    with pytest.raises(OSError):
        _post(url)
    port = urllib.parse.urlsplit(url).port
    with Emulator(port=port) as again:
        assert again.url == url


@pytest.mark.parametrize("kwargs,match", [({"port": -1}, "port"), ({"access_key": "AK"}, "secret_key"),
                                          ({"faults": ["no_such_fault"]}, "fault"), ({"seed": {"bundles": []}}, "directories"),
                                          ({"polls_per_state": 0}, "polls_per_state")])
def test_constructor_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Emulator(**kwargs)


def test_seed_file_and_reset(tmp_path):
    seed = {"directories": [{"DirectoryId": "d-1234567890", "DirectoryName": "x.example", "SubnetIds": ["subnet-1"],
                             "State": "REGISTERED"}],
            "bundles": [{"BundleId": "wsb-123456789", "Name": "mine", "Owner": "123456789012",
                         "ComputeType": {"Name": "VALUE"}, "RootStorage": {"Capacity": "80"},
                         "UserStorage": {"Capacity": "10"}}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    with Emulator(seed=str(path)) as emulator:
        client = _client(emulator.url)
        assert [d["DirectoryId"] for d in client.describe_workspace_directories()["Directories"]] == ["d-1234567890"]
        client.create_workspaces(Workspaces=[{"DirectoryId": "d-1234567890", "UserName": "a", "BundleId": "wsb-123456789"}])
        assert len(client.describe_workspaces()["Workspaces"]) == 1
        emulator.reset()
        assert client.describe_workspaces()["Workspaces"] == []
        assert emulator.seed["bundles"][0]["BundleId"] == "wsb-123456789"


def test_default_seed_is_valid_against_the_output_schemas():
    import jsonschema
    import specs

    seed = Emulator().seed
    directories = specs.operation("DescribeWorkspaceDirectories")["output"]
    bundles = specs.operation("DescribeWorkspaceBundles")["output"]
    jsonschema.validate({"Directories": seed["directories"]}, directories)
    jsonschema.validate({"Bundles": seed["bundles"]}, bundles)
    assert {d["DirectoryId"][:2] for d in seed["directories"]} == {"d-", "ws"}
    assert any(b["Owner"] == "AMAZON" for b in seed["bundles"]) and any(b["Owner"] != "AMAZON" for b in seed["bundles"])


# --- signatures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signed():
    with Emulator(access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") as running:
        yield running


def test_correct_signature_accepted(signed):
    client = _client(signed.url, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    assert client.describe_workspaces()["Workspaces"] == []
    assert client.describe_workspace_bundles(Owner="AMAZON")["Bundles"]


@pytest.mark.parametrize("key,secret,code", [("AKIDEXAMPLE", "wrong-secret", "InvalidSignatureException"),
                                             ("AKIDOTHER", "whatever", "UnrecognizedClientException")])
def test_wrong_signature_is_403(signed, key, secret, code):
    with pytest.raises(Exception) as caught:
        _client(signed.url, key, secret).describe_workspaces()
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == code


def test_missing_signature_is_403(signed):
    status, headers, parsed = _post(signed.url, b"{}", dict(TARGET, **{"X-Amz-Target": "WorkspacesService.DescribeWorkspaces"}))
    assert status == 403 and parsed["__type"] == "MissingAuthenticationTokenException"
    assert headers["Content-Type"] == "application/x-amz-json-1.1"


def test_tampered_body_fails_the_signature(signed):
    client = _client(signed.url, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    def tamper(request, **_):
        request.body = b'{"Limit": 3}'
        request.headers["Content-Length"] = str(len(request.body))

    client.meta.events.register_last("before-send.workspaces.DescribeWorkspaces", tamper)
    with pytest.raises(Exception) as caught:
        client.describe_workspaces(Limit=5)
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"


# --- command line -------------------------------------------------------------------------------

def _run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "emulator", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_prints_url_serves_and_stops_on_sigterm():
    process = _run_cli("--port", "0", "--fault", "skip_pending", "--polls-per-state", "2")
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = _client(url)
        directory = client.describe_workspace_directories()["Directories"][0]["DirectoryId"]
        bundle = client.describe_workspace_bundles(Owner="AMAZON")["Bundles"][0]["BundleId"]
        created = client.create_workspaces(Workspaces=[{"DirectoryId": directory, "UserName": "x", "BundleId": bundle}])
        assert created["PendingRequests"][0]["State"] == "AVAILABLE"  # the fault switch took effect
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cli_lists_faults_and_rejects_unknown_ones():
    listing = subprocess.run([sys.executable, "-m", "emulator", "--list-faults"], cwd=ROOT, capture_output=True,
                             text=True, timeout=30)
    assert listing.returncode == 0
    assert len(listing.stdout.splitlines()) == len(CATALOGUE)
    bad = subprocess.run([sys.executable, "-m", "emulator", "--fault", "skip_pendin"], cwd=ROOT, capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 2 and "skip_pending" in bad.stderr
