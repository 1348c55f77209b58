"""Filter rules: exclusive members, UserName needs DirectoryId, unknown ids, and filters that filter.

Exclusive pairs are sent with values that would each be valid alone, so a
rejection can only be due to the combination. A filter returns only matching
items and, for WorkspaceIds, every requested WorkSpace that exists (but for
the omissions rules.json cites).
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import specs
from strategies.lifecycle import GONE, model

from .behaviour import require
from .checks import judge_all

UNKNOWN = {"WorkspaceIds": ["ws-0cf0000000"], "BundleIds": ["wsb-0cf000000"]}



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
                raise run.failure("filters", entry["id"], f"{first} and {second} accepted together",
                                  f"{entry['description']} The target answered HTTP {exchange.response.status} "
                                  f"instead of a client error ({' or '.join(entry['codes'])}).",
                                  operation=operation, exchange=exchange)


def check_all_match(run, operation: str, exchange, key: str, member: str, wanted, rule: str, field: str) -> None:
    if exchange.response.status != 200:
        raise run.failure("filters", rule, f"Filter {member} refused",
                          f"{member}={wanted!r} alone is a valid filter, yet the target answered "
                          f"{exchange.response.describe(300)}.",
                          operation=operation, exchange=exchange)
    wrong = [item for item in listed(exchange, key) if item.get(field) != wanted]
    if wrong:
        raise run.failure("filters", rule, f"Filter {member} returned non-matching items",
                          f"With {member}={wanted!r} every item must have {field}={wanted!r}; "
                          f"{len(wrong)} do not, e.g. {field}={wrong[0].get(field)!r}.",
                          operation=operation, exchange=exchange)


@pytest.mark.conformance(checks=["filters"], operations=["DescribeWorkspaces"])
def test_describe_workspaces_filters(operation, target_run):
    """Exclusive filters, UserName needs DirectoryId, unknown ids; each filter narrows the listing, WorkspaceIds answers."""
    judge_all(lambda: describe_workspaces_filters(operation, target_run),
              lambda: requested_ids_answered(operation, target_run))


def describe_workspaces_filters(operation, target_run):
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
            raise target_run.failure("filters", entry["id"], f"{', '.join(alone)} accepted without {', '.join(requires)}",
                                     f"{entry['description']} The target answered HTTP {exchange.response.status}.",
                                     operation=operation, exchange=exchange)
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
        raise target_run.failure("filters", rule, "Unknown WorkspaceIds not answered with an empty listing",
                                 f"{specs.rule(rule)['description']} The target answered "
                                 f"{exchange.response.describe(300)}.",
                                 operation=operation, exchange=exchange)


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
        raise target_run.failure("filters", rule, "Without Owner, AMAZON bundles are listed",
                                 "Without Owner only the account's own bundles are returned (AMAZON bundles need "
                                 f"Owner=AMAZON, per the model's DescribeWorkspaceBundlesRequest.Owner); the target "
                                 f"listed {len(amazon)} AMAZON bundles, e.g. {amazon[0]}.",
                                 operation=operation, exchange=exchange)
    missing = "errors.not_found.describe_workspace_bundles"
    exchange = target_run.call(operation, {"BundleIds": UNKNOWN["BundleIds"]})
    if exchange.response.status != 200 or listed(exchange, "Bundles"):
        raise target_run.failure("filters", missing, "Unknown BundleIds not answered with an empty listing",
                                 f"{specs.rule(missing)['description']} The target answered "
                                 f"{exchange.response.describe(300)}.",
                                 operation=operation, exchange=exchange)


@pytest.mark.conformance(checks=["filters"], operations=["DescribeWorkspacesConnectionStatus"])
def test_describe_connection_status_filters(operation, target_run):
    """WorkspaceIds answers every live WorkSpace asked for, but those the connection rules let it leave out."""
    requested_ids_answered(operation, target_run)


# --- WorkspaceIds answers what was asked --------------------------------------------------------

REQUESTED_EXAMPLES = 15  # requests per operation: each is one call, shrunk to the smallest that fails


def omissions(operation: str) -> dict[str, str]:
    """The WorkSpace states ``operation`` may leave a requested id out in, each with the rule that says so."""
    lifecycle, out = model(), {}
    for rule in specs.rules()["connection"]:
        if rule["kind"] == "may_omit" and rule["operation"] == operation:
            out.update({state: rule["id"] for state in rule["states"]})
    gone = [e["id"] for e in specs.rules()["errors"]
            if e["kind"] == "not_found" and e["outcome"] == "omitted" and operation in (e.get("operations") or ())]
    excuse = gone[0] if gone else "timing.terminated_visible"
    out.setdefault(GONE, excuse)
    for state in lifecycle.states:
        if GONE in lifecycle.reachable(state):
            out.setdefault(state, excuse)  # on its way out: it may be gone by the time it is asked for
    return out


def _workspace_states(run) -> dict[str, str]:
    """Every WorkSpace an unfiltered DescribeWorkspaces lists, with its state."""
    found, token = {}, None
    for _ in range(40):
        exchange = run.call("DescribeWorkspaces", {"NextToken": token} if token else {})
        for item in listed(exchange, "Workspaces"):
            if isinstance(item.get("WorkspaceId"), str):
                found[item["WorkspaceId"]] = item.get("State")
        body = exchange.response.json
        token = body.get("NextToken") if isinstance(body, dict) else None
        if not token:
            break
    return found


def _answered(run, operation: str, ids: list[str]):
    """The ids ``operation`` answers for WorkspaceIds=``ids`` (every page), and the first page's exchange."""
    key = next(name for name, schema in specs.operation(operation)["output"]["properties"].items()
               if name != "NextToken")
    first, answered, token = None, set(), None
    for _ in range(10):
        exchange = run.call(operation, dict({"WorkspaceIds": ids}, **({"NextToken": token} if token else {})))
        first = first or exchange
        if exchange.response.status != 200:
            return None, exchange
        answered |= {item.get("WorkspaceId") for item in listed(exchange, key)}
        body = exchange.response.json
        token = body.get("NextToken") if isinstance(body, dict) else None
        if not token:
            break
    return answered, first


def requested_ids_answered(operation, target_run):
    """Every requested id of a live WorkSpace is answered, but for the omissions rules.json cites.

    Hypothesis draws lists of ids (live ones, repeated ones, ones that exist
    nowhere); the live ones are those an unfiltered DescribeWorkspaces lists in
    a state no rule lets ``operation`` leave out. An id left out is looked up
    again in a fresh listing before it counts: a WorkSpace may have moved on.
    """
    require(target_run, operation, "DescribeWorkspaces")
    rule = next(r for r in filter_rules(operation, "answers_requested"))
    may_omit = omissions(operation)
    target_run.pool(workspaces=3)
    states = _workspace_states(target_run)
    live = sorted(w for w, state in states.items() if state not in may_omit)
    if not live:
        pytest.skip(f"unjudgeable: the target holds no WorkSpace {operation} must answer for")
    most = specs.operation(operation)["input"]["definitions"]["WorkspaceIdList"].get("maxItems", 25)
    unknown = st.from_regex(r"ws-[0-9a-z]{10}", fullmatch=True).filter(lambda i: i not in states)
    found = []

    @settings(settings.default, max_examples=min(settings.default.max_examples, REQUESTED_EXAMPLES))
    @given(ids=st.lists(st.one_of(st.sampled_from(live), unknown), min_size=1, max_size=most))
    def ask(ids):
        answered, exchange = _answered(target_run, operation, ids)
        if answered is None:
            found[:] = [target_run.failure("filters", rule["id"], f"WorkspaceIds refused ({exchange.response.error_code or exchange.response.status})",
                                           f"WorkspaceIds alone is a valid filter, yet the target answered {exchange.response.describe(300)}.",
                                           operation=operation, exchange=exchange)]
            raise found[0]
        missing = [i for i in dict.fromkeys(ids) if i in live and i not in answered]
        now = _workspace_states(target_run) if missing else {}
        missing = [i for i in missing if now.get(i, GONE) not in may_omit]
        if missing:
            found[:] = [target_run.failure("filters", rule["id"], f"Requested WorkSpace left out of {operation}",
                                           f"Asked for {len(ids)} id(s), {sum(1 for i in ids if i in live)} of them live WorkSpaces; the answer "
                f"left out {', '.join(f'{i} ({states[i]} before, {now[i]} after)' for i in missing[:5])}, as an "
                f"unfiltered DescribeWorkspaces listed it before and after the request. {rule['description']} "
                f"Only WorkSpaces in {sorted(may_omit)} may be left out.",
                                           operation=operation, exchange=exchange)]
            raise found[0]

    try:
        ask()
    except Exception:
        # The target moves on between examples; the failure itself is the finding, not a flaky replay.
        if not found:
            raise
    if found:
        raise found[0]
