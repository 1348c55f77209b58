"""Self-tests of the exchange checks: each passes a conformant exchange and fails a deviation."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from conformance.checks import CHECKS, CheckFailure, Exchange, Response

JSON = {"content-type": "application/x-amz-json-1.1"}
WORKSPACE = {
    "WorkspaceId": "ws-abcdefgh1", "DirectoryId": "d-1234567890", "UserName": "alice",
    "State": "AVAILABLE", "BundleId": "wsb-abcdefgh1",
}


def exchange(operation="DescribeWorkspaces", status=200, body=None, headers=JSON, violation=None, raw=b""):
    payload = raw if raw else json.dumps(body if body is not None else {}).encode()
    return Exchange(operation, {}, Response(status, dict(headers), payload), violation=violation,
                    reproduce="print('again')")


def violation(kind="too_long", path="Limit", rule=None):
    return SimpleNamespace(kind=kind, path=path, rule=rule, note="a note", keyword=None)


def failure_of(name, ex) -> CheckFailure:
    with pytest.raises(CheckFailure) as info:
        CHECKS[name](ex)
    return info.value


def test_conformant_exchanges_pass_every_check():
    ok = exchange(body={"Workspaces": [WORKSPACE]})
    for name in ("not_a_server_error", "response_schema", "response_enum", "content_type", "positive_data_acceptance"):
        CHECKS[name](ok)
    rejected = exchange(status=400, body={"__type": "ValidationException", "message": "Limit too big"},
                        violation=violation("above_maximum"))
    for name in ("negative_data_rejection", "error_shape", "error_code", "not_a_server_error"):
        CHECKS[name](rejected)


def test_server_error_fails_and_ends_with_a_reproduction():
    failure = failure_of("not_a_server_error", exchange(status=500, raw=b"<html>oops</html>"))
    assert failure.check == "not_a_server_error" and failure.tier == "core"
    assert "Reproduce with:" in str(failure) and str(failure).rstrip().endswith("print('again')")


def test_response_schema_fails_on_wrong_type_and_bad_pattern_but_not_on_enum():
    failure = failure_of("response_schema", exchange(body={"Workspaces": WORKSPACE}))
    assert "Workspaces" in failure.title
    bad_id = dict(WORKSPACE, WorkspaceId="workspace-1")
    assert "Workspaces[0].WorkspaceId" in failure_of("response_schema", exchange(body={"Workspaces": [bad_id]})).title
    lower = exchange(body={"Workspaces": [dict(WORKSPACE, State="available")]})
    CHECKS["response_schema"](lower)  # enums are response_enum's job
    enum_failure = failure_of("response_enum", lower)
    assert "WorkspaceState" in enum_failure.title and "'available'" in enum_failure.message


def test_response_schema_fails_on_non_json_success():
    failure = failure_of("response_schema", exchange(raw=b"<html></html>"))
    assert "not JSON" in failure.title


def test_content_type():
    failure = failure_of("content_type", exchange(headers={"content-type": "text/html"}))
    assert failure.tier == "strict"
    CHECKS["content_type"](exchange(headers={"content-type": "application/json; charset=utf-8"}))


def test_positive_acceptance_allows_modelled_errors_only():
    CHECKS["positive_data_acceptance"](
        exchange("DescribeTags", 400, {"__type": "ResourceNotFoundException", "message": "no"}))
    failure = failure_of("positive_data_acceptance",
                         exchange("DescribeTags", 400, {"__type": "ValidationException", "message": "no"}))
    assert "ValidationException" in failure.title


def test_negative_rejection_names_the_violation():
    failure = failure_of("negative_data_rejection", exchange(violation=violation("above_maximum", "Limit")))
    assert "above_maximum at Limit" in failure.title
    CHECKS["negative_data_rejection"](exchange(status=400, violation=violation()))


def test_error_shape_requires_type_and_message():
    bad = exchange(status=400, body={"message": "no type"}, violation=violation())
    assert "__type" in failure_of("error_shape", bad).message
    html = exchange(status=400, raw=b"<html/>", violation=violation())
    assert "not a JSON object" in failure_of("error_shape", html).message
    namespaced = exchange(status=400, body={"__type": "com.amazonaws#ValidationException", "Message": "m"},
                          violation=violation())
    CHECKS["error_shape"](namespaced)
    CHECKS["error_code"](namespaced)


def test_error_code_uses_the_rules():
    wrong = exchange(status=400, body={"__type": "ResourceNotFoundException", "message": "m"},
                     violation=violation("pattern_mismatch"))
    failure = failure_of("error_code", wrong)
    assert "pattern_mismatch" in failure.title and failure.rule and failure.source
    wrong_status = exchange(status=403, body={"__type": "ValidationException", "message": "m"},
                            violation=violation("pattern_mismatch"))
    assert "HTTP 403" in failure_of("error_code", wrong_status).title


def test_unknown_references_relax_acceptance_but_live_ones_do_not():
    refused = {"__type": "ValidationException", "message": "The Directory ID d-12345678 in the request is invalid."}
    unknown = exchange("CreateWorkspaces", 400, refused)
    unknown.params = {"Workspaces": [{"DirectoryId": "d-12345678", "UserName": "u", "BundleId": "wsb-abcdefgh1"}]}
    unknown.known_ids = frozenset({"d-1234567890", "wsb-abcdefgh1"})
    assert unknown.unknown_references() == ["d-12345678"]
    CHECKS["positive_data_acceptance"](unknown)
    live = exchange("CreateWorkspaces", 400, refused)
    live.params = {"Workspaces": [{"DirectoryId": "d-1234567890", "UserName": "u", "BundleId": "wsb-abcdefgh1"}]}
    live.known_ids = unknown.known_ids
    assert failure_of("positive_data_acceptance", live).check == "positive_data_acceptance"


def test_a_resource_rule_on_an_unknown_resource_is_not_misjudged():
    body = {"__type": "ResourceNotFoundException", "message": "no such resource"}
    tags = exchange("CreateTags", 400, body, violation=violation("max_tags", "Tags", "tags.max_tags"))
    CHECKS["error_code"](tags)
    schema_kind = exchange("CreateTags", 400, body, violation=violation("too_long", "Tags[0].Key", "errors.too_long"))
    assert "too_long" in failure_of("error_code", schema_kind).title


def test_a_constraint_rule_on_an_unknown_directory_is_not_misjudged():
    refused = {"__type": "ValidationException", "message": "The Directory ID d-12345678 in the request is invalid."}
    manual = exchange("CreateWorkspaces", 400, refused,
                      violation=violation("constraint", "Workspaces[0].WorkspaceProperties.RunningMode",
                                          "errors.constraint.manual_running_mode"))
    manual.params = {"Workspaces": [{"DirectoryId": "d-12345678", "UserName": "u", "BundleId": "wsb-abcdefgh1",
                                     "WorkspaceProperties": {"RunningMode": "MANUAL"}}]}
    manual.known_ids = frozenset({"d-1234567890", "wsb-abcdefgh1"})
    CHECKS["error_code"](manual)
    manual.known_ids = frozenset({"d-12345678", "wsb-abcdefgh1"})  # the directory exists: judged
    assert failure_of("error_code", manual).rule == "errors.constraint.manual_running_mode"


def test_boundary_cases_are_bound_to_live_resources_except_the_probed_member():
    import strategies
    from conformance.test_exchanges import rebind

    pool = strategies.ResourcePool(directories=["d-1234567890"], bundles=["wsb-abcdefgh1"], workspaces=["ws-abcdefgh1"])
    params = {"Workspaces": [{"DirectoryId": "d-99999999", "UserName": "u" * 63, "BundleId": "wsb-zzzzzzzz1"}]}
    assert rebind(params, pool, "Workspaces[0].UserName") == {
        "Workspaces": [{"DirectoryId": "d-1234567890", "UserName": "u" * 63, "BundleId": "wsb-abcdefgh1"}]
    }
    probed = rebind(params, pool, "Workspaces[0].DirectoryId")
    assert probed["Workspaces"][0]["DirectoryId"] == "d-99999999"  # the value under test stays
    assert probed["Workspaces"][0]["BundleId"] == "wsb-abcdefgh1"
    assert rebind({"ResourceId": "x"}, pool, "ResourceId") == {"ResourceId": "x"}
