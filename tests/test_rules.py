"""Self-tests of specs/workspaces/rules.json and its schema, rules.schema.json.

The rules hold what botocore's WorkSpaces model cannot express; these tests keep them
valid against their schema, internally consistent (state graph, preconditions) and
anchored in the installed botocore model (states, operations, members, enums, sources).
"""
from __future__ import annotations

import copy
import json
import re
from collections import deque
from pathlib import Path

import botocore.session
import jsonschema
import pytest

import specs

SPEC_DIR = Path(specs.__file__).resolve().parent / "workspaces"
RULES_PATH = SPEC_DIR / "rules.json"
SCHEMA_PATH = SPEC_DIR / "rules.schema.json"

SECTIONS = {
    "states": "state.",
    "state_graph": "edge.",
    "preconditions": "precondition.",
    "filters": "filters.",
    "tags": "tags.",
    "pagination": "pagination.",
    "connection": "connection.",
    "errors": "errors.",
    "timing": "timing.",
    "defaults": "defaults.",
    "observation": "observation.",
    "client": "client.",
    "resources": "resources.",
}
REQUIRED_PRECONDITIONS = {
    "StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces",
    "TerminateWorkspaces", "ModifyWorkspaceProperties",
}
GONE = "GONE"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def rules() -> dict:
    with RULES_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def schema() -> dict:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def validator(schema) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def model():
    return botocore.session.get_session().get_service_model("workspaces")


@pytest.fixture(scope="module")
def model_states(model) -> list[str]:
    return list(model.shape_for("WorkspaceState").enum)


@pytest.fixture(scope="module")
def graph(rules):
    """state -> list of edges leaving it."""
    out: dict[str, list[dict]] = {}
    for edge in rules["state_graph"]:
        for state in edge["from"]:
            out.setdefault(state, []).append(edge)
    return out


def walk_rules(node):
    """Every rule object (a dict with an id), wherever it is nested."""
    return (found for found in _objects(node) if "id" in found)


def reachable(graph, start: list[str]) -> set[str]:
    seen = set(start)
    queue = deque(start)
    while queue:
        state = queue.popleft()
        for edge in graph.get(state, []):
            if edge["to"] not in seen:
                seen.add(edge["to"])
                queue.append(edge["to"])
    return seen


def named_states(rules) -> list[tuple[str, str]]:
    """(rule id, state) for every state named anywhere in the rules."""
    named = [(s["id"], s["name"]) for s in rules["states"]]
    for edge in rules["state_graph"]:
        named += [(edge["id"], s) for s in edge["from"]] + [(edge["id"], edge["to"])]
        named += [(edge["id"], s) for s in edge.get("min_seconds_in_state", {})]
    for pre in rules["preconditions"]:
        for key in ("allowed_states", "silently_ignored_states"):
            named += [(pre["id"], s) for s in pre.get(key, [])]
        named += [(pre["id"], s) for s in pre.get("min_seconds_in_state", {})]
    for rule in rules["connection"]:
        named += [(rule["id"], s) for s in rule["states"]]
    for rule in rules["timing"]:
        named += [(rule["id"], s) for s in rule["transition"]]
    return named


def named_operations(rules) -> list[tuple[str, str]]:
    """(rule id, operation) for every operation named anywhere in the rules."""
    named = []
    for edge in rules["state_graph"]:
        if edge["trigger"] != "async":
            named.append((edge["id"], edge["trigger"]))
    for rule in walk_rules(rules):
        if "operation" in rule:
            named.append((rule["id"], rule["operation"]))
        for op in rule.get("operations") or []:
            named.append((rule["id"], op))
    return named


# --------------------------------------------------------------------------- schema
def test_schema_is_a_valid_draft7_schema(schema):
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_rules_validate_against_schema(rules, validator):
    errors = sorted(validator.iter_errors(rules), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors
    )


def test_top_level_identifies_the_service(rules, model):
    assert rules["service"] == "workspaces"
    assert rules["api_version"] == model.api_version == "2015-04-08"
    assert set(SECTIONS) <= set(rules)


def mutate_drop_source(r):
    del r["filters"][0]["source"]


def mutate_bad_evidence(r):
    r["tags"][0]["evidence"] = "rumoured"


def mutate_unknown_state_kind(r):
    r["states"][0]["kind"] = "sometimes"


def mutate_unknown_state(r):
    r["state_graph"][0]["to"] = "INOPERABLE"


def mutate_extra_top_level_key(r):
    r["notes"] = []


def mutate_extra_rule_key(r):
    r["preconditions"][0]["allowed_sates"] = ["AVAILABLE"]


def mutate_requires_without_member(r):
    rule = next(f for f in r["filters"] if f["kind"] == "requires")
    del rule["requires"]


def mutate_exception_without_codes(r):
    rule = next(e for e in r["errors"] if e["kind"] == "not_found" and e["outcome"] == "exception")
    rule["codes"] = []


def mutate_description_not_a_sentence(r):
    r["timing"][0]["description"] = "no full stop"


def mutate_source_not_a_source(r):
    r["defaults"][0]["source"] = "somewhere on the internet"


def mutate_missing_state(r):
    r["states"].pop()


def mutate_bad_running_mode(r):
    r["preconditions"][0]["running_modes"] = ["SOMETIMES_ON"]


def mutate_bad_tag_kind(r):
    r["tags"][0]["kind"] = "max_tag"


def mutate_missing_id(r):
    del r["connection"][0]["id"]


@pytest.mark.parametrize("mutate", [
    mutate_drop_source, mutate_bad_evidence, mutate_unknown_state_kind, mutate_unknown_state,
    mutate_extra_top_level_key, mutate_extra_rule_key, mutate_requires_without_member,
    mutate_exception_without_codes, mutate_description_not_a_sentence, mutate_source_not_a_source,
    mutate_missing_state, mutate_bad_running_mode, mutate_bad_tag_kind, mutate_missing_id,
])
def test_schema_rejects_a_mutated_copy(rules, validator, mutate):
    broken = copy.deepcopy(rules)
    mutate(broken)
    assert not validator.is_valid(broken), f"{mutate.__name__} was not caught by the schema"


# --------------------------------------------------------------------------- rule objects
def test_every_rule_object_has_source_evidence_description(rules):
    found = list(walk_rules(rules))
    assert len(found) > 100
    for rule in found:
        for key in ("source", "evidence", "description"):
            assert rule.get(key), f"{rule['id']} has no {key}"
        assert rule["evidence"] in ("documented", "inferred"), rule["id"]


def test_rule_ids_are_unique(rules):
    ids = [rule["id"] for rule in walk_rules(rules)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, duplicates


def test_rule_ids_carry_their_section_prefix(rules):
    for section, prefix in SECTIONS.items():
        for rule in rules[section]:
            assert rule["id"].startswith(prefix), (section, rule["id"])


def test_rules_are_reachable_through_the_loader(rules):
    for rule in walk_rules(rules):
        assert specs.rule(rule["id"]) == rule
    with pytest.raises(KeyError):
        specs.rule("filters.no_such_rule")


def test_sources_name_model_shapes_members_and_operations(rules, model):
    operations = set(model.operation_names)
    for rule in walk_rules(rules):
        source = rule["source"]
        if not source.startswith("botocore model: "):
            continue
        target = source[len("botocore model: "):]
        if target.startswith("operation "):
            assert target[len("operation "):] in operations, rule["id"]
            continue
        shape_name, _, member = target.partition(".")
        shape = model.shape_for(shape_name)  # raises on an unknown shape
        if member:
            assert member in shape.members, (rule["id"], source)


def test_source_urls_use_the_expected_forms(rules, model):
    operations = set(model.operation_names)
    api = re.compile(r"^https://docs\.aws\.amazon\.com/workspaces/latest/api/API_([A-Za-z]+)\.html$")
    for rule in walk_rules(rules):
        source = rule["source"]
        if source.startswith("https://docs.aws.amazon.com/workspaces/"):
            match = api.match(source)
            if match:
                assert match.group(1) in operations, (rule["id"], source)
            else:
                assert re.match(
                    r"^https://docs\.aws\.amazon\.com/workspaces/latest/"
                    r"(adminguide/[a-z0-9-]+\.html|api/CommonErrors\.html)$", source
                ), (rule["id"], source)


def test_descriptions_are_single_lines(rules):
    for rule in walk_rules(rules):
        assert "\n" not in rule["description"] and rule["description"].endswith("."), rule["id"]


# --------------------------------------------------------------------------- states
def test_exactly_the_model_states_each_classified(rules, model_states):
    names = [s["name"] for s in rules["states"]]
    assert len(model_states) == 17
    assert len(names) == 17
    assert sorted(names) == sorted(model_states)
    assert names == model_states, "states should follow the model's enum order"
    for state in rules["states"]:
        assert state["kind"] in ("settled", "transitional"), state["id"]
        assert state["id"] == "state." + state["name"]


def test_every_state_named_anywhere_is_a_model_state_or_gone(rules, model_states):
    allowed = set(model_states) | {GONE}
    bad = [(rid, s) for rid, s in named_states(rules) if s not in allowed]
    assert not bad, bad


def test_seed_flags_match_the_seed_enum(rules):
    added_since_seed = {s["name"] for s in rules["states"] if not s["in_seed"]}
    assert added_since_seed == {"RESTORING", "ADMIN_MAINTENANCE", "UPDATING"}


def test_every_operation_named_is_a_model_operation(rules):
    # The operations of the committed contract: an older installed botocore may lack some of them.
    operations = set(specs.operation_names())
    bad = [(rid, op) for rid, op in named_operations(rules) if op not in operations]
    assert not bad, bad


def test_every_running_mode_is_a_model_value(rules, model):
    modes = set(model.shape_for("RunningMode").enum)
    for rule in rules["state_graph"] + rules["preconditions"]:
        for mode in rule.get("running_modes") or []:
            assert mode in modes, (rule["id"], mode)


# --------------------------------------------------------------------------- state graph
def test_create_edge_starts_the_graph(rules):
    creates = [e for e in rules["state_graph"] if not e["from"]]
    assert [e["id"] for e in creates] == ["edge.create"]
    assert creates[0]["to"] == "PENDING" and creates[0]["trigger"] == "CreateWorkspaces"


def test_every_transitional_state_has_an_outgoing_async_edge(rules, graph):
    for state in rules["states"]:
        if state["kind"] == "transitional":
            triggers = {e["trigger"] for e in graph.get(state["name"], [])}
            assert "async" in triggers, state["name"]


def test_every_state_is_reachable_from_creation(rules, graph, model_states):
    created = [e["to"] for e in rules["state_graph"] if not e["from"]]
    seen = reachable(graph, created)
    missing = (set(model_states) | {GONE}) - seen
    assert not missing, sorted(missing)


def test_gone_is_final_and_reachable_from_every_state(graph, model_states):
    assert GONE not in graph, "nothing leaves GONE"
    for state in model_states:
        assert GONE in reachable(graph, [state]), f"{state} can never end"


def test_timing_transitions_follow_the_graph(rules, graph):
    for rule in rules["timing"]:
        start, end = rule["transition"]
        if start == GONE:  # a new id becoming describable: before the create edge
            continue
        assert end in reachable(graph, [start]) - {start} or end == start, rule["id"]


# --------------------------------------------------------------------------- preconditions
def test_preconditions_cover_the_actions(rules):
    operations = [p["operation"] for p in rules["preconditions"]]
    assert len(operations) == len(set(operations))
    assert REQUIRED_PRECONDITIONS <= set(operations)
    for pre in rules["preconditions"]:
        assert pre["id"] == "precondition." + pre["operation"]


def test_preconditions_agree_with_the_graph(rules, graph):
    edges_by_trigger: dict[str, list[dict]] = {}
    for edge in rules["state_graph"]:
        edges_by_trigger.setdefault(edge["trigger"], []).append(edge)
    for pre in rules["preconditions"]:
        op = pre["operation"]
        edges = edges_by_trigger.get(op, [])
        assert edges, f"no edge is triggered by {op}"
        sources = {s for e in edges for s in e["from"]}
        assert sources == set(pre["allowed_states"]), op
        for edge in edges:
            if pre["running_modes"] is not None and edge.get("running_modes") is not None:
                assert set(edge["running_modes"]) <= set(pre["running_modes"]), edge["id"]


def _code_states(documentation: str, states) -> set[str]:
    return set(re.findall(r"<code>\s*([A-Z_]+)\s*</code>", documentation)) & set(states)


@pytest.mark.parametrize("operation", [
    "StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces", "RestoreWorkspace",
])
def test_allowed_states_match_the_model_documentation(rules, model, model_states, operation):
    pre = next(p for p in rules["preconditions"] if p["operation"] == operation)
    documented = _code_states(model.operation_model(operation).documentation, model_states)
    assert set(pre["allowed_states"]) == documented


def test_terminate_is_allowed_in_every_state_but_suspended(rules, model_states):
    pre = next(p for p in rules["preconditions"] if p["operation"] == "TerminateWorkspaces")
    assert set(pre["allowed_states"]) == set(model_states) - {"SUSPENDED"}


def test_start_and_stop_need_autostop_or_manual(rules):
    for op in ("StartWorkspaces", "StopWorkspaces"):
        pre = next(p for p in rules["preconditions"] if p["operation"] == op)
        assert set(pre["running_modes"]) == {"AUTO_STOP", "MANUAL"}
        assert pre["refusal"]["kind"] == "failed_request"


def test_reboot_supersedes_the_seed(rules):
    pre = next(p for p in rules["preconditions"] if p["operation"] == "RebootWorkspaces")
    assert set(pre["allowed_states"]) == {"AVAILABLE", "UNHEALTHY", "REBOOTING"}
    assert pre["min_seconds_in_state"] == {"REBOOTING": 1200}
    assert "seed" in pre["description"] and "INOPERABLE" in pre["description"]


def test_refusal_codes_of_exceptions_are_modelled_for_the_operation(rules, model):
    for pre in rules["preconditions"]:
        errors = {s.name for s in model.operation_model(pre["operation"]).error_shapes}
        refusals = [pre["refusal"]] + pre["refusal"].get("also_accepted", [])
        for refusal in refusals:
            if refusal["kind"] == "exception":
                assert set(refusal["codes"]) <= errors, (pre["id"], refusal["codes"])


# --------------------------------------------------------------------------- filters
def test_filter_members_exist_in_the_request(rules, model):
    for rule in rules["filters"]:
        members = model.operation_model(rule["operation"]).input_shape.members
        for member in rule["members"] + ([rule["requires"]] if "requires" in rule else []):
            assert member in members, (rule["id"], member)


def test_required_filter_rules_are_present(rules):
    by_id = {r["id"]: r for r in rules["filters"]}
    one = by_id["filters.describe_workspaces.one_filter"]
    assert one["kind"] == "exclusive" and {"WorkspaceIds", "DirectoryId", "BundleId"} <= set(one["members"])
    user = by_id["filters.describe_workspaces.username_requires_directory"]
    assert (user["members"], user["requires"]) == (["UserName"], "DirectoryId")
    bundles = [r for r in rules["filters"] if r["operation"] == "DescribeWorkspaceBundles"]
    assert any(set(r["members"]) == {"BundleIds", "Owner"} and r["kind"] == "exclusive" for r in bundles)
    rebuild = [r for r in rules["filters"] if r["operation"] == "RebuildWorkspaces"]
    assert rebuild and rebuild[0]["kind"] == "max_requests" and rebuild[0]["max"] == 1


def test_max_requests_agree_with_the_model(rules, model):
    for rule in rules["filters"]:
        if rule["kind"] != "max_requests":
            continue
        members = model.operation_model(rule["operation"]).input_shape.members
        for member in rule["members"]:
            assert members[member].metadata.get("max") == rule["max"], rule["id"]


# --------------------------------------------------------------------------- tags
def _tag(rules, kind):
    return next(r for r in rules["tags"] if r["kind"] == kind)


def test_tag_lengths_agree_with_the_model(rules, model):
    key = model.shape_for("TagKey").metadata
    value = model.shape_for("TagValue").metadata
    assert (_tag(rules, "key_length")["min"], _tag(rules, "key_length")["max"]) == (key["min"], key["max"])
    assert _tag(rules, "value_length")["max"] == value["max"]
    assert _tag(rules, "value_length")["min"] == value.get("min", 0)
    tags_doc = model.operation_model("CreateTags").input_shape.members["Tags"].documentation
    assert str(_tag(rules, "max_tags")["max"]) in tags_doc


def test_tag_character_pattern_is_a_python_full_match_regex(rules):
    pattern = re.compile(_tag(rules, "characters")["pattern"])
    for good in ("Project", "cost center", "a+b-c=d.e_f:g/h@i", "Zürich", "42", ""):
        assert pattern.fullmatch(good), good
    for bad in ("a*b", "semi;colon", "hash#", "quote'", "tab\tchar", "brace{"):
        assert not pattern.fullmatch(bad), bad


def test_reserved_prefix_is_aws(rules):
    assert _tag(rules, "reserved_prefix")["prefix"] == "aws:"


def test_taggable_prefixes_are_model_id_prefixes(rules, model):
    id_shapes = ["WorkspaceId", "DirectoryId", "BundleId", "WorkspaceImageId", "IpGroupId", "ConnectionAliasId",
                 "WorkspacesPoolId"]
    patterns = [model.shape_for(name).metadata["pattern"] for name in id_shapes]
    prefixes = _tag(rules, "taggable_resources")["resource_prefixes"]
    for prefix in prefixes:
        assert any(re.search(r"(^|\(|\^)" + re.escape(prefix), p) for p in patterns), prefix
    for pattern in patterns:  # and every taggable id kind has its prefix listed
        assert any(re.search(r"(^|\(|\^)" + re.escape(p), pattern) for p in prefixes), pattern


# --------------------------------------------------------------------------- pagination
def test_limit_ranges_agree_with_the_model(rules, model):
    ranges = [r for r in rules["pagination"] if r["kind"] == "limit_range"]
    assert ranges
    for rule in ranges:
        for op in rule["operations"]:
            meta = model.operation_model(op).input_shape.members[rule["member"]].metadata
            assert (rule["min"], rule["max"]) == (meta["min"], meta["max"]), rule["id"]


def test_paginated_operations_have_next_token(rules, model):
    for rule in rules["pagination"]:
        for op in rule["operations"]:
            operation = model.operation_model(op)
            assert "NextToken" in operation.input_shape.members, (rule["id"], op)
            assert "NextToken" in operation.output_shape.members, (rule["id"], op)


def test_pagination_rules_cover_the_contract(rules):
    kinds = {r["kind"] for r in rules["pagination"]}
    assert {"opaque_token", "token_bound_to_request", "last_page", "invalid_token",
            "limit_range", "default_page_size"} <= kinds
    default = next(r for r in rules["pagination"] if r["kind"] == "default_page_size")
    assert default["evidence"] == "inferred"


# --------------------------------------------------------------------------- connection, errors, timing, defaults
def test_stopped_workspace_has_unknown_connection_state(rules, model):
    rule = next(r for r in rules["connection"] if "STOPPED" in r["states"] and r["kind"] == "state_implies")
    assert rule["connection_states"] == ["UNKNOWN"]
    assert set(rule["connection_states"]) <= set(model.shape_for("ConnectionState").enum)


def test_error_kinds_cover_request_validation(rules):
    kinds = {e["kind"] for e in rules["errors"]}
    assert {"missing_required", "wrong_type", "enum_violation", "too_short", "too_long", "pattern_mismatch",
            "too_few_items", "too_many_items", "below_minimum", "above_maximum", "malformed_json",
            "unknown_operation", "missing_target", "not_found", "invalid_state"} <= kinds


def test_documented_modelled_error_codes_are_modelled_for_their_operations(rules):
    # Held to the committed contract's errors: an older installed botocore may lack an operation they name.
    modelled = {name: {error["code"] for error in specs.operation(name)["errors"]} for name in specs.operation_names()}
    exception_shapes = set().union(*modelled.values())
    for rule in rules["errors"]:
        if rule["evidence"] != "documented" or not rule["operations"] or not rule["codes"]:
            continue
        expected = rule["codes"][0]
        if expected not in exception_shapes:
            continue
        for op in rule["operations"]:
            assert expected in modelled[op], (rule["id"], op, expected)


def test_ambiguous_error_codes_list_alternatives(rules):
    for rule in rules["errors"]:
        if rule["outcome"] == "exception" and rule["kind"] != "error_shape" and rule.get("codes_evidence") == "inferred":
            assert len(rule["codes"]) >= 2, rule["id"]


# Spellings of error codes rules.json no longer uses: every list of codes is "codes", with
# "codes_evidence" beside it where the codes' evidence differs from the rule's.
OLD_CODE_SPELLINGS = ("code", "error_code", "error_codes", "code_evidence", "error_code_evidence")


def _objects(node):
    """Every JSON object in ``node``, nested ones included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_error_codes_are_spelled_one_way(rules):
    old = [(obj.get("id", "(nested)"), key) for obj in _objects(rules) for key in obj if key in OLD_CODE_SPELLINGS]
    assert old == []
    with_codes = {rule["id"].split(".")[0] for rule in walk_rules(rules) if "codes" in rule}
    assert with_codes >= {"filters", "tags", "pagination", "errors"}
    assert all("codes" in pre["refusal"] for pre in rules["preconditions"])


def _code_holders(rules):
    """One object of each kind that carries error codes: filter, tag, pagination and error rules, refusals."""
    yield next(r for r in rules["filters"] if "codes" in r)
    yield next(r for r in rules["tags"] if "codes" in r)
    yield next(r for r in rules["pagination"] if "codes" in r)
    yield next(r for r in rules["errors"] if r["codes"])
    yield rules["preconditions"][0]["refusal"]
    yield next(p["refusal"]["also_accepted"][0] for p in rules["preconditions"] if p["refusal"].get("also_accepted"))


@pytest.mark.parametrize("spelling", OLD_CODE_SPELLINGS)
def test_schema_rejects_an_old_spelling_of_error_codes(rules, validator, spelling):
    assert validator.is_valid(rules)
    for index in range(len(list(_code_holders(rules)))):
        broken = copy.deepcopy(rules)
        holder = list(_code_holders(broken))[index]
        codes = holder["codes"]
        if spelling.endswith("evidence"):
            holder[spelling] = "inferred"
        else:  # the codes under their old name instead of "codes"
            del holder["codes"]
            holder[spelling] = codes[0] if spelling in ("code", "error_code") and codes else codes
        assert not validator.is_valid(broken), (spelling, holder.get("id", holder))


# The JSON Schema keyword each kind of schema violation is, as the JSON Schema specification defines it.
KEYWORD_KINDS = {
    "required": "missing_required", "type": "wrong_type", "enum": "enum_violation",
    "minLength": "too_short", "maxLength": "too_long", "pattern": "pattern_mismatch",
    "minItems": "too_few_items", "maxItems": "too_many_items", "minimum": "below_minimum", "maximum": "above_maximum",
}


def test_each_schema_keyword_names_its_violation_kind_once(rules):
    keyworded = [rule for rule in rules["errors"] if "keyword" in rule]
    assert {rule["keyword"]: rule["kind"] for rule in keyworded} == KEYWORD_KINDS
    assert len(keyworded) == len(KEYWORD_KINDS)
    assert all(rule["operations"] is None and rule.get("form") is True for rule in keyworded)
    for keyword, kind in KEYWORD_KINDS.items():
        assert specs.violation_kind(keyword) == kind
        assert specs.error_rule(kind)["keyword"] == keyword
    assert specs.violation_kind("format") is None


def test_form_rules_are_the_schema_keywords_and_the_body(rules):
    # Judged before anything a request names is looked up: so only what a request's form alone breaks.
    expected = {f"errors.{kind}" for kind in KEYWORD_KINDS.values()} | {"errors.malformed_json"}
    assert specs.schema_rule_ids() == expected
    assert {rule["id"] for rule in rules["errors"] if rule.get("form")} == expected


def test_timing_deadlines(rules):
    by_transition = {tuple(r["transition"]): r for r in rules["timing"]}
    create = by_transition[("PENDING", "AVAILABLE")]
    assert create["deadline_seconds"] >= 20 * 60
    for rule in rules["timing"]:
        if "expected_seconds" in rule:
            assert rule["expected_seconds"] <= rule["deadline_seconds"], rule["id"]


def test_defaults_name_workspace_members(rules, model):
    workspace = model.shape_for("Workspace")
    for rule in rules["defaults"]:
        for field in rule["fields"]:
            shape = workspace
            for part in field.split("."):
                assert part in shape.members, (rule["id"], field)
                shape = shape.members[part]
        if "value" in rule and rule["fields"][0].endswith("RunningMode"):
            assert rule["value"] in model.shape_for("RunningMode").enum
