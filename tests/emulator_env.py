"""A shared way into an emulator for the emulator's self-tests: boto3 and raw JSON, polled clock.

The emulator self-tests of every family use it through the ``env`` fixture
(tests/conftest.py), and a family's test module may declare ``FAULT_SCENARIOS`` (fault -> (scenario(env), clean, faulty)) and
``EXAMPLES`` (operation -> example(env) giving the params of one valid call).
"""
from __future__ import annotations

import http.client
import importlib
import json
import urllib.parse
from pathlib import Path

import boto3
from botocore.config import Config

from emulator import Emulator


__all__ = ["Env", "family_declarations"]

# The self-test modules of the families beyond the seed operations.
_FAMILY_MODULES = sorted(path.stem for path in Path(__file__).parent.glob("test_emulator_family_*.py"))


def family_declarations(name: str) -> dict:
    """The union of the dicts named ``name`` (FAULT_SCENARIOS or EXAMPLES) of the family test modules."""
    merged: dict = {}
    for module_name in _FAMILY_MODULES:
        declared = getattr(importlib.import_module(f"tests.{module_name}"), name, {})
        clash = set(merged) & set(declared)
        if clash:
            raise ValueError(f"Expected each {name} key in one family module but {sorted(clash)} "
                             f"are declared again in tests/{module_name}.py")
        merged.update(declared)
    return merged


class Env:
    """An emulator in the polled mode (one describe per transitional state) with two ways in."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        self.client = boto3.client(
            "workspaces", endpoint_url=emulator.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(parameter_validation=False, retries={"max_attempts": 1}))
        self.address = urllib.parse.urlsplit(emulator.url).netloc
        self.directories = [d["DirectoryId"] for d in emulator.seed["directories"]]
        self.bundle = next(b["BundleId"] for b in emulator.seed["bundles"]
                           if b["Owner"] == "AMAZON" and b["ComputeType"]["Name"] == "STANDARD")

    def raw(self, operation: str, body, target: str | None = "WorkspacesService."):
        """POST a body (dict or bytes) as is; returns (status, content type, parsed JSON or text)."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        if target is not None:
            headers["X-Amz-Target"] = target + operation
        connection = http.client.HTTPConnection(self.address, timeout=10)
        try:
            connection.request("POST", "/", payload, headers)
            response = connection.getresponse()
            text = response.read().decode()
            content_type = response.getheader("Content-Type")
        finally:
            connection.close()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return response.status, content_type, parsed

    def create(self, user: str = "alice", directory: int = 0, mode: str = "AUTO_STOP") -> str:
        result = self.client.create_workspaces(Workspaces=[{
            "DirectoryId": self.directories[directory], "UserName": user, "BundleId": self.bundle,
            "WorkspaceProperties": {"RunningMode": mode}}])
        assert not result["FailedRequests"], result["FailedRequests"]
        return result["PendingRequests"][0]["WorkspaceId"]

    def state(self, workspace_id: str) -> str:
        found = self.raw("DescribeWorkspaces", {"WorkspaceIds": [workspace_id]})[2]["Workspaces"]
        return found[0]["State"] if found else "GONE"

    def settle(self, workspace_id: str, polls: int = 3) -> str:
        state = None
        for _ in range(polls):
            state = self.state(workspace_id)
        return state
