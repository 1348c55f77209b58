"""The emulator's 14 seed operations through boto3: happy paths, rules.json rules, schema errors."""
from __future__ import annotations

import copy
import http.client
import json
import re
import urllib.parse

import boto3
import jsonschema
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import specs
from emulator import Emulator
from emulator.contract import contract


def _client(url):
    return boto3.client("workspaces", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


@pytest.fixture
def emu(polled_emulator):
    polled_emulator.reset()
    polled_emulator.set_faults(())
    return polled_emulator


@pytest.fixture
def client(emu):
    return _client(emu.url)


def _raw(url, operation, body):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(url).netloc, timeout=10)
    try:
        connection.request("POST", "/", payload, {"X-Amz-Target": f"WorkspacesService.{operation}",
                                                  "Content-Type": "application/x-amz-json-1.1"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _code(call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def _directory(emu, index=0):
    return emu.seed["directories"][index]["DirectoryId"]


def _bundle(emu, compute="STANDARD", owner="AMAZON", os_fragment="Windows 10"):
    return next(b["BundleId"] for b in emu.seed["bundles"] if b["Owner"] == owner
                and b["ComputeType"]["Name"] == compute and os_fragment in b["Name"])


def _create(client, emu, user="alice", directory=0, **extra):
    request = {"DirectoryId": _directory(emu, directory), "UserName": user, "BundleId": _bundle(emu)}
    request.update(extra)
    return client.create_workspaces(Workspaces=[request])


def _available(client, emu, user="alice", **extra):
    workspace_id = _create(client, emu, user, **extra)["PendingRequests"][0]["WorkspaceId"]
    for _ in range(2):
        client.describe_workspaces(WorkspaceIds=[workspace_id])
    return workspace_id


def _output_valid(operation, result):
    body = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    schema = copy.deepcopy(specs.operation(operation)["output"])
    # boto3 parses timestamps into datetimes; compare structure, not the wire type.
    for definition in schema["definitions"].values():
        if definition.get("type") == "number":
            definition.pop("type")
    jsonschema.validate(body, schema)


# --- schema validation: every constraint kind of every seed operation ---------------------------

_BASE = {
    "CreateTags": {"ResourceId": "d-906734b2c1", "Tags": [{"Key": "k", "Value": "v"}]},
    "CreateWorkspaces": {"Workspaces": [{"DirectoryId": "d-906734b2c1", "UserName": "u", "BundleId": "wsb-000000000",
                                         "WorkspaceProperties": {"RunningMode": "AUTO_STOP"},
                                         "Tags": [{"Key": "k", "Value": "v"}]}]},
    "DeleteTags": {"ResourceId": "d-906734b2c1", "TagKeys": ["k"]},
    "DescribeTags": {"ResourceId": "d-906734b2c1"},
    "DescribeWorkspaceBundles": {"BundleIds": ["wsb-000000000"]},
    "DescribeWorkspaceDirectories": {"DirectoryIds": ["d-906734b2c1"], "Limit": 5,
                                     "Filters": [{"Name": "WORKSPACE_TYPE", "Values": ["PERSONAL"]}]},
    "DescribeWorkspaces": {"WorkspaceIds": ["ws-000000000"], "Limit": 5},
    "DescribeWorkspacesConnectionStatus": {"WorkspaceIds": ["ws-000000000"]},
    "ModifyWorkspaceProperties": {"WorkspaceId": "ws-000000000", "WorkspaceProperties": {"RunningMode": "AUTO_STOP"},
                                  "DataReplication": "NO_REPLICATION"},
    "RebootWorkspaceRequests": None,
    "RebootWorkspaces": {"RebootWorkspaceRequests": [{"WorkspaceId": "ws-000000000"}]},
    "RebuildWorkspaces": {"RebuildWorkspaceRequests": [{"WorkspaceId": "ws-000000000"}]},
    "StartWorkspaces": {"StartWorkspaceRequests": [{"WorkspaceId": "ws-000000000"}]},
    "StopWorkspaces": {"StopWorkspaceRequests": [{"WorkspaceId": "ws-000000000"}]},
    "TerminateWorkspaces": {"TerminateWorkspaceRequests": [{"WorkspaceId": "ws-000000000"}]},
}
_WRONG = {"string": 7, "integer": "seven", "array": "x", "object": "x", "boolean": "yes"}


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _violations(operation):
    """(kind, path, request) triples: the base request with one member made invalid."""
    schema = specs.operation(operation)["input"]
    base = _BASE[operation]
    found = []

    def violate(node, path, value):
        node = _resolve(schema, node)
        kinds = []
        if "type" in node:
            kinds.append(("wrong_type", _WRONG[node["type"]]))
        if "enum" in node:
            kinds.append(("enum_violation", "NOT_IN_ENUM"))
        if "minLength" in node and node["minLength"] > 0:
            kinds.append(("too_short", "a" * (node["minLength"] - 1)))
        if "maxLength" in node:
            kinds.append(("too_long", "a" * (node["maxLength"] + 1)))
        if "pattern" in node:
            kinds.append(("pattern_mismatch", "!" * max(node.get("minLength", 2), 2)))
        if "minimum" in node:
            kinds.append(("below_minimum", node["minimum"] - 1))
        if "maximum" in node:
            kinds.append(("above_maximum", node["maximum"] + 1))
        if "minItems" in node and node["minItems"] > 0:
            kinds.append(("too_few_items", []))
        if "maxItems" in node and isinstance(value, list) and value:
            kinds.append(("too_many_items", [value[0]] * (node["maxItems"] + 1)))
        for kind, bad in kinds:
            found.append((kind, path, bad))
        if node.get("type") == "object" and isinstance(value, dict):
            for name in node.get("required", []):
                found.append(("missing_required", path + [name], _MISSING))
            for name, member in node.get("properties", {}).items():
                if name in value:
                    violate(member, path + [name], value[name])
        if node.get("type") == "array" and isinstance(value, list) and value:
            violate(node["items"], path + [0], value[0])

    violate(schema, [], base)
    for kind, path, bad in found:
        request = copy.deepcopy(base)
        if not path:
            continue
        holder = request
        for step in path[:-1]:
            holder = holder[step]
        if bad is _MISSING:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = bad
        yield kind, ".".join(map(str, path)), request


_MISSING = object()
_CASES = [(op, kind, path, request) for op in specs.seed_operations() for kind, path, request in _violations(op)]


def test_every_constraint_kind_is_exercised():
    kinds = {kind for _, kind, _, _ in _CASES}
    assert kinds == {entry["kind"] for entry in specs.rules()["errors"] if "keyword" in entry}
    assert {op for op, *_ in _CASES} == set(specs.seed_operations())


@pytest.mark.parametrize("operation,kind,path,request_body", _CASES,
                         ids=[f"{op}-{kind}-{path}" for op, kind, path, _ in _CASES])
def test_schema_violation_rejected_with_rules_code(emu, operation, kind, path, request_body):
    status, body = _raw(emu.url, operation, request_body)
    rule = next(e for e in specs.rules()["errors"] if e["kind"] == kind)
    assert status == rule["http_status"] == 400
    assert body["__type"] == rule["codes"][0], body
    assert body["message"]


def test_base_requests_are_valid(emu):
    for operation in specs.seed_operations():
        status, body = _raw(emu.url, operation, _BASE[operation])
        assert body.get("__type") not in ("ValidationException", "SerializationException"), (operation, body)


# --- tags --------------------------------------------------------------------------------------

def test_tags_on_directory_workspace_and_own_bundle(client, emu):
    workspace_id = _create(client, emu)["PendingRequests"][0]["WorkspaceId"]
    own_bundle = next(b["BundleId"] for b in emu.seed["bundles"] if b["Owner"] != "AMAZON")
    for resource in (_directory(emu), workspace_id, own_bundle):
        client.create_tags(ResourceId=resource, Tags=[{"Key": "team", "Value": "blue"}, {"Key": "cost centre"}])
        tags = client.describe_tags(ResourceId=resource)["TagList"]
        assert tags == [{"Key": "team", "Value": "blue"}, {"Key": "cost centre"}]
        _output_valid("DescribeTags", client.describe_tags(ResourceId=resource))


def test_tag_overwrite_and_delete_absent_is_noop(client, emu):
    directory = _directory(emu)
    client.create_tags(ResourceId=directory, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    client.create_tags(ResourceId=directory, Tags=[{"Key": "a", "Value": "3"}])
    assert client.describe_tags(ResourceId=directory)["TagList"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    client.delete_tags(ResourceId=directory, TagKeys=["b", "never-there"])
    assert client.describe_tags(ResourceId=directory)["TagList"] == [{"Key": "a", "Value": "3"}]
    client.create_tags(ResourceId=directory, Tags=[{"Key": "A", "Value": "case"}])
    assert len(client.describe_tags(ResourceId=directory)["TagList"]) == 2  # keys are case-sensitive


def test_tag_limit_of_fifty(client, emu):
    directory = _directory(emu)
    client.create_tags(ResourceId=directory, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    client.create_tags(ResourceId=directory, Tags=[{"Key": "k0", "Value": "overwritten"}])
    assert _code(client.create_tags, ResourceId=directory, Tags=[{"Key": "k50"}]) == specs.rule("tags.max_tags")["codes"][0]
    assert len(client.describe_tags(ResourceId=directory)["TagList"]) == 50


@pytest.mark.parametrize("tag", [{"Key": "aws:owner", "Value": "x"}, {"Key": "AWS:Owner"}, {"Key": "k", "Value": "aws:x"},
                                 {"Key": "bad*key"}, {"Key": "k", "Value": "bad#value"}, {"Key": " lead"},
                                 {"Key": "k", "Value": "trail "}])
def test_tag_text_rules(client, emu, tag):
    assert _code(client.create_tags, ResourceId=_directory(emu), Tags=[tag]) == "InvalidParameterValuesException"
    assert client.describe_tags(ResourceId=_directory(emu))["TagList"] == []


def test_tag_characters_allowed(client, emu):
    tag = {"Key": "Ünïcode key +-=._:/@", "Value": "value with spaces 1"}
    client.create_tags(ResourceId=_directory(emu), Tags=[tag])
    assert client.describe_tags(ResourceId=_directory(emu))["TagList"] == [tag]


def test_delete_reserved_prefix_refused(client, emu):
    assert _code(client.delete_tags, ResourceId=_directory(emu), TagKeys=["aws:x"]) == "InvalidParameterValuesException"


@pytest.mark.parametrize("operation", ["create_tags", "delete_tags", "describe_tags"])
def test_tags_unknown_resource(client, emu, operation):
    extra = {"create_tags": {"Tags": [{"Key": "a"}]}, "delete_tags": {"TagKeys": ["a"]}, "describe_tags": {}}[operation]
    call = getattr(client, operation)
    assert _code(call, ResourceId="ws-0000000000", **extra) == "ResourceNotFoundException"
    assert _code(call, ResourceId="d-0000000000", **extra) == "ResourceNotFoundException"
    amazon = _bundle(emu)
    assert _code(call, ResourceId=amazon, **extra) == "ResourceNotFoundException"
    rule = specs.rule("tags.taggable_resources")
    expected = "ResourceNotFoundException" if operation == "describe_tags" else rule["codes"][0]
    assert _code(call, ResourceId="i-0123456789", **extra) == expected
    assert expected in rule["codes"]


# --- creation ----------------------------------------------------------------------------------

def test_create_workspace_full_record(client, emu):
    result = _create(client, emu, Tags=[{"Key": "k", "Value": "v"}])
    assert result["FailedRequests"] == []
    pending = result["PendingRequests"][0]
    _output_valid("CreateWorkspaces", result)
    assert re.fullmatch(r"ws-[0-9a-z]{9,10}", pending["WorkspaceId"])
    assert pending["State"] == "PENDING"
    described = client.describe_workspaces(WorkspaceIds=[pending["WorkspaceId"]])
    _output_valid("DescribeWorkspaces", described)
    workspace = described["Workspaces"][0]
    directory = emu.seed["directories"][0]
    assert workspace["SubnetId"] in directory["SubnetIds"]
    assert re.fullmatch(r"10\.0\.[12]\.\d+", workspace["IpAddress"])
    assert workspace["ComputerName"].startswith("WSAMZN-")
    properties = workspace["WorkspaceProperties"]
    assert properties["RunningMode"] == specs.rule("defaults.running_mode")["value"]
    assert "RunningModeAutoStopTimeoutInMinutes" not in properties
    assert (properties["RootVolumeSizeGib"], properties["UserVolumeSizeGib"], properties["ComputeTypeName"]) == (80, 50, "STANDARD")
    assert workspace["RootVolumeEncryptionEnabled"] is False and workspace["UserVolumeEncryptionEnabled"] is False
    assert client.describe_tags(ResourceId=pending["WorkspaceId"])["TagList"] == [{"Key": "k", "Value": "v"}]


def test_create_defaults_auto_stop_timeout_and_linux_protocol(client, emu):
    linux = _bundle(emu, "POWER", os_fragment="Amazon Linux")
    result = client.create_workspaces(Workspaces=[{"DirectoryId": _directory(emu), "UserName": "bob", "BundleId": linux,
                                                   "WorkspaceProperties": {"RunningMode": "AUTO_STOP"}}])
    properties = result["PendingRequests"][0]["WorkspaceProperties"]
    assert properties["RunningModeAutoStopTimeoutInMinutes"] == 60
    assert properties["Protocols"] == ["WSP"]
    assert (properties["RootVolumeSizeGib"], properties["UserVolumeSizeGib"]) == (175, 100)


def test_create_duplicate_user_is_failed_request(client, emu):
    _create(client, emu, "carol")
    again = _create(client, emu, "Carol")
    assert again["PendingRequests"] == []
    assert again["FailedRequests"][0]["ErrorCode"] == "ResourceExists.WorkSpace"
    assert again["FailedRequests"][0]["WorkspaceRequest"]["UserName"] == "Carol"
    other_directory = _create(client, emu, "carol", directory=1)
    assert other_directory["FailedRequests"] == []


@pytest.mark.parametrize("change,code", [
    ({"DirectoryId": "d-0000000000"}, "ResourceNotFound.Directory"),
    ({"BundleId": "wsb-000000000"}, "ResourceNotFound.Bundle"),
    ({"WorkspaceProperties": {"RootVolumeSizeGib": 175}}, "InvalidParameterValuesException"),
])
def test_create_refusals_are_failed_requests(client, emu, change, code):
    request = {"DirectoryId": _directory(emu), "UserName": "dave", "BundleId": _bundle(emu), **change}
    result = client.create_workspaces(Workspaces=[request])
    assert result["PendingRequests"] == []
    assert result["FailedRequests"][0]["ErrorCode"] == code
    assert result["FailedRequests"][0]["ErrorMessage"]
    _output_valid("CreateWorkspaces", result)


@pytest.mark.parametrize("change,rule", [
    ({"WorkspaceProperties": {"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 90}},
     "errors.constraint.auto_stop_timeout_step"),
    ({"WorkspaceProperties": {"RunningMode": "ALWAYS_ON", "RunningModeAutoStopTimeoutInMinutes": 0}},
     "errors.constraint.auto_stop_timeout_step"),
    ({"WorkspaceProperties": {"RunningMode": "MANUAL"}}, "errors.constraint.manual_running_mode"),
    ({"WorkspaceProperties": {"RootVolumeSizeGib": 80, "UserVolumeSizeGib": 20}}, "errors.constraint.volume_sizes"),
    ({"WorkspaceProperties": {"RootVolumeSizeGib": 100}}, "errors.constraint.volume_sizes"),
    ({"WorkspaceName": "named_ws"}, "errors.constraint.workspace_name_user_decoupled"),
    ({"UserName": "[UNDEFINED]"}, "errors.constraint.workspace_name_user_decoupled"),
])
def test_create_rule_violations_are_refused_whole(client, emu, change, rule):
    request = {"DirectoryId": _directory(emu), "UserName": "dave", "BundleId": _bundle(emu), **change}
    good = {"DirectoryId": _directory(emu), "UserName": "erin", "BundleId": _bundle(emu)}
    assert _code(client.create_workspaces, Workspaces=[good, request]) in specs.rule(rule)["codes"]
    assert client.describe_workspaces()["Workspaces"] == []


def test_create_user_decoupled_workspaces(client, emu):
    for name in ("pool_one", "pool_two"):
        result = _create(client, emu, "[UNDEFINED]", WorkspaceName=name)
        assert result["FailedRequests"] == []
    found = client.describe_workspaces(WorkspaceName="pool_two")["Workspaces"]
    assert [w["WorkspaceName"] for w in found] == ["pool_two"]


def test_create_tag_rules_apply(client, emu):
    assert _code(_create, client, emu, Tags=[{"Key": "aws:x"}]) == "InvalidParameterValuesException"
    assert _code(_create, client, emu, Tags=[{"Key": f"k{i}"} for i in range(51)]) == "ResourceLimitExceededException"
    assert client.describe_workspaces()["Workspaces"] == []


def test_ids_are_reproducible(emu):
    first = [_create(_client(emu.url), emu, f"u{i}")["PendingRequests"][0]["WorkspaceId"] for i in range(3)]
    emu.reset()
    second = [_create(_client(emu.url), emu, f"u{i}")["PendingRequests"][0]["WorkspaceId"] for i in range(3)]
    assert first == second and len(set(first)) == 3


# --- describes ---------------------------------------------------------------------------------

def test_describe_bundles_by_owner_and_ids(client, emu):
    amazon = client.describe_workspace_bundles(Owner="AMAZON")
    _output_valid("DescribeWorkspaceBundles", amazon)
    assert {b["Owner"] for b in amazon["Bundles"]} == {"AMAZON"}
    assert len(amazon["Bundles"]) == sum(b["Owner"] == "AMAZON" for b in emu.seed["bundles"])
    own = client.describe_workspace_bundles()["Bundles"]
    assert own and {b["Owner"] for b in own} == {emu.seed["account_id"]}
    chosen = [amazon["Bundles"][0]["BundleId"], own[0]["BundleId"], "wsb-000000000"]
    assert [b["BundleId"] for b in client.describe_workspace_bundles(BundleIds=chosen)["Bundles"]] == chosen[:2]
    assert _code(client.describe_workspace_bundles, BundleIds=chosen, Owner="AMAZON") == "InvalidParameterValuesException"


def test_bundle_pagination_beyond_one_page():
    bundles = [{"BundleId": f"wsb-{i:09d}", "Name": f"b{i}", "Owner": "AMAZON", "ComputeType": {"Name": "VALUE"},
                "RootStorage": {"Capacity": "80"}, "UserStorage": {"Capacity": "10"}} for i in range(30)]
    with Emulator(seed={"directories": [], "bundles": bundles}) as emu:
        client = _client(emu.url)
        first = client.describe_workspace_bundles(Owner="AMAZON")
        assert len(first["Bundles"]) == contract().page_size and first["NextToken"]
        pages = list(client.get_paginator("describe_workspace_bundles").paginate(Owner="AMAZON"))
        assert [b["BundleId"] for p in pages for b in p["Bundles"]] == [b["BundleId"] for b in bundles]
        assert "NextToken" not in pages[-1]


def test_describe_directories_filters_and_pages(client, emu):
    everything = client.describe_workspace_directories()
    _output_valid("DescribeWorkspaceDirectories", everything)
    ids = [d["DirectoryId"] for d in everything["Directories"]]
    assert ids == [d["DirectoryId"] for d in emu.seed["directories"]]
    assert [d["DirectoryId"] for d in client.describe_workspace_directories(DirectoryIds=ids[1:2])["Directories"]] == ids[1:2]
    named = client.describe_workspace_directories(WorkspaceDirectoryNames=["pools-example"])["Directories"]
    assert [d["DirectoryId"] for d in named] == [ids[2]]
    customer = client.describe_workspace_directories(
        Filters=[{"Name": "USER_IDENTITY_TYPE", "Values": ["CUSTOMER_MANAGED"]}])["Directories"]
    assert [d["DirectoryId"] for d in customer] == [ids[2]]
    paged, token = [], None
    while True:
        page = client.describe_workspace_directories(Limit=1, **({"NextToken": token} if token else {}))
        assert len(page["Directories"]) <= 1
        paged += [d["DirectoryId"] for d in page["Directories"]]
        token = page.get("NextToken")
        if not token:
            break
    assert paged == ids


def test_describe_workspaces_filters(client, emu):
    a = _create(client, emu, "ann")["PendingRequests"][0]["WorkspaceId"]
    b = _create(client, emu, "ben", directory=1)["PendingRequests"][0]["WorkspaceId"]
    linux = _bundle(emu, "VALUE", os_fragment="Ubuntu")
    c = client.create_workspaces(Workspaces=[{"DirectoryId": _directory(emu), "UserName": "cy", "BundleId": linux}]
                                 )["PendingRequests"][0]["WorkspaceId"]
    ids = lambda **kw: [w["WorkspaceId"] for w in client.describe_workspaces(**kw)["Workspaces"]]
    assert ids() == [a, b, c]
    assert ids(DirectoryId=_directory(emu)) == [a, c]
    assert ids(DirectoryId=_directory(emu), UserName="cy") == [c]
    assert ids(BundleId=linux) == [c]
    assert ids(WorkspaceIds=[b, "ws-0000000000"]) == [b]
    assert _code(client.describe_workspaces, UserName="ann") == "InvalidParameterValuesException"
    for combo in ({"WorkspaceIds": [a], "DirectoryId": _directory(emu)}, {"DirectoryId": _directory(emu), "BundleId": linux},
                  {"WorkspaceName": "named_ws", "BundleId": linux}):
        assert _code(client.describe_workspaces, **combo) == "InvalidParameterValuesException"


def test_describe_workspaces_pagination(client, emu):
    made = []
    for start in range(0, 30, 25):
        batch = [{"DirectoryId": _directory(emu, (start + i) % 2), "UserName": f"user{start + i}", "BundleId": _bundle(emu)}
                 for i in range(min(25, 30 - start))]
        made += [w["WorkspaceId"] for w in client.create_workspaces(Workspaces=batch)["PendingRequests"]]
    first = client.describe_workspaces()
    assert len(first["Workspaces"]) == specs.rule("pagination.default_page_size")["page_size"]
    pages = list(client.get_paginator("describe_workspaces").paginate(PaginationConfig={"PageSize": 7}))
    assert [len(p["Workspaces"]) for p in pages] == [7, 7, 7, 7, 2]
    assert [w["WorkspaceId"] for p in pages for w in p["Workspaces"]] == made
    token = pages[0]["NextToken"]
    assert len(token) <= 2048
    assert _code(client.describe_workspaces, NextToken=token, DirectoryId=_directory(emu)) == "InvalidParameterValuesException"
    assert _code(client.describe_workspaces, NextToken="not-a-token") == "InvalidParameterValuesException"
    assert _code(client.describe_workspaces_connection_status, NextToken=token) == "InvalidParameterValuesException"
    filtered = list(client.get_paginator("describe_workspaces").paginate(
        DirectoryId=_directory(emu, 1), PaginationConfig={"PageSize": 4}))
    assert len([w for p in filtered for w in p["Workspaces"]]) == 15


def test_connection_status(client, emu):
    workspace_id = _available(client, emu, "erin", WorkspaceProperties={"RunningMode": "AUTO_STOP"})
    result = client.describe_workspaces_connection_status(WorkspaceIds=[workspace_id])
    _output_valid("DescribeWorkspacesConnectionStatus", result)
    assert result["WorkspacesConnectionStatus"][0]["ConnectionState"] == "DISCONNECTED"
    client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    for _ in range(2):
        client.describe_workspaces(WorkspaceIds=[workspace_id])
    status = client.describe_workspaces_connection_status()["WorkspacesConnectionStatus"]
    assert status[0]["ConnectionState"] == "UNKNOWN"
    assert client.describe_workspaces_connection_status(WorkspaceIds=["ws-0000000000"])["WorkspacesConnectionStatus"] == []


# --- modify ------------------------------------------------------------------------------------

def test_modify_properties_happy_path(client, emu):
    workspace_id = _available(client, emu)
    client.modify_workspace_properties(WorkspaceId=workspace_id, WorkspaceProperties={"RunningMode": "AUTO_STOP"})
    properties = client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["WorkspaceProperties"]
    assert (properties["RunningMode"], properties["RunningModeAutoStopTimeoutInMinutes"]) == ("AUTO_STOP", 60)
    client.modify_workspace_properties(WorkspaceId=workspace_id,
                                       WorkspaceProperties={"RunningModeAutoStopTimeoutInMinutes": 180})
    client.modify_workspace_properties(WorkspaceId=workspace_id, WorkspaceProperties={"ComputeTypeName": "PERFORMANCE"})
    properties = client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["WorkspaceProperties"]
    assert (properties["RunningModeAutoStopTimeoutInMinutes"], properties["ComputeTypeName"]) == (180, "PERFORMANCE")
    client.modify_workspace_properties(WorkspaceId=workspace_id, WorkspaceProperties={"RunningMode": "ALWAYS_ON"})
    properties = client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0]["WorkspaceProperties"]
    assert "RunningModeAutoStopTimeoutInMinutes" not in properties


@pytest.mark.parametrize("properties,code", [
    ({"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 45}, "InvalidParameterValuesException"),
    ({"RunningMode": "MANUAL"}, "InvalidParameterValuesException"),
    ({"RootVolumeSizeGib": 60}, "InvalidParameterValuesException"),
    ({"RootVolumeSizeGib": 175, "UserVolumeSizeGib": 100}, "InvalidParameterValuesException"),
    ({"UserVolumeSizeGib": 100, "ComputeTypeName": "POWER"}, "InvalidParameterValuesException"),
    ({"RootVolumeSizeGib": 80, "UserVolumeSizeGib": 50}, "InvalidParameterValuesException"),
    ({"RunningMode": "ALWAYS_ON", "RunningModeAutoStopTimeoutInMinutes": 30}, "InvalidParameterValuesException"),
    ({"UserVolumeSizeGib": 100}, "InvalidResourceStateException"),
])
def test_modify_refusals(client, emu, properties, code):
    workspace_id = _available(client, emu)
    assert _code(client.modify_workspace_properties, WorkspaceId=workspace_id, WorkspaceProperties=properties) == code


def test_modify_compute_rate_and_state(client, emu):
    workspace_id = _available(client, emu)
    client.modify_workspace_properties(WorkspaceId=workspace_id, WorkspaceProperties={"ComputeTypeName": "POWER"})
    assert _code(client.modify_workspace_properties, WorkspaceId=workspace_id,
                 WorkspaceProperties={"ComputeTypeName": "POWERPRO"}) == "InvalidResourceStateException"
    assert _code(client.modify_workspace_properties, WorkspaceId="ws-0000000000",
                 WorkspaceProperties={"RunningMode": "ALWAYS_ON"}) == "ResourceNotFoundException"
    pending = _create(client, emu, "frank")["PendingRequests"][0]["WorkspaceId"]
    assert _code(client.modify_workspace_properties, WorkspaceId=pending,
                 WorkspaceProperties={"RunningMode": "AUTO_STOP"}) == specs.rule("precondition.ModifyWorkspaceProperties")["refusal"]["codes"][0]


def test_request_rules_are_judged_before_the_resource_lookup(client, emu):
    unknown = "ws-0000000000"
    assert _code(client.create_tags, ResourceId=unknown, Tags=[{"Key": "aws:x"}]) == "InvalidParameterValuesException"
    assert _code(client.create_tags, ResourceId=unknown,
                 Tags=[{"Key": f"k{i}"} for i in range(51)]) == "ResourceLimitExceededException"
    assert _code(client.delete_tags, ResourceId=unknown, TagKeys=["aws:x"]) == "InvalidParameterValuesException"
    assert _code(client.modify_workspace_properties, WorkspaceId=unknown,
                 WorkspaceProperties={"RunningMode": "MANUAL"}) == "InvalidParameterValuesException"


# --- the contract the emulator enforces comes from rules.json alone -------------------------------


def test_transitional_states_settle_by_the_state_graph():
    from emulator.contract import Contract

    settle = Contract().settle
    assert {state: settle[state] for state in ("PENDING", "STARTING", "STOPPING", "REBOOTING", "REBUILDING",
                                               "TERMINATING", "TERMINATED")} == {
        "PENDING": "AVAILABLE", "STARTING": "AVAILABLE", "STOPPING": "STOPPED", "REBOOTING": "AVAILABLE",
        "REBUILDING": "AVAILABLE", "TERMINATING": "TERMINATED", "TERMINATED": "GONE"}
    settled = {state["name"] for state in specs.rules()["states"] if state["kind"] == "settled"}
    assert not settled & set(settle), "a settled state does not move on by itself"


def test_error_codes_are_the_rules_codes():
    from emulator.contract import _OWN_ERRORS, Contract

    built = Contract()
    for entry in specs.rules()["errors"]:
        if entry["codes"] and entry["operations"] is None:
            assert built.error(entry["kind"]) == (entry["codes"][0], entry["http_status"]), entry["id"]
    # The emulator's own answers are for kinds no rule covers, never a second word on one that does.
    assert not set(_OWN_ERRORS) & {entry["kind"] for entry in specs.rules()["errors"]}
    with pytest.raises(KeyError, match="kind='no_such_kind'"):
        built.error("no_such_kind")


@pytest.mark.parametrize("section, kind", [("tags", "max_tags"), ("pagination", "default_page_size"),
                                           ("pagination", "invalid_token")])
def test_a_rule_missing_from_the_rules_is_an_error_not_a_default(section, kind):
    from emulator.contract import Contract

    rules = copy.deepcopy(specs.rules())
    rules[section] = [entry for entry in rules[section] if entry.get("kind") != kind]
    with pytest.raises(LookupError, match=f"{section} rule of kind '{kind}'"):
        Contract(rules)
    with pytest.raises(KeyError):
        Contract({key: value for key, value in specs.rules().items() if key != "preconditions"})
