"""Pagination: complete traversals, page sizes, the last page, and tokens that must be refused.

For each paginated seed operation the suite follows NextToken to the end and
checks that the pages' union is the unpaginated listing, without duplicates,
at most Limit items a page, no token after the last page; a garbage token
and a token issued for other filters or another operation are rejected.
"""
from __future__ import annotations

import pytest

import specs

from .behaviour import require
from .checks import Exchange, judge_all

OPERATIONS = ["DescribeWorkspaces", "DescribeWorkspaceBundles", "DescribeWorkspaceDirectories",
              "DescribeWorkspacesConnectionStatus"]
ITEM_ID = {"Workspaces": "WorkspaceId", "Bundles": "BundleId", "Directories": "DirectoryId",
           "WorkspacesConnectionStatus": "WorkspaceId"}
MAX_PAGES = 200
DEFAULT_PAGE_MAX = 25
VANISHING = ("TERMINATING", "TERMINATED")  # may disappear between two listings


def source(rule_id: str) -> str:
    return specs.rule(rule_id)["source"]


class Traversal:
    """The pages of one listing, followed from the first request to the page without NextToken."""

    def __init__(self, run, operation: str, params: dict) -> None:
        self.run, self.operation, self.params = run, operation, dict(params)
        paginator = specs.operation(operation)["paginator"]
        self.result_key = paginator["result_key"]
        self.id_key = ITEM_ID[self.result_key]
        self.pages: list[tuple[list, str | None, Exchange]] = []
        self.tokens: list[str] = []

    def fail(self, title: str, message: str, rule: str, exchange: Exchange | None = None):
        return self.run.failure("pagination", self.operation, title, message, rule, source(rule),
                                exchange or (self.pages[-1][2] if self.pages else None))

    def follow(self, *, limit: int | None = None) -> "Traversal":
        token = None
        seen_tokens = set()
        while True:
            request = dict(self.params)
            if token is not None:
                request["NextToken"] = token
            exchange = self.run.call(self.operation, request)
            body = exchange.response.json
            if exchange.response.status != 200 or not isinstance(body, dict):
                raise self.fail(f"Page {len(self.pages) + 1} refused",
                                f"Following NextToken, page {len(self.pages) + 1} of {self.params} was answered "
                                f"{exchange.response.describe(300)}; a token the target issued must be honoured.",
                                "pagination.complete_traversal", exchange)
            items = [i for i in body.get(self.result_key) or [] if isinstance(i, dict)]
            token = body.get("NextToken") or None
            self.pages.append((items, token, exchange))
            if limit is not None and len(items) > limit:
                raise self.fail(f"Page of {len(items)} items with Limit={limit}",
                                f"Page {len(self.pages)} holds {len(items)} items, more than Limit={limit}.",
                                "pagination.page_size.limit_respected", exchange)
            if token is None:
                return self
            if token in seen_tokens or len(self.pages) >= MAX_PAGES:
                raise self.fail("The listing never ends",
                                f"After {len(self.pages)} pages the target still returns a NextToken"
                                + (" it returned before" if token in seen_tokens else "")
                                + f"; the last page must carry none (pagination.last_page). Pages' sizes: "
                                f"{[len(p[0]) for p in self.pages][:20]}.", "pagination.last_page", exchange)
            seen_tokens.add(token)
            self.tokens.append(token)

    def ids(self) -> list[str]:
        return [item.get(self.id_key) for items, _, _ in self.pages for item in items]

    def states(self) -> dict[str, str]:
        return {item.get(self.id_key): item.get("State") for items, _, _ in self.pages for item in items}

    def check_no_duplicates(self) -> None:
        ids = self.ids()
        repeated = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if repeated:
            raise self.fail(f"{len(repeated)} item(s) listed twice",
                            f"Following NextToken over {self.params} returned {repeated[:5]} more than once; "
                            "each item must appear exactly once.", "pagination.complete_traversal")


def listing_cases(run, operation: str) -> list[dict]:
    """The filters each operation is paged with (those whose listing cannot change meanwhile)."""
    if operation == "DescribeWorkspaces":
        stable = stable_workspaces(run)
        return [{"WorkspaceIds": stable}] if len(stable) >= 2 else [{}]
    if operation == "DescribeWorkspaceBundles":
        return [{"Owner": "AMAZON"}, {}]
    if operation == "DescribeWorkspacesConnectionStatus":
        stable = stable_workspaces(run)
        return [{"WorkspaceIds": stable}] if stable else [{}]
    return [{}]


def stable_workspaces(run) -> list[str]:
    """Up to 25 live WorkSpaces that will still be listed a moment from now."""
    pool = run.pool(workspaces=3)
    if not pool.workspaces:
        return []
    exchange = run.call("DescribeWorkspaces", {"WorkspaceIds": pool.workspaces[:25]})
    body = exchange.response.json if isinstance(exchange.response.json, dict) else {}
    return [w["WorkspaceId"] for w in body.get("Workspaces") or []
            if isinstance(w, dict) and w.get("State") not in VANISHING and w.get("WorkspaceId")]


def limit_member(operation: str) -> str | None:
    """The request member bounding a page, if the operation has one."""
    properties = specs.operation(operation)["input"].get("properties", {})
    return "Limit" if "Limit" in properties else None


def traversal(operation, target_run):
    """Pages of Limit=1 (or the default size) add up to the unpaginated listing, once each."""
    require(target_run, operation)
    limit_key = limit_member(operation)
    for params in listing_cases(target_run, operation):
        reference = Traversal(target_run, operation, params).follow(
            limit=DEFAULT_PAGE_MAX if limit_key else None)
        reference.check_no_duplicates()
        if not limit_key:
            continue
        paged = Traversal(target_run, operation, dict(params, **{limit_key: 1})).follow(limit=1)
        paged.check_no_duplicates()
        expected = set(reference.ids())
        states = reference.states()
        missing = sorted(i for i in expected - set(paged.ids()) if states.get(i) not in VANISHING)
        extra = sorted(set(paged.ids()) - expected)
        if missing or extra:
            raise paged.fail("Paged listing differs from the unpaginated one",
                             f"With {limit_key}=1 over {params} the pages hold {len(paged.ids())} items in "
                             f"{len(paged.pages)} pages; missing {missing[:5]}, unexpected {extra[:5]} compared with "
                             f"the listing without {limit_key} ({len(expected)} items).",
                             "pagination.complete_traversal")


def garbage_token(run) -> str:
    """A well-formed NextToken (1 to 2048 characters) that no target ever issued."""
    return f"conformance-{run.target.run_id}-never-issued-token-AAAAAAAAAAAAAAAAAAAAAAAA"


def garbage_token_rejected(operation, target_run):
    """A NextToken the target never issued is refused with a client error, not read as page one."""
    require(target_run, operation)
    params = listing_cases(target_run, operation)[0]
    exchange = target_run.call(operation, dict(params, NextToken=garbage_token(target_run)))
    if not 400 <= exchange.response.status < 500:
        raise target_run.failure(
            "pagination", operation, f"Garbage NextToken answered HTTP {exchange.response.status}",
            "A NextToken that was never issued must be rejected with a client error "
            f"({' or '.join(specs.rule('pagination.invalid_token')['error_codes'])}), never served as the "
            "first page or answered with a 5xx.", "pagination.invalid_token", source("pagination.invalid_token"),
            exchange)


def issued_token(run, operation: str, params: dict) -> str | None:
    """The last NextToken a Limit=1 listing of ``operation`` hands out (None if it fits one page)."""
    limit_key = limit_member(operation)
    request = dict(params, **{limit_key: 1}) if limit_key else dict(params)
    traversal = Traversal(run, operation, request).follow()
    return traversal.tokens[-1] if traversal.tokens else None


# Another listing of the same operation, so a token issued for the first one is foreign to it.
OTHER_FILTERS = {
    "DescribeWorkspaces": lambda run, params: {"DirectoryId": _directory_of(run, params)},
    "DescribeWorkspaceDirectories": lambda run, params: {"DirectoryIds": _all_directories(run)},
}


def _directory_of(run, params):
    ids = params.get("WorkspaceIds") or []
    body = run.call("DescribeWorkspaces", {"WorkspaceIds": ids[:1]} if ids else {}).response.json
    for item in (body.get("Workspaces") if isinstance(body, dict) else None) or []:
        return item.get("DirectoryId")
    return None


def _all_directories(run):
    body = run.call("DescribeWorkspaceDirectories", {}).response.json
    return [d["DirectoryId"] for d in (body.get("Directories") if isinstance(body, dict) else None) or []
            if isinstance(d, dict) and d.get("DirectoryId")][:25]


def foreign_token_rejected(operation, target_run):
    """A token issued for other filters, or by another operation, is refused (or ignored), never mixes listings."""
    require(target_run, operation)
    rule = "pagination.token.bound_to_request"
    params = listing_cases(target_run, operation)[0]
    donor = "DescribeWorkspaceDirectories" if operation == "DescribeWorkspaces" else "DescribeWorkspaces"
    cases = []
    if target_run.implemented(donor):
        donor_params = {} if donor == "DescribeWorkspaceDirectories" else listing_cases(target_run, donor)[0]
        token = issued_token(target_run, donor, donor_params)
        if token:
            cases.append((f"a token of {donor}", params, token))
    if operation in OTHER_FILTERS:
        token = issued_token(target_run, operation, params)
        other = OTHER_FILTERS[operation](target_run, params)
        if token and all(v for v in other.values()):
            limit_key = limit_member(operation)
            cases.append((f"a token issued for {params} sent with {other}", dict(other, **{limit_key: 1}), token))
    if not cases:
        pytest.skip("unjudgeable: no listing long enough to hand out a NextToken")
    for what, request, token in cases:
        first = target_run.call(operation, request)
        exchange = target_run.call(operation, dict(request, NextToken=token))
        status = exchange.response.status
        if 400 <= status < 500:
            continue
        ignored = status == 200 and exchange.response.json == first.response.json
        if not ignored:
            raise target_run.failure(
                "pagination", operation, f"Foreign NextToken accepted ({what})",
                f"{what.capitalize()} must be rejected with a client error or ignored (answered as the first "
                f"page of this request); the target answered HTTP {status} with a page that is not the first one "
                f"of {request}.", rule, source(rule), exchange)


@pytest.mark.conformance(checks=["pagination"], operations=OPERATIONS)
def test_pagination(operation, target_run):
    """A complete traversal, then a garbage token and a foreign token, each refused."""
    judge_all(lambda: traversal(operation, target_run), lambda: garbage_token_rejected(operation, target_run),
              lambda: foreign_token_rejected(operation, target_run))
