"""Self-tests of the derived specs: provenance, constraints, full-match patterns."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import botocore
import jsonschema
import pytest

import specs
from specs import derive
from tests import skip_unless_installed_model_covers_contract

Validator = jsonschema.Draft7Validator


def errors(schema: dict, instance) -> list[jsonschema.ValidationError]:
    return list(Validator(schema).iter_errors(instance))


def definition(op: str, part: str, name: str) -> dict:
    return specs.operation(op)[part]["definitions"][name]


# --- provenance ---------------------------------------------------------------------------


def test_one_file_per_model_operation_and_fourteen_seed_operations():
    info = specs.model_info()
    files = sorted(p.stem for p in specs.OPERATIONS_DIR.glob("*.json"))
    assert files == sorted(info["operations"])
    assert len(files) == info["operation_count"]
    flagged = [name for name in files if specs.operation(name)["seed"]]
    assert len(flagged) == 14
    assert flagged == sorted(specs.seed_operations())


def test_seed_operations_are_the_client_methods_of_the_seed_reference():
    from botocore import xform_name

    methods = {xform_name(name) for name in specs.seed_operations()}
    assert methods == {
        "create_tags", "create_workspaces", "delete_tags", "describe_tags",
        "describe_workspace_bundles", "describe_workspace_directories", "describe_workspaces",
        "describe_workspaces_connection_status", "modify_workspace_properties",
        "reboot_workspaces", "rebuild_workspaces", "start_workspaces", "stop_workspaces",
        "terminate_workspaces",
    }


def test_drift_check_against_installed_botocore():
    recorded = specs.model_info()["botocore"]
    if recorded != botocore.__version__:
        pytest.skip(
            f"specs were derived from botocore {recorded}, botocore {botocore.__version__} is "
            f"installed; compare with: python -m specs.derive --check"
        )
    result = subprocess.run(
        [sys.executable, "-m", "specs.derive", "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _derive_in_a_process(hash_seed: str) -> str:
    program = "import json, sys; from specs import derive; json.dump(derive.derive(), sys.stdout)"
    env = dict(__import__("os").environ, PYTHONHASHSEED=hash_seed)
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, check=True).stdout


def test_derivation_is_deterministic_across_processes():
    # Different hash seeds reorder sets and dicts built from them: the files must not change.
    first, second = _derive_in_a_process("1"), _derive_in_a_process("2")
    assert first == second
    assert json.loads(first) == derive.derive()


def test_drift_summary_names_what_changed_and_how_to_regenerate():
    new = derive.derive()
    old = dict(new)
    spec = json.loads(old["operations/DescribeWorkspaces.json"])
    spec["output"]["definitions"]["WorkspaceState"]["enum"].append("HIBERNATING")
    del spec["input"]["properties"]["WorkspaceName"]
    old["operations/DescribeWorkspaces.json"] = json.dumps(spec)
    old["operations/DescribeFrobs.json"] = json.dumps(
        {"name": "DescribeFrobs", "input": {"title": "DescribeFrobsRequest"}, "output": {}}
    )
    info = json.loads(old["model.json"])
    info["botocore"] = "1.0.0"
    old["model.json"] = json.dumps(info)
    summary = derive.drift_summary(old, new)
    assert "operations removed (1): DescribeFrobs" in summary
    assert "enum values removed (1): WorkspaceState=HIBERNATING" in summary
    assert "members added (1): DescribeWorkspacesRequest.WorkspaceName" in summary
    assert "shapes removed (1): DescribeFrobsRequest" in summary
    assert "botocore 1.0.0" in summary and f"botocore {botocore.__version__}" in summary
    assert "python -m specs.derive" in summary


def test_check_exits_1_on_a_tampered_spec(tmp_path, monkeypatch):
    files = derive.derive()
    derive.write(files, tmp_path)
    monkeypatch.setattr(derive, "SPEC_DIR", tmp_path)
    assert derive.main(["--check"]) == 0
    target = tmp_path / "operations" / "CreateTags.json"
    target.write_text(target.read_text().replace('"maxLength": 127', '"maxLength": 128'))
    assert derive.main(["--check"]) == 1


def test_unknown_operation_suggests_the_closest_name():
    with pytest.raises(specs.UnknownOperation, match="Did you mean 'DescribeWorkspaces'"):
        specs.operation("DescribeWorkspace")
    with pytest.raises(specs.UnknownOperation, match="'DescribeWorkspaces'"):
        specs.operation("describe_workspaces")


# --- one operation's contract, and the rules it reads -------------------------------------


def test_an_operation_contract_is_loaded_once_with_the_rules_that_concern_it():
    contract = specs.contract("DescribeWorkspaces")
    assert specs.contract("DescribeWorkspaces") is contract and specs.contract(contract) is contract
    assert contract.name == "DescribeWorkspaces" and contract.spec is specs.operation("DescribeWorkspaces")
    assert contract.input is contract.spec["input"] and contract.output is contract.spec["output"]
    assert contract.paginator == {"input_token": "NextToken", "output_token": "NextToken",
                                  "result_key": "Workspaces", "limit_key": "Limit"}
    assert specs.contract("CreateTags").paginator is None
    rules = specs.rules()
    assert [f["id"] for f in contract.filters] == [
        f["id"] for f in rules["filters"] if f["operation"] == "DescribeWorkspaces"] != []
    errors = {e["id"] for e in contract.errors}
    assert {"errors.too_long", "errors.not_found.describe_workspaces"} <= errors
    assert "errors.not_found.single_resource" not in errors
    assert {t["id"] for t in specs.contract("CreateTags").tags} >= {"tags.max_tags", "tags.reserved_prefix"}
    assert "pagination.limit_range.describe_workspaces" in {p["id"] for p in contract.pagination}
    assert [p["id"] for p in specs.contract("StartWorkspaces").preconditions] == ["precondition.StartWorkspaces"]


def test_a_contract_names_its_operation_or_says_what_was_wrong():
    with pytest.raises(specs.UnknownOperation, match="Did you mean 'DescribeWorkspaces'"):
        specs.contract("DescribeWorkspace")
    with pytest.raises(TypeError, match="operation=None"):
        specs.contract(None)


def test_contracts_follow_the_specs_in_force():
    before = specs.contract("CreateTags")
    specs.use_committed_specs()  # puts the specs in force again: contracts are loaded anew
    after = specs.contract("CreateTags")
    assert after is not before and after.spec == before.spec


def test_unreadable_rules_are_an_error_not_an_empty_rule_set(tmp_path, monkeypatch):
    monkeypatch.setattr(specs, "SPEC_DIR", tmp_path)
    specs.rules.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="rules.json.*No such file"):
            specs.rules()
        (tmp_path / "rules.json").write_text('{"errors": [', encoding="utf-8")
        with pytest.raises(RuntimeError, match="rules.json"):
            specs.rules()
    finally:
        monkeypatch.undo()
        specs.rules.cache_clear()
    assert specs.rules()["errors"]


# --- every document -----------------------------------------------------------------------


@pytest.mark.parametrize("name", specs.operation_names())
def test_every_document_is_self_contained_draft07(name):
    spec = specs.operation(name)
    assert spec["target"] == f"WorkspacesService.{name}"
    text = json.dumps(spec)
    assert '"$ref": "#/definitions/' in text or "$ref" not in text
    schemas = [spec["input"], spec["output"], *(e["schema"] for e in spec["errors"])]
    for schema in schemas:
        Validator.check_schema(schema)
        for ref in _refs(schema):
            assert ref.startswith("#/definitions/")
            assert ref.split("/")[-1] in schema.get("definitions", {})
    for error in spec["errors"]:
        assert error["http_status"] >= 400 and error["code"]


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_model_pattern_is_anchored_to_full_match():
    skip_unless_installed_model_covers_contract()
    model, raw, _ = derive.load_model()
    seen = 0
    for name in specs.operation_names():
        for part in ("input", "output"):
            for shape_name, shape in specs.operation(name)[part].get("definitions", {}).items():
                raw_pattern = raw["shapes"][shape_name].get("pattern")
                if raw_pattern:
                    seen += 1
                    assert shape["pattern"] == derive.anchor_pattern(raw_pattern)
                    assert derive.unanchor_pattern(shape["pattern"]) == raw_pattern
    assert seen > 40


# --- DescribeWorkspaces --------------------------------------------------------------------

VALID_WORKSPACE = {
    "WorkspaceId": "ws-abcdefgh1",
    "DirectoryId": "d-1234567890",
    "UserName": "alice",
    "IpAddress": "10.0.0.12",
    "State": "AVAILABLE",
    "BundleId": "wsb-abcdefgh1",
    "SubnetId": "subnet-0123abcd",
    "ComputerName": "WSAMZN-ABC",
    "WorkspaceProperties": {
        "RunningMode": "AUTO_STOP",
        "RunningModeAutoStopTimeoutInMinutes": 60,
        "RootVolumeSizeGib": 80,
        "UserVolumeSizeGib": 10,
        "ComputeTypeName": "STANDARD",
    },
}


def test_describe_workspaces_request_constraints():
    spec = specs.operation("DescribeWorkspaces")
    limit = definition("DescribeWorkspaces", "input", "Limit")
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 25)
    assert definition("DescribeWorkspaces", "input", "WorkspaceIdList")["maxItems"] == 25
    schema = spec["input"]
    assert errors(schema, {"Limit": 25}) == []
    assert [e.validator for e in errors(schema, {"Limit": 26})] == ["maximum"]
    assert [e.validator for e in errors(schema, {"Limit": 0})] == ["minimum"]
    assert [e.validator for e in errors(schema, {"Limit": "5"})] == ["type"]
    ids = [f"ws-abcdefgh{i:02d}" for i in range(26)]
    assert [e.validator for e in errors(schema, {"WorkspaceIds": ids})] == ["maxItems"]
    assert spec["paginator"] == {
        "input_token": "NextToken", "output_token": "NextToken",
        "result_key": "Workspaces", "limit_key": "Limit",
    }


@pytest.mark.parametrize("bad", ["ws-abcdefgh1\n", "xws-abcdefgh1", "ws-ABCDEFGH1", "ws-abc"])
def test_workspace_id_pattern_is_full_match(bad):
    schema = specs.operation("DescribeWorkspaces")["input"]
    found = errors(schema, {"WorkspaceIds": [bad]})
    assert [e.validator for e in found] == ["pattern"]
    assert list(found[0].absolute_path) == ["WorkspaceIds", 0]


def test_image_id_pattern_without_caret_is_anchored():
    schema = specs.operation("DescribeWorkspaceImages")["input"]
    assert errors(schema, {"ImageIds": ["wsi-abcdefgh1"]}) == []
    for bad in ["xwsi-abcdefgh1", "wsi-abcdefgh1\n", " wsi-abcdefgh1"]:
        assert [e.validator for e in errors(schema, {"ImageIds": [bad]})] == ["pattern"]


def test_workspace_state_has_the_seventeen_enum_values():
    states = definition("DescribeWorkspaces", "output", "WorkspaceState")["enum"]
    assert len(states) == 17 and len(set(states)) == 17
    assert {"PENDING", "AVAILABLE", "STOPPED", "TERMINATED", "ADMIN_MAINTENANCE"} <= set(states)


def test_describe_workspaces_output_accepts_valid_and_rejects_deviations():
    schema = specs.operation("DescribeWorkspaces")["output"]
    assert errors(schema, {"Workspaces": [VALID_WORKSPACE], "NextToken": "abc"}) == []
    assert errors(schema, {}) == []

    lower = copy.deepcopy(VALID_WORKSPACE)
    lower["State"] = "available"
    assert [(e.validator, list(e.absolute_path)) for e in errors(schema, {"Workspaces": [lower]})] == [
        ("enum", ["Workspaces", 0, "State"])
    ]
    malformed = copy.deepcopy(VALID_WORKSPACE)
    malformed["WorkspaceId"] = "workspace-1"
    assert [e.validator for e in errors(schema, {"Workspaces": [malformed]})] == ["pattern"]
    assert [e.validator for e in errors(schema, {"Workspaces": VALID_WORKSPACE})] == ["type"]
    mode = copy.deepcopy(VALID_WORKSPACE)
    mode["WorkspaceProperties"]["RunningMode"] = "SOMETIMES"
    assert [e.validator for e in errors(schema, {"Workspaces": [mode]})] == ["enum"]


# --- CreateWorkspaces, CreateTags ----------------------------------------------------------


def test_create_workspaces_request_requires_members_and_bounds_the_list():
    schema = specs.operation("CreateWorkspaces")["input"]
    request = {"DirectoryId": "d-1234567890", "UserName": "bob", "BundleId": "wsb-abcdefgh1"}
    assert errors(schema, {"Workspaces": [request]}) == []
    assert [e.validator for e in errors(schema, {})] == ["required"]
    assert [e.validator for e in errors(schema, {"Workspaces": []})] == ["minItems"]
    assert [e.validator for e in errors(schema, {"Workspaces": [request] * 26})] == ["maxItems"]
    missing = dict(request)
    del missing["BundleId"]
    found = errors(schema, {"Workspaces": [missing]})
    assert [(e.validator, list(e.absolute_path)) for e in found] == [("required", ["Workspaces", 0])]
    long_user = dict(request, UserName="u" * 64)
    assert [e.validator for e in errors(schema, {"Workspaces": [long_user]})] == ["maxLength"]
    outputs = specs.operation("CreateWorkspaces")["output"]
    failed = {"FailedRequests": [{"WorkspaceRequest": request, "ErrorCode": "ResourceExists.WorkSpace",
                                  "ErrorMessage": "A WorkSpace already exists for the specified user."}],
              "PendingRequests": [dict(VALID_WORKSPACE, State="PENDING")]}
    assert errors(outputs, failed) == []


def test_create_tags_key_and_value_lengths_and_errors():
    spec = specs.operation("CreateTags")
    schema = spec["input"]
    ok = {"ResourceId": "ws-abcdefgh1", "Tags": [{"Key": "k" * 127, "Value": ""}]}
    assert errors(schema, ok) == []
    assert [e.validator for e in errors(schema, {"ResourceId": "ws-abcdefgh1", "Tags": [{"Key": "k" * 128}]})] == ["maxLength"]
    assert [e.validator for e in errors(schema, {"ResourceId": "ws-abcdefgh1", "Tags": [{"Key": ""}]})] == ["minLength"]
    assert [e.validator for e in errors(schema, {"ResourceId": "ws-abcdefgh1", "Tags": [{"Key": "a", "Value": "v" * 256}]})] == ["maxLength"]
    codes = {e["code"] for e in spec["errors"]}
    assert codes == {"ResourceNotFoundException", "InvalidParameterValuesException", "ResourceLimitExceededException"}
    for error in spec["errors"]:
        assert errors(error["schema"], {"__type": error["code"], "message": "m"}) == []
        assert [e.validator for e in errors(error["schema"], {"message": "m"})] == ["required"]


# --- blob and timestamp -------------------------------------------------------------------


def test_blob_is_base64_string_with_byte_bounds_and_timestamp_is_epoch_seconds():
    schema = specs.operation("ImportClientBranding")["input"]
    logo = schema["definitions"]["DefaultLogo"]
    assert logo["type"] == "string" and logo["contentEncoding"] == "base64"
    assert logo["minLength"] == 4 and logo["maxLength"] == 4 * 500000
    attrs = {"ResourceId": "d-1234567890", "DeviceTypeWindows": {"Logo": "iVBORw0KGgo="}}
    assert errors(schema, attrs) == []
    bad = {"ResourceId": "d-1234567890", "DeviceTypeWindows": {"Logo": "not base64!"}}
    assert [e.validator for e in errors(schema, bad)] == ["pattern"]
    output = specs.operation("DescribeWorkspaceBundles")["output"]
    bundle = {"BundleId": "wsb-abcdefgh1", "LastUpdatedTime": 1700000000.5}
    assert errors(output, {"Bundles": [bundle]}) == []
    assert [e.validator for e in errors(output, {"Bundles": [dict(bundle, LastUpdatedTime="2023-01-01")]})] == ["type"]
