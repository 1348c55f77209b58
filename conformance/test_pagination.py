"""Pagination: complete traversals, page sizes, the last page, and tokens that must be refused.

For each paginated seed operation the suite follows NextToken to the end and
checks that the pages' union is the unpaginated listing, without duplicates,
at most Limit items a page, no token after the last page. Where the operation
has a Limit, Hypothesis draws the page size (the model's whole range) and the
length of the listing, so boundaries between pages of many items are crossed
too, and a failure shrinks to the fewest items and the smallest Limit that
show it. A garbage token and a token issued for other filters or another
operation are rejected.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import specs

from .behaviour import require
from .checks import Exchange, judge_all

# The operations that page through a listing of a resource family (the items' ids tell duplicates apart).
OPERATIONS = [name for name in specs.paginated_operations(specs.operation_names()) if specs.resource_listing(name)]
MAX_PAGES = 200
DEFAULT_PAGE_MAX = 25
# WorkSpaces a loopback run keeps for drawn listings: more than the largest Limit (25), so that every
# size crosses a page boundary in the unfiltered listing, and a bounded cost per run.
PAGED_WORKSPACES = 30
# Traversals drawn on a real account (read-only, at the documented request rate; no shrinking there).
REMOTE_EXAMPLES = 3



class Traversal:
    """The pages of one listing, followed from the first request to the page without NextToken."""

    def __init__(self, run, operation: str, params: dict) -> None:
        self.run, self.operation, self.params = run, operation, dict(params)
        paginator = specs.operation(operation)["paginator"]
        self.result_key = paginator["result_key"]
        listing = specs.resource_listing(operation)
        self.id_key = listing["id_key"]
        self.state_key = (specs.resource(listing["kind"]).get("states") or {}).get("member")
        self.pages: list[tuple[list, str | None, Exchange]] = []
        self.tokens: list[str] = []

    def fail(self, title: str, message: str, rule: str, exchange: Exchange | None = None):
        last = self.pages[-1][2] if self.pages else None
        return self.run.failure("pagination", rule, title, message, operation=self.operation, exchange=exchange or last)

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
                rule = limit_range_rule(self.operation)
                if token is None and rule and rule["min"] <= self.params.get(rule["member"], 0) <= rule["max"]:
                    size = self.params[rule["member"]]
                    raise self.fail(f"{rule['member']}={size} refused",
                                    f"The first page of {describe(self.params)} was answered "
                                    f"{exchange.response.describe(300)}; {rule['member']}={size} is within "
                                    f"{rule['min']}..{rule['max']}, the range the model allows, so the request must "
                                    "be served.", rule["id"], exchange)
                raise self.fail(f"Page {len(self.pages) + 1} refused",
                                f"Following NextToken, page {len(self.pages) + 1} of {describe(self.params)} was "
                                f"answered {exchange.response.describe(300)}; a token the target issued must be "
                                "honoured.",
                                "pagination.complete_traversal", exchange)
            items = [i for i in body.get(self.result_key) or [] if isinstance(i, dict)]
            token = body.get("NextToken") or None
            self.pages.append((items, token, exchange))
            if limit is not None and len(items) > limit:
                raise self.fail(f"Page of {len(items)} items with Limit={limit}",
                                f"Page {len(self.pages)} of {describe(self.params)} holds {len(items)} items, "
                                f"more than Limit={limit} (pages so far: {self.sizes()[:20]} items).",
                                "pagination.page_size.limit_respected", exchange)
            if token is None:
                return self
            if token in seen_tokens or len(self.pages) >= MAX_PAGES:
                raise self.fail("The listing never ends",
                                f"After {len(self.pages)} pages of {describe(self.params)} the target still returns "
                                "a NextToken"
                                + (" it returned before" if token in seen_tokens else "")
                                + f"; the last page must carry none (pagination.last_page). Pages' sizes: "
                                f"{[len(p[0]) for p in self.pages][:20]}.", "pagination.last_page", exchange)
            seen_tokens.add(token)
            self.tokens.append(token)

    def ids(self) -> list[str]:
        return [item.get(self.id_key) for items, _, _ in self.pages for item in items]

    def states(self) -> dict[str, str]:
        return {item.get(self.id_key): item.get(self.state_key) for items, _, _ in self.pages for item in items}

    def sizes(self) -> list[int]:
        return [len(items) for items, _, _ in self.pages]

    def check_no_duplicates(self) -> None:
        ids = self.ids()
        repeated = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if repeated:
            raise self.fail(f"{len(repeated)} item(s) listed twice",
                            f"Following NextToken over {describe(self.params)} returned {repeated[:5]} more than once "
                            f"(pages of {self.sizes()[:20]} items); each item must appear exactly once.",
                            "pagination.complete_traversal")


def describe(params: dict) -> str:
    """A request's members for a message, id lists by their length (the drawn listings run to 25 ids)."""
    shown = {k: (f"<{len(v)} ids>" if isinstance(v, list) and len(v) > 3 else v) for k, v in params.items()}
    return str(shown)


def limit_range_rule(operation: str) -> dict | None:
    """The rule giving the range of the operation's Limit, if rules.json has one."""
    return next((rule for rule in specs.rules()["pagination"]
                 if rule.get("kind") == "limit_range" and operation in rule["operations"]), None)


def vanishing(operation: str) -> tuple[str, ...]:
    """States in which an item the operation lists may disappear between two listings (its family's gone states)."""
    return specs.gone_states(specs.resource(specs.resource_listing(operation)["kind"]))


def comes_and_goes(operation: str) -> bool:
    """Whether the operation lists WorkSpaces, the family whose resources come and go during a run (it has states)."""
    return bool(vanishing(operation))


def listing_cases(run, operation: str) -> list[dict]:
    """The filters each operation is paged with (those whose listing cannot change meanwhile).

    A listing of WorkSpaces is filtered to live ones that stay (at least two
    where a Limit can split them over pages, so a token is handed out); any
    other listing is paged as discovery lists it (rules.json resources).
    """
    listing = specs.resource_listing(operation)
    if comes_and_goes(operation) and listing.get("id_filter"):
        stable = stable_workspaces(run)[:25]
        return [{listing["id_filter"]: stable}] if len(stable) >= (2 if limit_member(operation) else 1) else [{}]
    return [dict(params) for params in specs.resource(listing["kind"])["discovery"].get("requests", [{}])]


def stable_workspaces(run, count: int = 3) -> list[str]:
    """Up to max(count, 25) live WorkSpaces that will still be listed a moment from now.

    At least ``count`` of them where the run may create WorkSpaces and its
    budget (--max-workspaces) has room.
    """
    pool = run.pool(workspaces=count)
    if count > 25 and len(pool.workspaces) < count:  # one CreateWorkspaces makes at most 25
        pool = run.pool(workspaces=count)
    family = specs.resource("resources.workspace")
    describe, state, gone = family["describe"], family["states"]["member"], specs.gone_states(family)
    stable = []
    wanted = pool.workspaces[:max(count, 25)]
    for first in range(0, len(wanted), 25):
        exchange = run.call(describe["operation"], {describe["id_filter"]: wanted[first:first + 25]})
        body = exchange.response.json if isinstance(exchange.response.json, dict) else {}
        stable += [w[describe["id_key"]] for w in body.get(describe["result_key"]) or []
                   if isinstance(w, dict) and w.get(state) not in gone and w.get(describe["id_key"])]
    return list(dict.fromkeys(stable))


def limit_member(operation: str) -> str | None:
    """The request member bounding a page, if the operation has one."""
    properties = specs.operation(operation)["input"].get("properties", {})
    return "Limit" if "Limit" in properties else None


def member_schema(operation: str, member: str) -> dict:
    """The input schema of one request member, references resolved."""
    schema = specs.operation(operation)["input"]
    found = schema.get("properties", {}).get(member, {})
    while "$ref" in found:
        found = schema.get("definitions", {}).get(found["$ref"].rsplit("/", 1)[-1], {})
    return found


def page_sizes(operation: str):
    """Every page size the model allows for the operation's limit member."""
    schema = member_schema(operation, limit_member(operation))
    return st.integers(int(schema.get("minimum", 1)), int(schema.get("maximum", DEFAULT_PAGE_MAX)))


def traversal(operation, target_run, paged):
    """Pages of the default size list the operation's listings without duplicates, bounded, to a last page."""
    require(target_run, operation)
    limit_key = limit_member(operation)
    cases = listing_cases(target_run, operation)
    if limit_key and {} in paged.listings(operation) and {} not in cases:
        cases.append({})  # longer than the default page: its boundary is crossed too
    for params in cases:
        Traversal(target_run, operation, params).follow(
            limit=DEFAULT_PAGE_MAX if limit_key else None).check_no_duplicates()


class PagedListings:
    """The listings of one run that drawn traversals page through, found once per operation."""

    def __init__(self, run) -> None:
        self.run = run
        self._found: dict[str, tuple[dict, ...]] = {}

    def listings(self, operation: str) -> tuple[dict, ...]:
        """The operation's listings by length (see :func:`paged_listings`), found on first use."""
        if operation not in self._found:
            self._found[operation] = paged_listings(self.run, operation)
        return self._found[operation]


@pytest.fixture(scope="session")
def paged(conformance) -> PagedListings:
    """The run's listings to page through, shared by the cells that walk them."""
    return PagedListings(conformance)


def paged_listings(run, operation: str) -> tuple[dict, ...]:
    """Listings that cannot change while walked, by length: the first n known items by id, then all of them.

    On loopback targets the run first makes sure there are PAGED_WORKSPACES
    WorkSpaces (within its budget); the unfiltered listing is used only when
    it holds more items than an id filter can name and none of them is on
    its way out. Real accounts get the id-filtered listings only.
    """
    member = specs.resource_listing(operation)["id_filter"]
    most = int(member_schema(operation, member).get("maxItems", 25))
    if comes_and_goes(operation):
        ids = stable_workspaces(run, 3 if run.target.remote else PAGED_WORKSPACES)
    else:
        ids = list(dict.fromkeys(Traversal(run, operation, {}).follow().ids()))
    ids = [i for i in ids if isinstance(i, str)]
    listings = [{member: ids[:n]} for n in range(1, min(most, len(ids)) + 1)]
    if not run.target.remote:
        everything = Traversal(run, operation, {}).follow()
        states = set(everything.states().values())
        if len(set(everything.ids())) > len(listings) and not states & set(vanishing(operation)):
            listings.append({})
    return tuple(listings)


def drawn_traversals(operation, target_run, paged):
    """At drawn page sizes over listings of drawn length, the pages add up to the unpaginated listing once each.

    Hypothesis draws Limit from the model's range and the listing's length
    (its index in ``paged_listings``); a failing traversal shrinks to the
    fewest items and the smallest Limit that still fail. Every traversal
    holds at most Limit items a page, lists no item twice, ends with a page
    without NextToken, and lists what the same request without Limit lists
    (whose own pages ``traversal`` judges).
    """
    require(target_run, operation)
    limit_key = limit_member(operation)
    listings = paged.listings(operation)
    if not listings:
        pytest.skip(f"unjudgeable: {operation} lists nothing to page through")
    remote = target_run.target.remote
    current = settings.default

    @settings(current, max_examples=REMOTE_EXAMPLES if remote else current.max_examples,
              phases=[p for p in current.phases if not (remote and p in (Phase.shrink, Phase.explain))],
              report_multiple_bugs=False, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    # The listing is drawn first, so a failure shrinks to the fewest items before the smallest Limit.
    @given(index=st.integers(0, len(listings) - 1), limit=page_sizes(operation))
    def walk(index, limit):
        params = listings[index]
        reference = Traversal(target_run, operation, params).follow()
        paged = Traversal(target_run, operation, dict(params, **{limit_key: limit})).follow(limit=limit)
        paged.check_no_duplicates()
        expected, got = set(reference.ids()), set(paged.ids())
        if expected != got:
            missing, extra = sorted(expected - got, key=str), sorted(got - expected, key=str)
            raise paged.fail(
                f"Pages of {limit_key}={limit} differ from the unpaginated listing",
                f"Over {describe(params)} the pages of {limit_key}={limit} hold {len(got)} distinct items "
                f"(pages of {paged.sizes()[:20]} items), the same request without {limit_key} {len(expected)} "
                f"(pages of {reference.sizes()[:20]}); only without {limit_key}: {missing[:5]}, only with it: "
                f"{extra[:5]}. Every matching item must be listed once whatever the page size.",
                "pagination.complete_traversal")

    walk()


def garbage_token(run) -> str:
    """A well-formed NextToken (1 to 2048 characters) that no target ever issued."""
    return f"conformance-{run.target.run_id}-never-issued-token-AAAAAAAAAAAAAAAAAAAAAAAA"


def garbage_token_rejected(operation, target_run):
    """A NextToken the target never issued is refused with a client error, not read as page one."""
    require(target_run, operation)
    params = listing_cases(target_run, operation)[0]
    exchange = target_run.call(operation, dict(params, NextToken=garbage_token(target_run)))
    if not 400 <= exchange.response.status < 500:
        raise target_run.failure("pagination", "pagination.invalid_token", f"Garbage NextToken answered HTTP {exchange.response.status}",
                                 "A NextToken that was never issued must be rejected with a client error "
            f"({' or '.join(specs.rule('pagination.invalid_token')['codes'])}), never served as the "
            "first page or answered with a 5xx.",
                                 operation=operation, exchange=exchange)


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
            raise target_run.failure("pagination", rule, f"Foreign NextToken accepted ({what})",
                                     f"{what.capitalize()} must be rejected with a client error or ignored (answered as the first "
                f"page of this request); the target answered HTTP {status} with a page that is not the first one "
                f"of {request}.",
                                     operation=operation, exchange=exchange)


@pytest.mark.conformance(checks=["pagination"], operations=OPERATIONS)
def test_pagination(operation, target_run, paged):
    """Complete traversals (at drawn page sizes where there is a Limit), then a garbage and a foreign token refused."""
    # Drawn traversals first: of two failures under one rule the cell keeps the first, the shrunk one.
    parts = [lambda: drawn_traversals(operation, target_run, paged)] if limit_member(operation) else []
    judge_all(*parts, lambda: traversal(operation, target_run, paged),
              lambda: garbage_token_rejected(operation, target_run),
              lambda: foreign_token_rejected(operation, target_run))
