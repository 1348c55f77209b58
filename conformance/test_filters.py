"""Filter rules: exclusive members, UserName needs DirectoryId, unknown ids, and filters that filter.

Exclusive pairs are sent with values that would each be valid alone, so a
rejection can only be due to the combination.
"""
from __future__ import annotations

import itertools

import pytest

import specs

from .behaviour import require

UNKNOWN = {"WorkspaceIds": ["ws-0cf0000000"], "BundleIds": ["wsb-0cf000000"]}


def source(rule_id: str) -> str:
    return specs.rule(rule_id)["source"]


def filter_rules(operation: str, kind: str) -> list[dict]:
    return [entry for entry in specs.rules()["filters"] if entry["operation"] == operation and entry["kind"] == kind]


def listed(exchange, key: str) -> list[dict]:
    body = exchange.response.json
    return [item for item in (body.get(key) if isinstance(body, dict) else None) or [] if isinstance(item, dict)]


def workspace_values(run) -> dict:
    """Valid values for each DescribeWorkspaces filter, taken from a live WorkSpace."""
    pool = run.pool(workspaces=1)
    if not pool.workspaces:
        pytest.skip("unjudgeable: the target holds no WorkSpace to filter on")
    exchange = run.call("DescribeWorkspaces", {"WorkspaceIds": pool.workspaces[:1]})
    found = listed(exchange, "Workspaces")
    if not found:
        pytest.skip("unjudgeable: the pool's WorkSpace is not described")
    workspace = found[0]
    return {"WorkspaceIds": [workspace["WorkspaceId"]], "DirectoryId": workspace.get("DirectoryId"),
            "BundleId": workspace.get("BundleId"), "UserName": workspace.get("UserName"),
            "WorkspaceName": workspace.get("WorkspaceName") or "conformance-named"}


def other_directories(run, known: str) -> list[str]:
    """Registered directories besides ``known``: filtering on them must not return ``known``'s WorkSpaces."""
    if not run.implemented("DescribeWorkspaceDirectories"):
        return []
    found = listed(run.call("DescribeWorkspaceDirectories", {}), "Directories")
    return [d["DirectoryId"] for d in found if d.get("DirectoryId") not in (None, known)][:3]


def bundle_values(run) -> dict:
    exchange = run.call("DescribeWorkspaceBundles", {"Owner": "AMAZON"})
    bundles = listed(exchange, "Bundles")
    if not bundles:
        pytest.skip("unjudgeable: the target lists no AMAZON bundle")
    return {"BundleIds": [bundles[0]["BundleId"]], "Owner": "AMAZON"}


def check_exclusive(run, operation: str, values: dict) -> None:
    """Every pair of members an exclusive rule names is rejected together."""
    done = set()
    for entry in filter_rules(operation, "exclusive"):
        for first, second in itertools.combinations(entry["members"], 2):
            if frozenset((first, second)) in done or not values.get(first) or not values.get(second):
                continue
            done.add(frozenset((first, second)))
            exchange = run.call(operation, {first: values[first], second: values[second]})
            if not 400 <= exchange.response.status < 500:
                raise run.failure("filters", operation, f"{first} and {second} accepted together",
                                  f"{entry['description']} The target answered HTTP {exchange.response.status} "
                                  f"instead of a client error ({' or '.join(entry['error_codes'])}).",
                                  entry["id"], entry["source"], exchange)


def check_all_match(run, operation: str, exchange, key: str, member: str, wanted, rule: str, field: str) -> None:
    if exchange.response.status != 200:
        raise run.failure("filters", operation, f"Filter {member} refused",
                          f"{member}={wanted!r} alone is a valid filter, yet the target answered "
                          f"{exchange.response.describe(300)}.", rule, source(rule), exchange)
    wrong = [item for item in listed(exchange, key) if item.get(field) != wanted]
    if wrong:
        raise run.failure("filters", operation, f"Filter {member} returned non-matching items",
                          f"With {member}={wanted!r} every item must have {field}={wanted!r}; "
                          f"{len(wrong)} do not, e.g. {field}={wrong[0].get(field)!r}.", rule, source(rule), exchange)


@pytest.mark.conformance(checks=["filters"], operations=["DescribeWorkspaces"])
def test_describe_workspaces_filters(operation, target_run):
    """Exclusive filters, UserName needs DirectoryId, unknown ids, and each filter narrows the listing."""
    require(target_run, operation)
    values = workspace_values(target_run)
    check_exclusive(target_run, operation, values)

    for entry in filter_rules(operation, "requires"):
        requires = entry["requires"] if isinstance(entry["requires"], list) else [entry["requires"]]
        alone = {member: values[member] for member in entry["members"] if values.get(member)}
        if not alone:
            continue
        exchange = target_run.call(operation, alone)
        if not 400 <= exchange.response.status < 500:
            raise target_run.failure("filters", operation, f"{', '.join(alone)} accepted without {', '.join(requires)}",
                                     f"{entry['description']} The target answered HTTP {exchange.response.status}.",
                                     entry["id"], entry["source"], exchange)
        together = dict(alone, **{member: values[member] for member in requires})
        exchange = target_run.call(operation, together)
        check_all_match(target_run, operation, exchange, "Workspaces", "UserName", values["UserName"],
                        entry["id"], "UserName")

    one_filter = "filters.describe_workspaces.one_filter"
    directories = [values["DirectoryId"]] + other_directories(target_run, values["DirectoryId"])
    for member, candidates in (("DirectoryId", directories), ("BundleId", [values["BundleId"]])):
        for value in candidates:
            if value:
                exchange = target_run.call(operation, {member: value})
                check_all_match(target_run, operation, exchange, "Workspaces", member, value, one_filter, member)
    named = "filters.describe_workspaces.workspace_name"
    exchange = target_run.call(operation, {"WorkspaceName": values["WorkspaceName"]})
    check_all_match(target_run, operation, exchange, "Workspaces", "WorkspaceName", values["WorkspaceName"], named,
                    "WorkspaceName")

    rule = "errors.not_found.describe_workspaces"
    exchange = target_run.call(operation, {"WorkspaceIds": UNKNOWN["WorkspaceIds"]})
    if exchange.response.status != 200 or listed(exchange, "Workspaces"):
        raise target_run.failure("filters", operation, "Unknown WorkspaceIds not answered with an empty listing",
                                 f"{specs.rule(rule)['description']} The target answered "
                                 f"{exchange.response.describe(300)}.", rule, source(rule), exchange)


@pytest.mark.conformance(checks=["filters"], operations=["DescribeWorkspaceBundles"])
def test_describe_workspace_bundles_filters(operation, target_run):
    """BundleIds and Owner exclude each other; Owner selects bundles; unknown BundleIds are left out."""
    require(target_run, operation)
    values = bundle_values(target_run)
    check_exclusive(target_run, operation, values)
    rule = "filters.describe_workspace_bundles.ids_or_owner"
    exchange = target_run.call(operation, {"Owner": "AMAZON"})
    check_all_match(target_run, operation, exchange, "Bundles", "Owner", "AMAZON", rule, "Owner")
    exchange = target_run.call(operation, {})
    amazon = [b.get("BundleId") for b in listed(exchange, "Bundles") if b.get("Owner") == "AMAZON"]
    if exchange.response.status == 200 and amazon:
        raise target_run.failure("filters", operation, "Without Owner, AMAZON bundles are listed",
                                 "Without Owner only the account's own bundles are returned (AMAZON bundles need "
                                 f"Owner=AMAZON, per the model's DescribeWorkspaceBundlesRequest.Owner); the target "
                                 f"listed {len(amazon)} AMAZON bundles, e.g. {amazon[0]}.", rule,
                                 "botocore model: DescribeWorkspaceBundlesRequest.Owner", exchange)
    missing = "errors.not_found.describe_workspace_bundles"
    exchange = target_run.call(operation, {"BundleIds": UNKNOWN["BundleIds"]})
    if exchange.response.status != 200 or listed(exchange, "Bundles"):
        raise target_run.failure("filters", operation, "Unknown BundleIds not answered with an empty listing",
                                 f"{specs.rule(missing)['description']} The target answered "
                                 f"{exchange.response.describe(300)}.", missing, source(missing), exchange)
