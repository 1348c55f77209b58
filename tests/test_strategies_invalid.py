"""Self-tests of strategies.invalid_requests: one violation per example, labelled right."""
import json

import jsonschema
import pytest
from hypothesis import given, settings

import specs
import strategies
from strategies import semantics
from strategies.invalid import mutations

OPERATIONS = specs.operation_names()
SEED = specs.seed_operations()


def _errors(operation, params):
    validator = jsonschema.Draft7Validator(specs.operation(operation)["input"])
    return [(".".join(str(p) for p in e.absolute_path), e.validator)
            for e in validator.iter_errors(params)]


def _schema_path(path: str) -> str:
    """botocore's dotted path in jsonschema's form: Workspaces[0].UserName -> Workspaces.0.UserName."""
    return path.replace("[", ".").replace("]", "")


def check_invalid(inv: strategies.InvalidRequest) -> None:
    """Assert that ``inv`` breaks exactly what its violation says."""
    v = inv.violation
    op = inv.operation
    if v.kind in ("malformed_json", "empty_body"):
        assert inv.raw and inv.params is None
        try:
            json.loads(inv.body)
        except ValueError:
            return
        raise AssertionError(f"body {inv.body!r} parses as JSON")
    assert json.loads(inv.body) == inv.params
    if inv.raw is False:
        assert strategies.boto3_sends_exactly(op, inv.params)
    errors = _errors(op, inv.params)
    broken = semantics.broken_rules(op, inv.params)
    if v.keyword is None:  # a semantic violation: schema-valid, exactly its rule broken
        assert errors == [], (v, errors)
        assert v.rule in broken, (v, broken, inv.params)
        rule_kinds = {r.rule: "exclusive" for r in semantics.for_operation(op).exclusive}
        assert all(rule_kinds.get(r) == "exclusive" for r in broken - {v.rule}), (v, broken)
        return
    expected_path = _schema_path(v.path)
    if v.kind == "missing_required":
        expected_path = expected_path.rpartition(".")[0]
    assert errors, (v, inv.params)
    assert {p for p, _ in errors} == {expected_path}, (v, errors)
    keywords = {k for _, k in errors}
    assert v.keyword in keywords, (v, errors)
    allowed = {v.keyword, "enum"} if v.keyword == "type" else {v.keyword}
    assert keywords <= allowed, (v, errors)
    # A schema violation breaks no request-level rule, except a rule that
    # restates the same bound (RebuildWorkspaces' single request).
    restating = {r.rule for r in semantics.for_operation(op).max_requests}
    assert broken <= (restating if v.kind == "too_many_items" else set()), (v, broken)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_invalid_requests_break_exactly_their_label(operation):
    @settings(max_examples=12)
    @given(strategies.invalid_requests(operation))
    def check(inv):
        check_invalid(inv)

    check()


def _seed_pairs():
    return [(op, kind) for op in SEED for kind in sorted(strategies.violation_kinds(op))]


@pytest.mark.parametrize("operation,kind", _seed_pairs())
def test_every_allowed_kind_is_produced_for_the_seed_operations(operation, kind):
    produced = set()

    @settings(max_examples=3)
    @given(strategies.invalid_requests(operation, kinds={kind}))
    def check(inv):
        check_invalid(inv)
        produced.add(inv.violation.kind)

    check()
    assert produced == {kind}


def test_kinds_follow_the_model_constraints():
    kinds = strategies.violation_kinds("DescribeWorkspaces")
    assert {"too_few_items", "too_many_items", "below_minimum", "above_maximum",
            "pattern_mismatch", "too_long", "too_short", "exclusive", "requires",
            "malformed_json", "null_member", "wrong_type"} <= kinds
    assert "missing_required" not in kinds  # DescribeWorkspaces has no required member
    # {} is a valid DescribeWorkspaces request, so an empty body is no violation there.
    assert "empty_body" not in kinds
    assert "empty_body" in strategies.violation_kinds("CreateTags")
    # ConnectionAliasId's pattern spans exactly its length bounds: no lone too_long.
    alias = [m for m in mutations("DescribeConnectionAliases")
             if m.template().startswith("AliasIds[]") and m.kind == "too_long"]
    assert alias == []
    assert "reserved_prefix" in strategies.violation_kinds("DeleteTags")
    assert "max_tags" in strategies.violation_kinds("CreateTags")


def test_semantic_rules_come_from_rules_json():
    rules = {m.rule for m in mutations("DescribeWorkspaceBundles") if m.kind == "exclusive"}
    assert rules == {"filters.describe_workspace_bundles.ids_or_owner"}
    assert specs.rule("filters.describe_workspace_bundles.ids_or_owner")


def test_raw_is_set_when_botocore_would_rewrite_the_value():
    seen = {}

    @settings(max_examples=60)
    @given(strategies.invalid_requests("DescribeWorkspaces", kinds={"wrong_type"}))
    def check(inv):
        value = inv.params.get(inv.violation.path) if isinstance(inv.params, dict) else None
        seen[(inv.violation.path, type(value).__name__)] = inv.raw

    check()
    # A string where the WorkspaceIds list belongs becomes a list of characters in botocore.
    assert seen.get(("WorkspaceIds", "str")) in (True, None)
    assert any(raw for raw in seen.values()) and not all(seen.values())


def test_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="kinds="):
        strategies.invalid_requests("DescribeTags", kinds={"too_many_items"})


def test_generation_hands_the_contract_down_instead_of_looking_the_name_up(monkeypatch):
    # Loaded once at the top, an operation's contract is all generation needs: with every lookup by
    # name disabled, a contract nothing was cached for yet still yields every kind of case.
    import dataclasses

    from hypothesis import HealthCheck, Phase

    fresh = dataclasses.replace(specs.contract("CreateWorkspaces"))

    def looked_up(*args):
        raise AssertionError(f"the operation was looked up again by name: {args}")

    monkeypatch.setattr(specs, "operation", looked_up)
    monkeypatch.setattr(specs, "_contract", looked_up)
    assert strategies.boundaries(fresh)
    assert {"too_many_items", "constraint", "malformed_json"} <= strategies.violation_kinds(fresh)
    drawn = []

    @settings(max_examples=10, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(params=strategies.requests(fresh), inv=strategies.invalid_requests(fresh))
    def draw(params, inv):
        drawn.append((params, inv.operation))

    draw()
    assert len(drawn) == 10 and all(operation == "CreateWorkspaces" for _, operation in drawn)
