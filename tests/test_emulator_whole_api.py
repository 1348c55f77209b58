"""Every operation of the model answers a valid request through boto3 with what its output schema accepts.

Each operation has an example: a function of an ``Env`` that makes whatever the
call needs (a WorkSpace to stop, a group to delete) and returns the params of
one valid call. The seed operations' and the WorkSpace family's examples are
here; the other families declare theirs as ``EXAMPLES`` in their own
``tests/test_emulator_family_*.py``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from botocore import xform_name

import specs
from emulator.backend import Backend
from emulator.holdings import holdings_table
from emulator.operations import HANDLERS
from tests.emulator_env import family_declarations


def _available(env, **create) -> str:
    workspace_id = env.create(**create)
    assert env.settle(workspace_id) == "AVAILABLE"
    return workspace_id


def _stopped(env) -> str:
    workspace_id = _available(env)
    env.client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert env.settle(workspace_id) == "STOPPED"
    return workspace_id


def _action(key: str, make):
    return lambda env: {key: [{"WorkspaceId": make(env)}]}


EXAMPLES = {
    "CreateTags": lambda env: {"ResourceId": env.directories[0], "Tags": [{"Key": "team", "Value": "blue"}]},
    "DeleteTags": lambda env: {"ResourceId": env.directories[0], "TagKeys": ["team"]},
    "DescribeTags": lambda env: {"ResourceId": env.directories[0]},
    "CreateWorkspaces": lambda env: {"Workspaces": [{"DirectoryId": env.directories[0], "UserName": "carol",
                                                     "BundleId": env.bundle}]},
    "DescribeWorkspaceBundles": lambda env: {"Owner": "AMAZON"},
    "DescribeWorkspaceDirectories": lambda env: {},
    "DescribeWorkspaces": lambda env: {"WorkspaceIds": [env.create()]},
    "DescribeWorkspacesConnectionStatus": lambda env: {"WorkspaceIds": [env.create()]},
    "ModifyWorkspaceProperties": lambda env: {"WorkspaceId": _available(env),
                                              "WorkspaceProperties": {"RunningMode": "ALWAYS_ON"}},
    "RebootWorkspaces": _action("RebootWorkspaceRequests", _available),
    "RebuildWorkspaces": _action("RebuildWorkspaceRequests", _available),
    "StartWorkspaces": _action("StartWorkspaceRequests", _stopped),
    "StopWorkspaces": _action("StopWorkspaceRequests", _available),
    "TerminateWorkspaces": _action("TerminateWorkspaceRequests", _available),
    "ModifyWorkspaceState": lambda env: {"WorkspaceId": _available(env), "WorkspaceState": "ADMIN_MAINTENANCE"},
    "RestoreWorkspace": lambda env: {"WorkspaceId": _available(env)},
    "DescribeWorkspaceSnapshots": lambda env: {"WorkspaceId": _available(env)},
    "MigrateWorkspace": lambda env: {"SourceWorkspaceId": _available(env), "BundleId": env.bundle},
    "CreateStandbyWorkspaces": lambda env: {"PrimaryRegion": "us-west-2", "StandbyWorkspaces": [
        {"PrimaryWorkspaceId": _available(env), "DirectoryId": env.directories[1]}]},
}
ALL_EXAMPLES = {**EXAMPLES, **family_declarations("EXAMPLES")}


def test_every_operation_has_one_example():
    assert set(EXAMPLES).isdisjoint(family_declarations("EXAMPLES"))
    assert sorted(set(specs.operation_names()) - set(ALL_EXAMPLES)) == []
    assert sorted(set(ALL_EXAMPLES) - set(specs.operation_names())) == []


@pytest.mark.parametrize("operation", specs.operation_names())
def test_operation_answers_a_valid_request(env, operation):
    if operation not in ALL_EXAMPLES:
        pytest.fail(f"{operation} has no example: declare one in EXAMPLES of its family's self-test module")
    params = ALL_EXAMPLES[operation](env)
    if operation not in env.client.meta.service_model.operation_names:
        # The installed botocore predates the operation (the contract is newer): the same JSON, sent as is.
        status, _, body = env.raw(operation, params)
        assert status == 200, body
        jsonschema.Draft7Validator(specs.operation(operation)["output"]).validate(body)
        return
    answers = []
    env.client.meta.events.register(f"after-call.workspaces.{operation}",
                                     lambda http_response, **_: answers.append(http_response))
    parsed = getattr(env.client, xform_name(operation))(**params)
    (answer,) = answers
    assert answer.status_code == 200, answer.content
    body = json.loads(answer.content or b"{}")
    # The raw JSON is what the schema describes (epoch-second timestamps); boto3 parsed the same body.
    jsonschema.Draft7Validator(specs.operation(operation)["output"]).validate(body)
    assert set(parsed) - {"ResponseMetadata"} == set(body)


def test_every_operation_of_the_model_has_one_registered_handler_and_a_backend_serves_them():
    # The seed operations are Backend's own methods; the families register the others.
    assert sorted(HANDLERS) == sorted(set(specs.operation_names()) - set(specs.seed_operations()))
    assert sorted(Backend().handlers) == sorted(specs.operation_names())


def test_readme_shows_the_holdings_of_a_fresh_emulator():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- holdings:start -->\n(.*?)\n?<!-- holdings:end -->", readme, re.S)
    assert shown is not None, "README.md lacks the holdings markers"
    assert shown.group(1).strip() == holdings_table(), "README.md: paste the output of python -m emulator --holdings"
