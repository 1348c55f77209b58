"""Self-tests of strategies.requests: valid by schema, by botocore and by the rules, for every operation."""
import json

import jsonschema
import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings

import specs
import strategies
from strategies import semantics, wire
from tests import installed_model_covers_contract

OPERATIONS = specs.operation_names()


def _validator(operation):
    return jsonschema.Draft7Validator(specs.operation(operation)["input"])


@pytest.mark.parametrize("operation", OPERATIONS)
def test_valid_requests_pass_schema_botocore_and_rules(operation):
    validator = _validator(operation)
    # An older botocore than the contract lacks members (or whole operations) the contract sends.
    model = wire.service_model().operation_model(operation) if installed_model_covers_contract() else None

    @settings(max_examples=10)
    @given(strategies.requests(operation))
    def check(params):
        errors = [e.message for e in validator.iter_errors(params)]
        assert errors == [], (params, errors)
        if model is not None:
            report = ParamValidator().validate(strategies.to_boto3(operation, params), model.input_shape)
            assert not report.has_errors(), report.generate_report()
            assert strategies.boto3_sends_exactly(operation, params), params
        assert semantics.broken_rules(operation, params) == set(), params

    check()


def test_describe_workspaces_never_combines_filters():
    seen = set()

    @settings(max_examples=80)
    @given(strategies.requests("DescribeWorkspaces"))
    def check(params):
        filters = {"WorkspaceIds", "DirectoryId", "BundleId", "WorkspaceName"} & set(params)
        assert len(filters) <= 1, params
        if "UserName" in params:
            assert "DirectoryId" in params, params
        seen.update(params)

    check()
    # Built by construction, the filters still all appear.
    assert {"WorkspaceIds", "DirectoryId", "BundleId", "UserName"} <= seen


def test_describe_workspace_bundles_never_gets_ids_and_owner():
    @settings(max_examples=40)
    @given(strategies.requests("DescribeWorkspaceBundles"))
    def check(params):
        assert not {"BundleIds", "Owner"} <= set(params), params

    check()


def test_optional_members_are_sometimes_absent_and_sometimes_present():
    present, absent = set(), set()
    optional = set(specs.operation("CreateWorkspaces")["input"]["definitions"]
                   ["WorkspaceRequest"]["properties"]) - {"DirectoryId", "UserName", "BundleId"}

    @settings(max_examples=30)
    @given(strategies.requests("CreateWorkspaces"))
    def check(params):
        for item in params["Workspaces"]:
            present.update(set(item) & optional)
            absent.update(optional - set(item))

    check()
    assert "Tags" in present and "Tags" in absent


def test_pool_ids_are_drawn_and_mixed_with_unknown_ones():
    pool = strategies.ResourcePool(
        directories=["d-1234567890"], bundles=["wsb-abcdefgh1"],
        workspaces=["ws-abcdefgh1", "ws-abcdefgh2"], user_names=["alice"],
    )
    seen_live, seen_other = set(), set()

    @settings(max_examples=50)
    @given(strategies.requests("RebootWorkspaces", pool))
    def check(params):
        for item in params["RebootWorkspaceRequests"]:
            (seen_live if item["WorkspaceId"] in pool.workspaces else seen_other).add(
                item["WorkspaceId"])

    check()
    assert seen_live and seen_other


def test_pool_feeds_tag_resource_ids():
    # ResourceId takes any taggable resource: each of the pool's ids must reach it.
    offered = {"ws-abcdefgh1", "d-1234567890"}
    pool = strategies.ResourcePool(workspaces=["ws-abcdefgh1"], directories=["d-1234567890"])
    seen = set()

    @settings(max_examples=80, derandomize=True, database=None)
    @given(strategies.requests("DescribeTags", pool))
    def check(params):
        seen.add(params["ResourceId"])

    check()
    assert offered <= seen, (offered - seen, seen)


def test_pool_rejects_a_string_where_a_list_belongs():
    with pytest.raises(TypeError, match="workspaces="):
        strategies.ResourcePool(workspaces="ws-abcdefgh1")


def test_unknown_operation_is_named():
    with pytest.raises(KeyError, match="DescribeWorkspace"):
        strategies.requests("DescribeWorkspace")


def test_strategies_are_compiled_once():
    assert strategies.requests("StopWorkspaces") is strategies.requests("StopWorkspaces")


def test_blobs_are_base64_and_round_trip_through_botocore():
    @settings(max_examples=10)
    @given(strategies.requests("ImportClientBranding"))
    def check(params):
        body = wire.botocore_body("ImportClientBranding", params)
        assert json.loads(body) == params

    check()


def test_live_only_pool_names_only_live_resources():
    from hypothesis import given, settings

    live = strategies.ResourcePool(directories=["d-1234567890", "wsd-abcdefgh1"], bundles=["wsb-abcdefgh1"],
                                   live_only=True)
    seen = []

    @settings(max_examples=30, derandomize=True, database=None, deadline=None)
    @given(strategies.requests("CreateWorkspaces", live))
    def check(params):
        for request in params["Workspaces"]:
            seen.append(request["DirectoryId"])
            assert request["DirectoryId"] in live.directories
            assert request["BundleId"] in live.bundles

    check()
    assert set(seen) == set(live.directories)
