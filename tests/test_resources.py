"""Self-tests of the operation facts the suite reads from the contract: resource families, reading, paging.

The resources section of rules.json is held against the botocore model (every
operation, member, shape, pattern and list key it names), and a throwaway
family added to a copy of the rules shows that discovery, the resource pool,
live-id binding, probes and cleanup all follow the section with no other edit.
"""
from __future__ import annotations

import copy
import json
import re

import botocore.session
import jsonschema
import pytest
from hypothesis import given, settings

import specs
import strategies
from conformance import checks, cleanup, targets
from conformance.checks import Response
from strategies import identifiers

# --- the committed section against the model ----------------------------------------------------


def _resolved(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _item_schema(operation: str, side: str, member: str) -> dict:
    """The schema of one item of list member ``member`` of the operation's request or answer."""
    schema = specs.operation(operation)[side]
    listed = _resolved(schema, schema["properties"][member])
    assert listed.get("type") == "array", (operation, member)
    return _resolved(schema, listed["items"])


def _item_shape(operation: str, side: str, member: str) -> str:
    """The shape name of the items of list member ``member``."""
    schema = specs.operation(operation)[side]
    listed = _resolved(schema, schema["properties"][member])
    return listed["items"]["$ref"].rsplit("/", 1)[-1]


def _model_shapes() -> dict[str, dict]:
    """Every definition of every operation's request and answer, by shape name."""
    shapes = {}
    for name in specs.operation_names():
        for side in ("input", "output"):
            shapes.update(specs.operation(name)[side].get("definitions", {}))
    return shapes


def test_the_section_validates_and_every_family_is_reachable_by_id_and_kind():
    schema = json.loads((specs.SPEC_DIR / "rules.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(specs.rules())
    ids = [entry["id"] for entry in specs.resources()]
    kinds = specs.resource_kinds()
    assert len(set(ids)) == len(ids) and len(set(kinds)) == len(kinds)
    assert all(rule_id.startswith("resources.") for rule_id in ids)
    for entry in specs.resources():
        assert specs.resource(entry["id"]) is entry and specs.resource(entry["kind"]) is entry
        assert specs.rule(entry["id"]) == entry  # a cited rule like any other
    with pytest.raises(KeyError, match="Did you mean 'workspaces'"):
        specs.resource("workspace")


def test_operations_members_shapes_and_patterns_are_the_models():
    model = botocore.session.get_session().get_service_model("workspaces")
    names = set(specs.operation_names())
    for entry in specs.resources():
        where = entry["id"]
        for operation in entry["create"] + entry["update"]:
            assert operation in names, (where, operation)
        patterns = {model.shape_for(shape).metadata["pattern"] for shape in entry["id_shapes"]}
        assert patterns == ({entry["pattern"]} if entry["pattern"] is not None else set()), where
        deletion = entry.get("delete")
        if deletion:
            assert deletion["operation"] in names, where
            listed, _, member = deletion["request"].rpartition("[].")
            request = specs.operation(deletion["operation"])["input"]
            if listed:
                assert member in _item_schema(deletion["operation"], "input", listed)["properties"], where
            else:
                assert member in request["properties"], where
            if "refused" in deletion:
                failures, _, key = deletion["refused"].partition("[].")
                assert key in _item_schema(deletion["operation"], "output", failures)["properties"], where


def test_listings_name_the_answers_list_its_item_ids_and_the_id_filter():
    for entry in specs.resources():
        listings = ([entry["describe"]] if "describe" in entry else []) + entry.get("also_listed_by", [])
        for listing in listings:
            item = _item_schema(listing["operation"], "output", listing["result_key"])
            assert listing["id_key"] in item["properties"], (entry["id"], listing)
            if "id_filter" in listing:
                assert _item_shape(listing["operation"], "input", listing["id_filter"]) in entry["id_shapes"], listing
                assert listing["id_filter"] in entry["id_members"], entry["id"]
            paginator = specs.paginated(listing["operation"])
            if paginator:
                assert paginator["result_key"] == listing["result_key"], listing
            assert specs.read_only(listing["operation"]), listing
            found = specs.resource_listing(listing["operation"])
            assert found["kind"] == entry["kind"] and found["id_key"] == listing["id_key"]
        states = entry.get("states")
        if states:
            assert states["member"] in _item_schema(entry["describe"]["operation"], "output",
                                                    entry["describe"]["result_key"])["properties"]


def test_discovery_requests_are_valid_requests_of_the_describe_operation():
    for entry in specs.resources():
        discovery = entry["discovery"]
        if "requests" in discovery:
            schema = specs.operation(entry["describe"]["operation"])["input"]
            for params in discovery["requests"]:
                jsonschema.Draft7Validator(schema).validate(params)
        else:
            source = specs.resource(discovery["from"])
            assert "requests" in source["discovery"], entry["id"]
            item = _item_schema(source["describe"]["operation"], "output", source["describe"]["result_key"])
            assert discovery["id_key"] in item["properties"], entry["id"]
            assert discovery["id_key"] in entry["id_members"], entry["id"]


def test_every_id_member_in_the_model_holds_its_familys_shape():
    """Wherever the model uses a family's id member, its values are of the family's id shape (or a list of them)."""
    members = {member: entry for entry in specs.resources() for member in entry["id_members"] if entry["id_shapes"]}
    seen = set()
    for name in specs.operation_names():
        for side in ("input", "output"):
            schema = specs.operation(name)[side]
            objects = [schema] + list(schema.get("definitions", {}).values())
            for node in objects:
                for member, value in (node.get("properties") or {}).items():
                    if member not in members:
                        continue
                    shape = value["$ref"].rsplit("/", 1)[-1]
                    listed = schema["definitions"][shape]
                    if listed.get("type") == "array":
                        shape = listed["items"]["$ref"].rsplit("/", 1)[-1]
                    assert shape in members[member]["id_shapes"], (name, member, shape)
                    seen.add(member)
    assert seen == set(members)


def test_taggable_families_are_those_the_tag_rule_names_by_prefix():
    prefixes = set(specs.rule("tags.taggable_resources")["resource_prefixes"])
    named = {prefix for entry in specs.resources() if entry["taggable"]
             for prefix in re.findall(r"([a-z]+-)\[", entry["pattern"])}
    assert named == prefixes
    assert specs.tag_member() == "ResourceId"
    assert specs.tag_listing() == {"operation": "DescribeTags", "member": "ResourceId", "result_key": "TagList"}


def test_gone_states_lead_only_to_gone_states_in_the_state_graph():
    family = specs.resource("workspaces")
    gone = set(specs.gone_states(family))
    assert gone == {"TERMINATING", "TERMINATED"}
    names = {state["name"] for state in specs.rules()[family["states"]["rules"]]}
    assert gone <= names
    for edge in specs.rules()["state_graph"]:
        if set(edge["from"]) & gone:
            assert edge["to"] in gone | {"GONE"}, edge["id"]


def test_references_are_the_id_members_of_held_families_and_the_tag_member():
    assert specs.reference_members() == {
        "WorkspaceId", "WorkspaceIds", "DirectoryId", "DirectoryIds", "BundleId", "BundleIds",
        "ResourceId", "ImageId", "ImageIds", "GroupId", "GroupIds", "AliasId", "AliasIds", "PoolId", "PoolIds",
        "ApplicationId", "ApplicationIds",
    }
    assert "UserName" not in specs.reference_members()  # users live in the directory service
    assert [e["kind"] for e in specs.resources_for_member("UserName")] == ["user_names"]
    assert identifiers.taggable() == tuple(e["kind"] for e in specs.resources_for_member("ResourceId"))
    assert identifiers.shape_fields()["WorkspaceImageId"] == "images"
    assert identifiers.member_fields()["ResourceId"][0] == "directories"  # the tag member binds to a directory first


# --- reading and paging ----------------------------------------------------------------------------


def test_describe_list_and_get_operations_read_and_nothing_else_does():
    assert specs.read_only("DescribeWorkspaces") and specs.read_only("ListAccountLinks")
    assert specs.read_only("GetAccountLink") and specs.read_only("ListAvailableManagementCidrRanges")
    for operation in ("CreateTags", "TerminateWorkspaces", "ModifyWorkspaceState", "ImportClientBranding"):
        assert not specs.read_only(operation), operation
    assert not specs.read_only(None) and not specs.read_only("DescribeWidgets")  # unknown: treated as changing
    with pytest.raises(TypeError, match="operation=3"):
        specs.read_only(3)
    assert len([name for name in specs.operation_names() if specs.read_only(name)]) == 27


def test_the_models_documentation_agrees_with_the_read_only_names():
    """Every read-only operation's documentation says it describes, retrieves or lists; no other's does.

    A new model operation that breaks the naming rule fails here and needs a
    cited exception in rules.json.
    """
    reading = re.compile(r"^(Describes|Retrieves|Lists|Gets|Returns)\b")
    unknown = []
    for name in specs.operation_names():
        text = re.sub(r"<[^>]+>", "", specs.operation(name)["documentation"] or "").strip()
        if text.startswith("End of support notice"):
            unknown.append(name)  # the first paragraph says nothing of what the operation does
            continue
        assert bool(reading.match(text)) == specs.read_only(name), (name, text[:80])
    assert all("Pool" in name for name in unknown), unknown


def test_paginators_come_from_the_specs():
    assert specs.paginated("DescribeWorkspaces")["limit_key"] == "Limit"
    assert specs.paginated("DescribeWorkspaceBundles")["result_key"] == "Bundles"
    assert specs.paginated("CreateTags") is None
    assert specs.paginated_operations(specs.seed_operations()) == [
        "DescribeWorkspaceBundles", "DescribeWorkspaceDirectories", "DescribeWorkspaces",
        "DescribeWorkspacesConnectionStatus"]
    assert specs.paginated_operations(["ListAccountLinks", "GetAccountLink"]) == ["ListAccountLinks"]
    with pytest.raises(specs.UnknownOperation, match="DescribeWorkspace'"):
        specs.paginated("DescribeWorkspace")
    with pytest.raises(TypeError, match="operations='DescribeWorkspaces'"):
        specs.paginated_operations("DescribeWorkspaces")


# --- a throwaway family: discovery, pool, binding, probes and cleanup follow the section -------------

# Account links, under another name: a family the committed section does not have.
WIDGETS = {
    "id": "resources.widget",
    "kind": "widgets",
    "id_members": ["LinkId"],
    "id_shapes": ["LinkId"],
    "pattern": "^link-.{8,24}$",
    "create": ["CreateAccountLinkInvitation"],
    "describe": {"operation": "ListAccountLinks", "result_key": "AccountLinks", "id_key": "AccountLinkId"},
    "update": ["AcceptAccountLinkInvitation"],
    "delete": {"operation": "DeleteAccountLinkInvitation", "request": "LinkId"},
    "taggable": True,
    "states": {"member": "AccountLinkStatus", "gone": ["REJECTED"]},
    "discovery": {"requests": [{"LinkStatusFilter": ["LINKED"]}, {}]},
    "description": "A throwaway family of the self-tests: account links under another name.",
    "source": "https://docs.aws.amazon.com/workspaces/latest/api/API_ListAccountLinks.html",
    "evidence": "inferred",
}
LINKED, REJECTED, PENDING = "link-widget0001", "link-widget0002", "link-widget0003"


@pytest.fixture
def widget_rules(monkeypatch):
    """A copy of rules.json with the widget family, in force for the test (the committed rules come back after)."""
    rules = copy.deepcopy(specs.rules())
    rules["resources"].append(copy.deepcopy(WIDGETS))
    monkeypatch.setattr(specs, "rules", lambda: rules)
    return rules


class FakeAccount:
    """A caller that answers from a made-up account with three widgets and records every request."""

    def __init__(self, refuse_delete: tuple[str, ...] = ()):
        self.calls: list[tuple[str, dict]] = []
        self.refuse_delete = refuse_delete
        self.unimplemented: set[str] = set()

    def call(self, operation: str, params: dict) -> Response:
        self.calls.append((operation, dict(params)))
        if operation == "ListAccountLinks":
            first = [{"AccountLinkId": LINKED, "AccountLinkStatus": "LINKED"},
                     {"AccountLinkId": REJECTED, "AccountLinkStatus": "REJECTED"}]
            later = [{"AccountLinkId": PENDING, "AccountLinkStatus": "PENDING_ACCEPTANCE_BY_TARGET_ACCOUNT"}]
            body = {"AccountLinks": later} if params.get("NextToken") else {"AccountLinks": first, "NextToken": "page-2"}
        elif operation == "DescribeTags":
            tagged = params["ResourceId"] == PENDING
            body = {"TagList": cleanup.run_tags("run-w") if tagged else []}
        elif operation == "DeleteAccountLinkInvitation" and params["LinkId"] in self.refuse_delete:
            return Response(400, {}, b'{"__type": "ConflictException", "message": "in use"}')
        else:
            body = {}
        return Response(200, {"content-type": "application/x-amz-json-1.1"}, json.dumps(body).encode())

    def sent(self, operation: str) -> list[dict]:
        return [params for name, params in self.calls if name == operation]


def test_the_copy_with_a_new_family_is_valid_rules(widget_rules):
    schema = json.loads((specs.SPEC_DIR / "rules.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(widget_rules)
    assert specs.resource_kinds()[-1] == "widgets" and specs.resource("resources.widget")["kind"] == "widgets"


def test_discovery_lists_the_new_family_once_and_leaves_gone_ones_out(widget_rules):
    account = FakeAccount()
    target = targets.Target("url", None)
    pool = targets.discover(account, target)
    assert pool.widgets == [LINKED, PENDING]  # REJECTED is a gone state of the family
    assert account.sent("ListAccountLinks") == [{"LinkStatusFilter": ["LINKED"]},
                                                {"LinkStatusFilter": ["LINKED"], "NextToken": "page-2"},
                                                {}, {"NextToken": "page-2"}]
    # No operation the suite tests creates widgets: the complete listing is not asked for again.
    again = targets.discover(account, target)
    assert again.widgets == [LINKED, PENDING] and len(account.sent("ListAccountLinks")) == 4
    assert again.widgets is not pool.widgets


def test_the_pool_feeds_the_new_familys_members_and_binds_them(widget_rules):
    pool = strategies.ResourcePool(widgets=[LINKED], directories=["d-1234567890"])
    assert pool.widgets == [LINKED] and pool.ids["widgets"] == [LINKED]
    assert pool.key()[0][-1] == ("widgets", (LINKED,)) and strategies.ResourcePool(*pool.key()) == pool
    assert pool.ids_for("LinkId", "LinkId") == [LINKED]
    assert pool.ids_for("NonEmptyString", "ResourceId") == ["d-1234567890", LINKED]  # taggable: tags reach it
    assert pool.resource_ids() == {LINKED, "d-1234567890"}
    seen = set()

    @settings(max_examples=40, database=None, deadline=None)
    @given(strategies.requests("DeleteAccountLinkInvitation", pool))
    def draw(params):
        seen.add(params["LinkId"])

    draw()
    assert LINKED in seen and seen - {LINKED}  # live ids and generated ones
    # Live-id binding: the family's member is a reference the checks follow and boundaries bind.
    assert "LinkId" in specs.reference_members()
    assert list(checks._referenced_ids({"LinkId": LINKED, "Other": "x"})) == [LINKED]
    assert targets.live_id(pool, "LinkId") == LINKED
    # Probes name a widget that exists nowhere.
    assert targets._probes("DeleteAccountLinkInvitation", pool) == [{"LinkId": "link-000000000"}, {}]
    with pytest.raises(TypeError, match="gadgets="):
        strategies.ResourcePool(gadgets=["x"])


def test_cleanup_lists_checks_and_deletes_the_new_family(widget_rules):
    account = FakeAccount(refuse_delete=(LINKED,))
    result = cleanup.cleanup_run(account, "run-w", [LINKED, REJECTED], scan=True, kind="widgets")
    # LINKED is live and was created; REJECTED is gone already; PENDING carries the run's tag.
    assert account.sent("DeleteAccountLinkInvitation") == [{"LinkId": LINKED}, {"LinkId": PENDING}]
    assert result.terminated == [PENDING] and result.refused == [LINKED]
    assert {params["ResourceId"] for params in account.sent("DescribeTags")} == {LINKED, PENDING}
    with pytest.raises(ValueError, match="kind='user_names'"):
        cleanup.cleanup_run(account, "run-w", ["alice"], kind="user_names")


def test_the_committed_rules_are_in_force_again_after_the_copy():
    assert "widgets" not in specs.resource_kinds()
    with pytest.raises(TypeError, match="widgets="):
        strategies.ResourcePool(widgets=[LINKED])
    assert "LinkId" not in specs.reference_members()


def test_workspaces_are_terminated_in_batches_of_the_models_maximum():
    ids = [f"ws-{n:09d}" for n in range(30)]

    class Terminating(FakeAccount):
        def call(self, operation, params):
            self.calls.append((operation, params))
            if operation == "DescribeWorkspaces":
                items = [{"WorkspaceId": w, "State": "TERMINATED" if w == ids[0] else "AVAILABLE"}
                         for w in params["WorkspaceIds"]]
                return Response(200, {}, json.dumps({"Workspaces": items}).encode())
            entries = params["TerminateWorkspaceRequests"]
            failed = [{"WorkspaceId": e["WorkspaceId"], "ErrorCode": "x"} for e in entries if e["WorkspaceId"] == ids[7]]
            return Response(200, {}, json.dumps({"FailedRequests": failed}).encode())

    account = Terminating()
    result = cleanup.cleanup_run(account, "run-x", ids)
    assert [len(p["WorkspaceIds"]) for p in account.sent("DescribeWorkspaces")] == [25, 5]
    assert [len(p["TerminateWorkspaceRequests"]) for p in account.sent("TerminateWorkspaces")] == [25, 4]
    assert result.refused == [ids[7]] and result.terminated == [w for w in ids[1:] if w != ids[7]]
