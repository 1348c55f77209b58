"""The checks: each declared once, the exchange checks themselves, and the one failure type.

A check is declared in one place. An exchange check is a function decorated with
:func:`check` (the function is its identity: its name is the check's name, its
docstring's first line what it judges); a check that needs several calls (state
rules, pagination, tags, filters) is declared with :func:`behaviour_check` and
judged by the conformance test of that name. :data:`CHECKS` holds them all in
report order, and every list of checks (tiers, the checks each test runs, the
report schema's enum, the README's table, the emulator's fault catalogue) is
derived from it or held against it by a self-test.

Every failure is built by :func:`failure` from a rule id; its source, evidence
and tier are looked up, never passed by hand.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import json
from typing import Any, Callable, NoReturn

import jsonschema

import specs

TIERS = ("core", "complete", "strict")
# What a check judges: answers to valid requests, to invalid ones, to any request, or a behaviour over calls.
APPLIES_TO = ("valid", "invalid", "any", "behaviour")

API_DOCS = specs.API_DOCS
JSON_CONTENT_TYPES = ("application/x-amz-json-1.1", "application/json")
# Answers that say "slow down", not "wrong": retried by the client, never judged.
THROTTLING_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}


@dataclasses.dataclass
class Response:
    """What the target answered: status, headers (lower-case names) and the raw body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @functools.cached_property
    def json(self) -> Any:
        """The body parsed as JSON, or :data:`NOT_JSON` when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else NOT_JSON
        except (UnicodeDecodeError, ValueError):
            return NOT_JSON

    @property
    def error_code(self) -> str | None:
        """The AWS error code of an error body (``__type`` without its namespace)."""
        body = self.json
        if not isinstance(body, dict):
            return None
        code = body.get("__type") or body.get("code") or body.get("Code")
        if not isinstance(code, str):
            return None
        return code.rsplit("#", 1)[-1].split(":", 1)[0]

    @property
    def error_message(self) -> str | None:
        body = self.json
        if isinstance(body, dict):
            message = body.get("message", body.get("Message"))
            return message if isinstance(message, str) else None
        return None

    def describe(self, limit: int = 600) -> str:
        """A short human account of the response, for failure messages."""
        text = self.body[:limit].decode("utf-8", "replace")
        more = f" ... ({len(self.body)} bytes)" if len(self.body) > limit else ""
        content_type = self.headers.get("content-type", "<none>")
        return f"HTTP {self.status}, Content-Type {content_type}: {text!r}{more}"

    def to_report(self, limit: int = 4000) -> dict:
        """The response as a report holds it: a JSON body as parsed, or a text prefix of a long or unparsed one."""
        body: Any = self.json
        if body is NOT_JSON or len(self.body) > limit:
            body = self.body[:limit].decode("utf-8", "replace")
        entry = {"status": self.status, "content_type": self.headers.get("content-type"), "body": body}
        if len(self.body) > limit:
            entry["bytes"] = len(self.body)  # the body is cut: a listing of a hundred WorkSpaces is no evidence
        return entry


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON = _NotJson()


@dataclasses.dataclass
class Exchange:
    """One request sent to the target and the response it earned."""

    operation: str
    params: Any
    response: Response
    raw: bool = False
    body: bytes | None = None
    violation: Any = None  # strategies.Violation for invalid requests
    reproduce: str = ""
    # Writes the reproduction when a failure asks for it (writing one per exchange would slow every
    # run); its argument says which resources that only the response lists to rebuild: all (True),
    # none (False) or the ids given.
    writer: Callable[[bool | frozenset], str] | None = None
    known_ids: frozenset | None = None  # ids of resources the target is known to hold
    holdings: "Holdings | None" = None  # what a batch request named, looked up just before it was sent

    def reproduction(self, listing: bool | frozenset = True) -> str:
        """A program that sends the request again, after making anew what it and (``listing``) its answer name.

        Without ``listing`` the resources only a listing in the answer names are
        left out: the status and error of an answer do not depend on them. Given
        ids, only those of the listing are made anew (the item a check found at fault).
        """
        return self.writer(listing) if self.writer is not None else self.reproduce

    def unknown_references(self) -> list[str]:
        """Resource ids in the request that the target is not known to hold."""
        if self.known_ids is None or not isinstance(self.params, dict):
            return []
        return [value for value in _referenced_ids(self.params) if value not in self.known_ids]

    @property
    def spec(self) -> dict:
        return specs.operation(self.operation)

    def request_for_report(self) -> dict:
        if self.raw:
            text = (self.body or b"").decode("utf-8", "replace")
            return {"operation": self.operation, "raw_body": text[:4000]}
        return {"operation": self.operation, "params": self.params}


def _referenced_ids(value, key: str | None = None):
    """Values of members naming existing resources, directly or in lists (``specs.reference_members``)."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _referenced_ids(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced_ids(item, key)
    elif isinstance(value, str) and key in specs.reference_members():
        yield value


class CheckFailure(AssertionError):
    """A deviation from the contract found by one check on one operation; built by :func:`failure`."""

    def __init__(
        self,
        *,
        check: str,
        operation: str,
        title: str,
        message: str,
        rule: str,
        source: str,
        evidence: str,
        tier: str,
        request: dict | None = None,
        response: dict | None = None,
        reproduce: str = "",
        exchange_text: str = "",
    ) -> None:
        self.check = check
        self.operation = operation
        self.title = title
        self.message = message
        self.rule = rule
        self.source = source
        self.evidence = evidence
        self.tier = tier
        self.request = request or {}
        self.response = response or {}
        self.reproduce = reproduce
        self.exchange_text = exchange_text  # the request and answer, in short, for the console
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"[{self.check}] {self.operation}: {self.title}", "", self.message]
        if self.exchange_text:
            lines += ["", self.exchange_text]
        lines += ["", f"Rule: {self.rule} ({self.tier}, {self.evidence})", f"Source: {self.source}"]
        if self.reproduce:
            lines += ["", "Reproduce with:", "", self.reproduce]
        return "\n".join(lines)

    def to_report(self) -> dict:
        return {
            "operation": self.operation,
            "check": self.check,
            "tier": self.tier,
            "rule": self.rule,
            "source": self.source,
            "evidence": self.evidence,
            "title": self.title,
            "message": self.message,
            "request": self.request,
            "response": self.response,
            "reproduce": self.reproduce,
        }


def _distinct(failures: list[AssertionError]) -> list[AssertionError]:
    """The failures less those breaking a rule an earlier one already broke (parts often find the same)."""
    seen, kept = set(), []
    for failure in failures:
        key = (getattr(failure, "operation", None), getattr(failure, "check", None), getattr(failure, "rule", None))
        if key[2] is None or key not in seen:
            seen.add(key)
            kept.append(failure)
    return kept


def judge_all(*parts: Callable[[], None]) -> None:
    """Run every part of one report cell's judgement; raise all their failures together.

    A cell (an operation and a check) is one test: its parts (e.g. valid, invalid
    and boundary requests) all run, so one failing part does not hide another.
    A part that cannot judge skips; the cell skips only when no part judged.
    """
    import pytest

    from .coverage import NotImplementedSkip

    failures: list[AssertionError] = []
    skips: list[str] = []
    lacking: list[NotImplementedSkip] = []  # parts that could not judge because the target lacks an operation
    for part in parts:
        try:
            part()
        except pytest.skip.Exception as skip:
            skips.append(str(skip.msg))
            if isinstance(skip, NotImplementedSkip):
                lacking.append(skip)
        except AssertionError as failure:
            failures.append(failure)
    failures = _distinct(failures)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup(f"{len(failures)} failures", failures)
    if skips and len(skips) == len(parts):
        reason = "; ".join(dict.fromkeys(skips))
        if lacking:
            raise NotImplementedSkip(lacking[0].operation, reason)
        pytest.skip(reason)


def _listed_at_fault(body, path) -> bool | frozenset:
    """The WorkSpace of a listing that holds the value at ``path`` (all of them when no item names one)."""
    found, node = None, body
    for part in path:
        if isinstance(node, dict) and isinstance(node.get("WorkspaceId"), str):
            found = node["WorkspaceId"]
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(node, dict) and isinstance(node.get("WorkspaceId"), str):
        found = node["WorkspaceId"]
    return frozenset([found]) if found else True


def failure(check: str, rule: str, title: str, message: str, *, exchange: Exchange | None = None,
            operation: str | None = None, listing: bool | frozenset | None = None,
            reproduce: str | None = None, request: dict | None = None, response: dict | None = None) -> CheckFailure:
    """The failure of ``check`` breaking ``rule``: the one way every failure of the suite is built.

    The rule's source, evidence and tier (the check's, unless the rule sets its
    own) are looked up from its id. With an ``exchange``, the failure carries its
    request, answer and reproduction; ``listing`` says which resources only the
    answer lists the reproduction makes anew (see :meth:`Exchange.reproduction`;
    by default all of them for checks of the body, none otherwise). Without one,
    give ``operation`` and, where there is a way to look again, ``reproduce``; a
    ``request`` and ``response`` recorded earlier (as report entries) may stand as evidence.
    """
    if check not in CHECKS:
        raise ValueError(f"Expected a declared check ({', '.join(CHECKS)}) but got check={check!r}")
    if exchange is None and operation is None:
        raise ValueError(f"Expected an exchange or an operation for a failure of {check} but got neither")
    citation = specs.cite(rule)
    exchange_text = ""
    if exchange is not None:
        request, response = exchange.request_for_report(), exchange.response.to_report()
        exchange_text = (f"Request: {json.dumps(request, default=str)[:2000]}\n"
                         f"Response: {exchange.response.describe()}")
        if reproduce is None:
            reproduce = exchange.reproduction(listing=CHECKS[check].judges_body if listing is None else listing)
    return CheckFailure(
        check=check, operation=operation or exchange.operation, title=title, message=message, rule=rule,
        source=citation.source, evidence=citation.evidence, tier=citation.tier or CHECKS[check].tier,
        request=request, response=response, reproduce=reproduce or "", exchange_text=exchange_text,
    )


def fail(check: str, rule: str, title: str, message: str, **where) -> NoReturn:
    """Raise the :func:`failure` built from these arguments."""
    __tracebackhide__ = True  # the failure is the target's, not a line of ours
    raise failure(check, rule, title, message, **where)


# --- the declarations ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Check:
    """A declared check: its name, the tier it counts in, what it judges, and (for exchange checks) its function."""

    name: str
    tier: str
    applies_to: str
    doc: str
    function: Callable[[Exchange], None] | None = None
    # Whether it judges what a successful body holds, so its reproduction rebuilds what the body lists.
    judges_body: bool = False
    # The conformance test module that judges it (exchange checks: every answer of test_exchanges).
    test: str = "test_exchanges"

    def __call__(self, exchange: Exchange) -> None:
        if self.function is None:
            raise TypeError(f"{self.name} is a behaviour check, judged by its own test, not on one exchange")
        self.function(exchange)


# Every check, in report order (the order of declaration).
CHECKS: dict[str, Check] = {}


def _declare(declared: Check) -> Check:
    if declared.tier not in TIERS:
        raise ValueError(f"Expected a tier of {TIERS} but got tier={declared.tier!r} for check {declared.name}")
    if declared.applies_to not in APPLIES_TO:
        raise ValueError(f"Expected applies_to in {APPLIES_TO} but got applies_to={declared.applies_to!r}")
    if declared.name in CHECKS and CHECKS[declared.name] != declared:
        raise ValueError(f"Expected one declaration of each check but got a second one of {declared.name}")
    if not declared.doc:
        raise ValueError(f"Expected a docstring saying what {declared.name} judges but got none")
    CHECKS[declared.name] = declared
    return declared


def check(tier: str, *, applies_to: str = "any", judges_body: bool = False):
    """Declare the decorated function as an exchange check: its name is the check's, its docstring says what it judges."""

    def declare(function: Callable[[Exchange], None]):
        doc = (function.__doc__ or "").strip().split("\n")[0]
        _declare(Check(function.__name__, tier, applies_to, doc, function, judges_body))
        return function

    return declare


def behaviour_check(name: str, tier: str, doc: str, *, test: str) -> Check:
    """Declare a check judged over several calls by the conformance test module ``test`` rather than on single exchanges."""
    return _declare(Check(name, tier, "behaviour", doc, test=test))


def exchange_checks(kind: str) -> list[str]:
    """The names of the exchange checks that judge answers to ``kind`` ("valid" or "invalid") requests."""
    if kind not in ("valid", "invalid"):
        raise ValueError(f"Expected kind='valid' or kind='invalid' but got kind={kind!r}")
    return [name for name, c in CHECKS.items() if c.applies_to in (kind, "any")]


def checks_table() -> str:
    """The Markdown table of every check (name, tier, what it judges), as the README shows it."""
    rows = ["| check | tier | what it judges |", "|---|---|---|"]
    rows += [f"| `{c.name}` | {c.tier} | {c.doc} |" for c in CHECKS.values()]
    return "\n".join(rows)


behaviour_check("implemented", "core", "The target implements the operation at all (unimplemented ones are left out "
                "of the scores).", test="test_coverage")


def _schema_rule(exchange: Exchange, error: jsonschema.ValidationError) -> str:
    """The rule id of an output-schema violation: the member's (list positions vary from answer to answer)."""
    location = _dotted(error.absolute_path, positions=False)
    return f"model.{exchange.operation}.output" + (f".{location}" if location else "")


def _shape_name(error: jsonschema.ValidationError, root: dict) -> str | None:
    """The model shape whose schema ``error`` broke, found by identity among the definitions."""
    if error.schema is root:
        return root.get("title")
    for name, schema in root.get("definitions", {}).items():
        if schema is error.schema:
            return name
    return None


def _dotted(path, positions: bool = True) -> str:
    """``Workspaces[0].State`` (or ``Workspaces[].State`` without positions)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]" if positions else "[]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _output_validators(output: dict) -> tuple[jsonschema.Draft7Validator, jsonschema.Draft7Validator]:
    """Validators of an output schema: one with enums, one without them."""
    with_enums = jsonschema.Draft7Validator(output)
    without = json.loads(json.dumps(output))
    for definition in without.get("definitions", {}).values():
        definition.pop("enum", None)
    return with_enums, jsonschema.Draft7Validator(without)


def _validators(operation: str) -> tuple[jsonschema.Draft7Validator, jsonschema.Draft7Validator]:
    """The output schema's validator with enums, and one without them, by the contract in force."""
    return _contract_validators(specs.model_info()["digest"], operation)


@functools.lru_cache(maxsize=None)
def _contract_validators(digest: str, operation: str):
    return _output_validators(specs.operation(operation)["output"])


def _newer_validators(operation: str):
    """Validators of the installed model's output where that model is newer than the contract, else None."""
    return _installed_validators(specs.model_info()["digest"], operation)


@functools.lru_cache(maxsize=None)
def _installed_validators(digest: str, operation: str):
    newer = specs.installed_operation(operation)
    return _output_validators(newer["output"]) if newer is not None else None


def _output_errors(operation: str, body, *, enums: bool) -> list[jsonschema.ValidationError]:
    """Output schema errors of ``body``, leaving out what a newer installed model allows.

    An error counts only where the newer model's schema (if any) also fails there, by
    the same keyword: a value only the newer model knows (an enum value, a member's
    new bounds) is not a deviation from the contract but the contract being behind.
    """
    which = 0 if enums else 1
    errors = list(_validators(operation)[which].iter_errors(body))
    newer = _newer_validators(operation)
    if errors and newer is not None:
        still = {(tuple(e.absolute_path), e.validator) for e in newer[which].iter_errors(body)}
        errors = [e for e in errors if (tuple(e.absolute_path), e.validator) in still]
    return errors


def _is_success(response: Response) -> bool:
    return 200 <= response.status < 300


# --- batch operations: one answer, an outcome per item of the request ------------------------


@dataclasses.dataclass(frozen=True)
class BatchShape:
    """How a batch operation's answer refers to the items of its request, as the model says."""

    items: str  # the request's list of items (StopWorkspaceRequests, Workspaces)
    echo: str | None  # the FailedRequests member repeating the whole item (WorkspaceRequest), if any
    key: str | None  # otherwise the member naming the item's resource in both (WorkspaceId)


def _definition(schema: dict, node) -> dict:
    """``node`` with a local ``$ref`` followed into ``schema``'s definitions."""
    ref = node.get("$ref", "") if isinstance(node, dict) else ""
    if ref.startswith("#/definitions/"):
        return schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1], {})
    return node if isinstance(node, dict) else {}


@functools.lru_cache(maxsize=None)
def batch_shape(operation: str) -> BatchShape | None:
    """The batch shape of ``operation`` if its output lists FailedRequests, else None."""
    spec = specs.operation(operation)
    output, request = spec["output"], spec["input"]
    failed = output.get("properties", {}).get("FailedRequests")
    if failed is None:
        return None
    entry = _definition(output, _definition(output, failed).get("items"))
    for name in request.get("required", []):
        listed = _definition(request, request.get("properties", {}).get(name))
        if listed.get("type") != "array":
            continue
        item_ref = (listed.get("items") or {}).get("$ref")
        for member, schema in entry.get("properties", {}).items():
            if item_ref and schema.get("$ref") == item_ref:
                return BatchShape(name, member, None)
        item = _definition(request, listed.get("items"))
        shared = [member for member in entry.get("properties", {}) if member in item.get("properties", {})]
        return BatchShape(name, None, shared[0] if shared else None)
    return None


@dataclasses.dataclass
class Holdings:
    """What the target held of the resources a batch request names, looked up just before it was sent.

    ``workspaces`` maps each named WorkspaceId that DescribeWorkspaces returned to
    that Workspace (a named id missing there was not held). For CreateWorkspaces,
    ``directories`` are the live directories among those named, ``bundles`` the
    live bundles as described ({} for one the target cannot describe), and
    ``listed`` the WorkSpaces each of those directories held.
    """

    workspaces: dict = dataclasses.field(default_factory=dict)
    directories: frozenset = frozenset()
    bundles: dict = dataclasses.field(default_factory=dict)
    listed: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A FailedRequests entry for an item no cited rule lets the target refuse, and the rule it breaks."""

    item: dict
    entry: dict
    rule: str
    why: str


def failed_entries(exchange: Exchange) -> list[dict]:
    """The FailedRequests entries of a successful batch answer."""
    body = exchange.response.json
    if not _is_success(exchange.response) or not isinstance(body, dict) or not isinstance(body.get("FailedRequests"), list):
        return []
    return [entry for entry in body["FailedRequests"] if isinstance(entry, dict)]


def batch_items(exchange: Exchange) -> list[dict]:
    """The items of a batch request, in order."""
    shape = batch_shape(exchange.operation)
    params = exchange.params if isinstance(exchange.params, dict) else {}
    listed = params.get(shape.items) if shape else None
    return [item for item in listed if isinstance(item, dict)] if isinstance(listed, list) else []


def unexplained_refusals(exchange: Exchange) -> list[Refusal]:
    """The FailedRequests entries of a batch answer that no rule of rules.json explains.

    An entry is explained by a resource the target did not hold (errors.not_found.*,
    errors.invalid_reference.create), a state or running mode the precondition
    forbids, a user who already has a WorkSpace (errors.already_exists.create), a
    documented limit or constraint. Items are judged only where the run knows
    enough: with the exchange's holdings, and in a settled state (a transitional
    one may have moved on before the request arrived).
    """
    shape = batch_shape(exchange.operation)
    failed = failed_entries(exchange)
    if shape is None or exchange.holdings is None or not failed:
        return []
    if shape.echo:
        return _creation_refusals(exchange, shape, failed)
    if shape.key:
        return _action_refusals(exchange, shape, failed)
    return []


def _action_refusals(exchange: Exchange, shape: BatchShape, failed: list[dict]) -> list[Refusal]:
    from strategies.lifecycle import model

    lifecycle, operation = model(), exchange.operation
    named = collections.Counter(item.get(shape.key) for item in batch_items(exchange))
    refused = collections.Counter(entry.get(shape.key) for entry in failed)
    out = []
    for workspace_id, count in named.items():
        # An id repeated in one request is in the action's transitional state after its first
        # item, so only a refusal of every item naming it can be judged.
        if not isinstance(workspace_id, str) or refused[workspace_id] < count:
            continue
        workspace = exchange.holdings.workspaces.get(workspace_id)
        if workspace is None:
            continue  # not held: errors.not_found.batch_action (or .terminate) lets it fail
        state = workspace.get("State")
        mode = (workspace.get("WorkspaceProperties") or {}).get("RunningMode")
        if state not in lifecycle.states or not lifecycle.is_settled(state):
            continue
        if not lifecycle.allows(operation, state, mode):
            continue  # the precondition explains the refusal
        edges = lifecycle.action_edges(operation, state, mode)
        rule = edges[0]["id"] if edges else lifecycle.precondition_rule(operation)
        entry = next(e for e in failed if e.get(shape.key) == workspace_id)
        where = state + (f" with running mode {mode}" if mode else "")
        out.append(Refusal({shape.key: workspace_id}, entry, rule,
                           f"{workspace_id} was {where} just before the request, which "
                           f"{lifecycle.precondition_rule(operation)} allows {operation} in"))
    return out


def _creation_refusals(exchange: Exchange, shape: BatchShape, failed: list[dict]) -> list[Refusal]:
    limit = specs.rule("errors.limit_exceeded.create")
    if any(entry.get("ErrorCode") in limit["codes"] for entry in failed):
        return []  # the account's quota of WorkSpaces, a documented limit, is reached
    holdings = exchange.holdings
    undefined = _undefined_user()
    taken = {directory: {str(w.get("UserName", "")).lower() for w in listed if isinstance(w, dict)}
             for directory, listed in holdings.listed.items()}
    groups: dict[tuple, list[tuple[dict, str | None]]] = {}
    for item in batch_items(exchange):
        excuse = _creation_excuse(exchange.operation, item, holdings, taken, undefined)
        groups.setdefault(_creation_key(item), []).append((item, excuse))
        user = item.get("UserName")
        if isinstance(user, str) and user != undefined:
            # A later item for the same user meets the WorkSpace this one may have made.
            taken.setdefault(item.get("DirectoryId"), set()).add(user.lower())
    refused = collections.Counter(_creation_key(entry.get(shape.echo)) for entry in failed)
    out = []
    for key, members in groups.items():
        owed = [item for item, excuse in members if excuse is None]
        if owed and refused[key] > len(members) - len(owed):
            entry = next(e for e in failed if _creation_key(e.get(shape.echo)) == key)
            item = owed[0]
            out.append(Refusal(item, entry, "edge.create",
                               f"the request names the live directory {item.get('DirectoryId')} and bundle "
                               f"{item.get('BundleId')}, user {item.get('UserName')!r} had no WorkSpace there, and "
                               "it breaks no constraint of rules.json, even with its bundle's defaults"))
    return out


def _creation_key(request) -> tuple:
    """What a FailedRequests entry's echo and the item it repeats agree on."""
    if not isinstance(request, dict):
        return (None, None, None)
    user = request.get("UserName")
    return (request.get("DirectoryId"), user.lower() if isinstance(user, str) else user, request.get("BundleId"))


def _undefined_user() -> str | None:
    for entry in specs.rules()["errors"]:
        undefined = (entry.get("parameters") or {}).get("undefined_user")
        if undefined:
            return undefined
    return None


def _creation_excuse(operation: str, item: dict, holdings: Holdings, taken: dict, undefined: str | None) -> str | None:
    """The rule that lets the target refuse to create ``item``, or None when it must create it."""
    directory, bundle, user = item.get("DirectoryId"), item.get("BundleId"), item.get("UserName")
    if directory not in holdings.directories or bundle not in holdings.bundles:
        return "errors.invalid_reference.create"
    if user != undefined and isinstance(user, str) and user.lower() in taken.get(directory, ()):
        return "errors.already_exists.create"
    return _broken_constraint(operation, item, holdings.bundles[bundle])


def _broken_constraint(operation: str, item: dict, bundle: dict) -> str | None:
    """The constraint rule an ``operation`` item breaks once its bundle's defaults fill in what it leaves out, if any."""
    from strategies import semantics

    given = item.get("WorkspaceProperties") if isinstance(item.get("WorkspaceProperties"), dict) else {}
    merged, unknown = {}, False
    for rule in specs.rules()["defaults"]:
        source = rule.get("value_from", "")
        for field in rule["fields"]:
            member = field.split(".", 1)[1] if field.startswith("WorkspaceProperties.") else None
            if member is None or member in given:
                continue
            if source.startswith("bundle."):
                value = bundle
                for part in source.split(".")[1:]:
                    value = value.get(part) if isinstance(value, dict) else None
                if isinstance(value, str) and value.isdigit():
                    value = int(value)
                if value is None:
                    unknown = True  # the bundle's value is not known to the run
                else:
                    merged[member] = value
            elif "value" in rule and rule.get("condition") == f"{member} omitted":
                merged[member] = rule["value"]
    merged.update(given)
    constraints = [entry for entry in specs.rules()["errors"]
                   if entry["kind"] == "constraint" and operation in (entry.get("operations") or ())
                   and entry["outcome"].startswith("failed_request")]
    if unknown and any(member in given for member in ("RootVolumeSizeGib", "UserVolumeSizeGib")):
        sizes = [entry["id"] for entry in constraints if "groups" in (entry.get("parameters") or {})]
        if sizes:
            return sizes[0]  # a size given alone is judged with the bundle's other size, unknown here
    broken = semantics.broken_rules(operation, {"Workspaces": [dict(item, WorkspaceProperties=merged)]})
    for entry in constraints:
        parameters = entry.get("parameters") or {}
        if entry["id"] in broken:
            return entry["id"]
        modes = parameters.get("applies_to_running_modes")
        if modes and parameters.get("member") in given and merged.get("RunningMode") not in modes:
            return entry["id"]
    return None


# --- exchange checks (declared in report order) ------------------------------------------------


@check("core")
def not_a_server_error(exchange: Exchange) -> None:
    """No request, valid or not, earns a 5xx: invalid input is refused with a 4xx, valid input served."""
    if exchange.response.status >= 500:
        fail("not_a_server_error", "errors.server_error", f"Server error HTTP {exchange.response.status}",
             "The target answered with a server error. Invalid input must be rejected with a 4xx "
             "client error and valid input served; a 5xx is never a conformant answer.", exchange=exchange)


@check("core", applies_to="valid", judges_body=True)
def response_schema(exchange: Exchange) -> None:
    """A successful answer is a JSON object valid against the operation's output schema (enums aside)."""
    response = exchange.response
    if not _is_success(response):
        return
    body = response.json
    if body is NOT_JSON and response.body.strip() == b"":
        body = {}  # an empty body of an operation without output is tolerated below
        if specs.operation(exchange.operation)["output"].get("properties"):
            fail("response_schema", f"model.{exchange.operation}.output", "Empty success body",
                 "A successful response must carry a JSON object.", exchange=exchange)
    if body is NOT_JSON:
        fail("response_schema", f"model.{exchange.operation}.output", "Success body is not JSON",
             "A successful awsJson1_1 response must be a JSON object.", exchange=exchange)
    errors = sorted(_output_errors(exchange.operation, body, enums=False), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        details = "\n".join(f"- at {_dotted(e.absolute_path) or '<body>'}: {e.message[:300]}" for e in errors[:10])
        fail("response_schema", _schema_rule(exchange, first),
             f"Response does not match the output schema at {_dotted(first.absolute_path) or '<body>'}",
             f"{len(errors)} schema violation(s) in the response:\n{details}",
             exchange=exchange, listing=_listed_at_fault(body, first.absolute_path))


@check("core", applies_to="valid", judges_body=True)
def response_enum(exchange: Exchange) -> None:
    """Every enum member of a successful answer holds one of the model's values."""
    response = exchange.response
    if not _is_success(response) or not isinstance(response.json, dict):
        return
    with_enums, _ = _validators(exchange.operation)
    errors = [e for e in _output_errors(exchange.operation, response.json, enums=True) if e.validator == "enum"]
    if errors:
        first = errors[0]
        shape = _shape_name(first, with_enums.schema) or "model"
        fail("response_enum", _schema_rule(exchange, first),
             f"Value outside the {shape} enum at {_dotted(first.absolute_path)}",
             f"{first.instance!r} is not one of {first.validator_value}.",
             exchange=exchange, listing=_listed_at_fault(response.json, first.absolute_path))


@check("core")
def error_shape(exchange: Exchange) -> None:
    """An error is an AWS JSON error: a JSON object with `__type` and a message, at its modelled HTTP status."""
    response = exchange.response
    if response.status < 400 or response.status >= 500:
        return
    body = response.json
    problems = []
    if not isinstance(body, dict):
        problems.append("the body is not a JSON object")
    else:
        if not isinstance(body.get("__type"), str) or not body.get("__type"):
            problems.append("it has no `__type` string")
        if not isinstance(body.get("message", body.get("Message")), str):
            problems.append("it has no `message` string")
    if problems:
        fail("error_shape", "errors.error_shape", "Malformed AWS JSON error",
             "An awsJson1_1 error body must be a JSON object with `__type` and `message`; "
             + " and ".join(problems) + ".", exchange=exchange)
    modelled = {error["code"]: error for error in exchange.spec["errors"]}
    error = modelled.get(response.error_code)
    if error is not None and response.status != error["http_status"]:
        fail("error_shape", f"model.{exchange.operation}.errors.{response.error_code}",
             f"{response.error_code} with HTTP {response.status}",
             f"The model declares {response.error_code} with HTTP {error['http_status']}, "
             f"but the target sent HTTP {response.status}.", exchange=exchange)


@check("strict")
def content_type(exchange: Exchange) -> None:
    """Answers declare the awsJson1_1 content type."""
    declared = exchange.response.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if media not in JSON_CONTENT_TYPES:
        fail("content_type", "errors.error_shape", f"Content-Type {declared or '<none>'!r}",
             f"An awsJson1_1 response must declare Content-Type {JSON_CONTENT_TYPES[0]}.", exchange=exchange)


@check("complete", applies_to="valid")
def positive_data_acceptance(exchange: Exchange) -> None:
    """A request valid by schema and rules is served, or refused only with a modelled error (item by item in batches).

    A batch answer (HTTP 200 with FailedRequests) refuses item by item: each refused
    item needs a rule of rules.json that lets the target refuse it (see
    :func:`unexplained_refusals`); an item naming only live resources whose states
    allow the action must come back pending or done.
    """
    response = exchange.response
    if _is_success(response):
        _judge_items(exchange)
        return
    if not 400 <= response.status < 500:
        return
    code = response.error_code
    modelled = {error["code"] for error in exchange.spec["errors"]}
    if code in modelled or code in THROTTLING_CODES:
        return
    if code and exchange.unknown_references():
        # How AWS refuses a well-formed id that exists nowhere is undocumented: any
        # well-formed AWS error will do (error_shape judges the form).
        return
    fail("positive_data_acceptance", f"model.{exchange.operation}.input",
         f"Valid request rejected with {code or 'HTTP ' + str(response.status)}",
         "The request satisfies the input schema and every documented rule, yet the target rejected it "
         f"with an error the operation does not model (modelled: {sorted(modelled) or 'none'}).", exchange=exchange)


def _judge_items(exchange: Exchange) -> None:
    """Fail ``exchange`` if its batch answer refused an item no rule lets the target refuse."""
    refusals = unexplained_refusals(exchange)
    if not refusals:
        return
    first = refusals[0]
    shape = batch_shape(exchange.operation)
    listed = "\n".join(f"- {json.dumps(r.item, default=str)[:300]} failed with {r.entry.get('ErrorCode')!r}: "
                       f"{str(r.entry.get('ErrorMessage', ''))[:200]} ({r.why})" for r in refusals[:5])
    fail("positive_data_acceptance", first.rule,
         f"Valid {shape.items} item reported failed ({first.entry.get('ErrorCode') or 'no code'})",
         f"The target answered HTTP {exchange.response.status} but listed {len(refusals)} item(s) of a valid request "
         f"in FailedRequests although no rule lets it refuse them; by {first.rule} they must come back pending or "
         f"done:\n{listed}", exchange=exchange)


def violation_rule(violation) -> str:
    """The rule id an invalid request breaks: its own, or the model's input constraint of its kind."""
    return getattr(violation, "rule", None) or f"model.input.{getattr(violation, 'kind', 'invalid')}"


@check("complete", applies_to="invalid")
def negative_data_rejection(exchange: Exchange) -> None:
    """An invalid request (one that breaks exactly one constraint) is rejected: a 2xx means the target accepted it."""
    if exchange.response.status >= 400:
        return
    violation = exchange.violation
    fail("negative_data_rejection", violation_rule(violation),
         f"Invalid request accepted ({violation.kind} at {violation.path or '<body>'})",
         f"The request breaks exactly one constraint ({violation.kind}: {violation.note}) and must be "
         f"rejected with HTTP 400, but the target answered HTTP {exchange.response.status}.", exchange=exchange)


@check("strict", applies_to="invalid")
def error_code(exchange: Exchange) -> None:
    """An invalid request earns the error code (and HTTP status) rules.json names for its kind of violation."""
    response = exchange.response
    if response.status < 400 or response.status >= 500 or response.error_code is None:
        return
    violation = exchange.violation
    if _unattributable_not_found(exchange):
        return
    expected = expected_codes(exchange.operation, violation)
    if response.error_code in expected["codes"]:
        if response.status == expected["http_status"]:
            return
        fail("error_code", expected["rule"], f"{response.error_code} with HTTP {response.status}",
             f"{response.error_code} is sent with HTTP {expected['http_status']}.", exchange=exchange)
    fail("error_code", expected["rule"], f"Wrong error code {response.error_code} for {violation.kind}",
         f"A {violation.kind} violation at {violation.path or '<body>'} must earn one of "
         f"{expected['codes']}, but the target answered {response.error_code}.", exchange=exchange)




def _unattributable_not_found(exchange: Exchange) -> bool:
    """A rule about a resource cannot be judged on a resource that does not exist.

    Semantic rules (tags on a resource, properties of a WorkSpace) may be
    checked after the resource is looked up, and AWS does not say which comes
    first: a "not found" answer, or any refusal of a request that names an
    unknown resource, is fair.
    """
    rule = getattr(exchange.violation, "rule", None) or ""
    if not rule or rule in specs.schema_rule_ids():
        return False  # the request itself is malformed, whatever it names
    return "NotFound" in (exchange.response.error_code or "") or bool(exchange.unknown_references())


def expected_codes(operation: str, violation) -> dict:
    """The acceptable error codes and HTTP status for a violation, with the rule naming them."""
    rule_id = getattr(violation, "rule", None)
    if rule_id:
        entry = specs.rule(rule_id)
        codes = entry.get("codes") or entry.get("refusal", {}).get("codes")
        if codes:
            # Filter and tag rules fail the call as a whole, with HTTP 400, and say no status.
            return {"codes": list(codes), "http_status": entry.get("http_status", 400),
                    "rule": rule_id, "source": entry["source"]}
    entry = specs.error_rule(violation.kind) or specs.error_rule("wrong_type")
    return {"codes": list(entry["codes"]), "http_status": entry["http_status"],
            "rule": entry["id"], "source": entry["source"]}


# --- behaviour checks (declared after the exchange checks: the report's order) ------------------

_BEHAVIOUR_CHECKS = (  # name, the conformance test module judging it, what it judges; all of the complete tier
    ("state_precondition", "test_lifecycle",
     "An action on a WorkSpace in a state its cited precondition forbids is refused; one it allows is not."),
    ("state_transition", "test_lifecycle",
     "Observed state sequences follow the state graph, and batch answers agree with what polls show."),
    ("async_completion", "test_lifecycle",
     "An action's transitional state settles in its documented target state within the deadline."),
    ("use_after_terminate", "test_lifecycle",
     "A terminated WorkSpace is gone: listings drop it and actions on it are refused as documented."),
    ("pagination", "test_pagination",
     "Paginated listings return every item exactly once, honour page sizes and refuse bad tokens."),
    ("tags", "test_tags",
     "Tags are created, listed, overwritten and deleted as documented, within the documented limits."),
    ("filters", "test_filters",
     "Listing filters return exactly the requested resources and refuse documented combinations."),
    ("client_features", "test_client_features",
     "boto3's client features work against the target: can_paginate, paginators, waiters, presigned URLs."),
)
for _name, _test, _doc in _BEHAVIOUR_CHECKS:
    behaviour_check(_name, "complete", _doc, test=_test)
