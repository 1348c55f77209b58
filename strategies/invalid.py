"""Invalid requests, each breaking exactly one constraint, labelled so a rejection can be attributed.

Every example starts from a valid request and breaks one thing: a schema
constraint at one site (kind, dotted path, the JSON Schema keyword that must
fail), a request-level rule of rules.json (kind and rule id; the request
still validates against the schema), or the body itself (not JSON, empty,
not an object). ``raw`` says when boto3 cannot send the params as they are
and the raw sender must send ``body``. Which kind a failed JSON Schema keyword
is, and which rule it breaks, rules.json's ``errors`` entries say
(:func:`specs.violation_kind`); boundary cases are labelled the same way
(:func:`schema_violation`, :func:`rule_violation`).
"""
from __future__ import annotations

import functools
import json
import random
import weakref
from dataclasses import dataclass

from hypothesis import strategies as st

import specs

from . import semantics, wire
from .identifiers import ResourcePool
from .patterns import pattern as compile_pattern
from .requests import SEEDS, compiler as get_compiler
from .schema import INT32, ITEM, VALUE, Site, dotted, node_of, sites

__all__ = [
    "InvalidRequest", "Violation", "invalid_requests", "violation_kinds", "mutations",
    "schema_violation", "rule_violation", "SCHEMA_KINDS", "BODY_KINDS",
]

SCHEMA_KINDS = (
    "missing_required", "wrong_type", "null_member", "enum_violation", "too_short",
    "too_long", "pattern_mismatch", "too_few_items", "too_many_items",
    "below_minimum", "above_maximum",
)
BODY_KINDS = ("malformed_json", "empty_body")
# Kinds sent raw whatever botocore would do with them: the brief of the raw
# sender is to put exactly these bytes on the wire.
ALWAYS_RAW = {"null_member", "malformed_json", "empty_body"}
# Kinds of ours that are special cases of an error kind of rules.json: a member sent as null
# has the wrong type, an empty body is no JSON.
_COUNTS_AS = {"null_member": "wrong_type", "empty_body": "malformed_json"}
# Values of each JSON type, for wrong_type: one per type that is not the expected one.
_TYPED = {
    "string": "not-a-number", "integer": 7, "number": 1.5, "boolean": True,
    "array": ["x"], "object": {"x": "y"},
}
_WRONG_FOR = {
    "string": ("integer", "boolean", "array", "object"),
    "integer": ("string", "number", "boolean", "array", "object"),
    "number": ("string", "boolean", "array", "object"),
    "boolean": ("string", "integer", "array", "object"),
    "array": ("string", "integer", "object"),
    "object": ("string", "integer", "array"),
}
_MALFORMED = (b'{"', b"not json", b"{'single': 'quotes'}", b'{"a": 1,}', b"\xff\xfe")


@dataclass(frozen=True)
class Violation:
    """What an invalid request breaks: kind, dotted path, failing keyword, rules.json id."""

    kind: str
    path: str
    keyword: str | None
    rule: str | None
    note: str


@dataclass(frozen=True)
class InvalidRequest:
    """A request that breaks exactly one constraint, with the bytes to send."""

    operation: str
    params: object
    raw: bool
    body: bytes
    violation: Violation


def _error_rule(kind: str) -> str | None:
    """The rules.json ``errors`` id a schema or body violation of ``kind`` breaks (None when none names it)."""
    entry = specs.error_rule(_COUNTS_AS.get(kind, kind))
    return entry["id"] if entry else None


def _keyword(kind: str) -> str:
    """The JSON Schema keyword a schema violation of ``kind`` fails, as its errors entry names it."""
    return specs.error_rule(_COUNTS_AS.get(kind, kind))["keyword"]


def schema_violation(keyword: str, path: str, note: str) -> Violation:
    """The violation of a request failing the JSON Schema ``keyword`` at ``path``: the kind and rule rules.json name."""
    kind = specs.violation_kind(keyword)
    if kind is None:
        raise ValueError(f"Expected a JSON Schema keyword an errors entry of rules.json names "
                         f"but got keyword={keyword!r}")
    return Violation(kind, path, keyword, _error_rule(kind), note)


def rule_violation(rule_id: str, path: str, note: str) -> Violation:
    """The violation of a schema-valid request breaking the request-level rule ``rule_id``; its kind is the rule's."""
    return Violation(specs.rule(rule_id)["kind"], path, None, rule_id, note)


# -- sources of valid values ---------------------------------------------------
class _DrawSource:
    """Valid values and choices drawn by Hypothesis."""

    def __init__(self, draw, compiler):
        self.draw, self.c = draw, compiler
        self.rng = random.Random(draw(SEEDS))

    def valid(self, steps):
        return self.draw(self.c.at(tuple(steps)))

    def valid_list(self, steps, size: int):
        return self.draw(_exact_lists(self.c, tuple(steps), size))

    def choice(self, options):
        # Options are picked by index from a cached strategy: a new strategy
        # per draw costs Hypothesis a validation and an emptiness check each time.
        options = list(options)
        return options[self.draw(_index(len(options)))]


@functools.lru_cache(maxsize=None)
def _index(count: int) -> st.SearchStrategy[int]:
    if count < 1:
        raise ValueError(f"Expected at least one option to choose from but got count={count}")
    return st.integers(0, count - 1)


_LISTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _exact_lists(compiler, steps, size: int) -> st.SearchStrategy[list]:
    """Lists of exactly ``size`` valid items for the list item site ``steps`` (cached per compiler)."""
    cache = _LISTS.setdefault(compiler, {})
    key = (tuple((step.segment, step.node.shape) for step in steps), size)
    found = cache.get(key)
    if found is None:
        items = compiler.at(steps)
        unique = {"unique_by": lambda t: t.get("Key")} if steps[-2].segment == "Tags" else {}
        found = cache[key] = st.lists(items, min_size=size, max_size=size, **unique)
    return found


# -- materialising a site inside a request -------------------------------------
def materialise(src, params: dict, steps) -> tuple[object, object, list]:
    """Make the containers on the way to ``steps`` exist; return (container, key, segments)."""
    container: object = params
    segments: list = []
    for i, step in enumerate(steps[:-1]):
        container = _enter(src, container, step, steps[: i + 1], segments)
    if not steps:
        return None, None, segments
    last = steps[-1]
    if last.segment == ITEM:
        if not container:
            container.append(src.valid(steps))
        index = src.rng.randrange(len(container))
        segments.append(index)
        return container, index, segments
    if last.segment == VALUE:
        if not container:
            container[_map_key(src, steps)] = src.valid(steps)
        key = sorted(container)[0]
        segments.append(key)
        return container, key, segments
    if last.parent.schema.get("maxProperties") == 1:
        for other in [k for k in container if k != last.segment]:
            del container[other]
    segments.append(last.segment)
    return container, last.segment, segments


def _map_key(src, steps):
    parent = steps[-1].parent
    key_schema = parent.schema.get("propertyNames", {"type": "string"})
    node = node_of(src.c.contract, key_schema)
    anchored = node.schema.get("pattern")
    if anchored:
        return compile_pattern(anchored).build(
            compile_pattern(anchored).lengths_between(node.schema.get("minLength", 1), None, 1)[0],
            src.rng)
    return "key"


def _enter(src, container, step, prefix, segments):
    if step.segment == ITEM:
        if not container:
            container.append(src.valid(prefix))
        index = src.rng.randrange(len(container))
        segments.append(index)
        return container[index]
    if step.segment == VALUE:
        if not container:
            container[_map_key(src, prefix)] = src.valid(prefix)
        key = sorted(container)[0]
        segments.append(key)
        return container[key]
    if step.segment not in container:
        if step.parent.schema.get("maxProperties") == 1:
            container.clear()
        container[step.segment] = src.valid(prefix)
    segments.append(step.segment)
    return container[step.segment]


def _repair(src, contract: specs.OperationContract, params: dict, steps, keep_parent=None) -> None:
    """Restore the request-level rules around a changed site (the site itself is kept)."""
    rules = semantics.for_operation(contract)
    if steps:
        top = steps[0].segment
        for rule in rules.exclusive:
            if top in rule.members:
                for other in rule.members:
                    if other != top:
                        params.pop(other, None)
        for _ in range(3):
            for rule in rules.requires:
                if rule.member in params and rule.required not in params:
                    if rule.member == top:
                        prefix = [s for s in sites(contract)
                                  if len(s.steps) == 1 and s.top_member == rule.required]
                        params[rule.required] = src.valid(prefix[0].steps)
                        for ex in rules.exclusive:
                            if rule.required in ex.members:
                                for other in ex.members:
                                    if other not in (rule.required,):
                                        params.pop(other, None)
                    else:
                        del params[rule.member]
    member = steps[-1].segment if steps else None
    obj = keep_parent
    if not isinstance(obj, dict):
        return
    R, U, C = semantics.ROOT, semantics.USER, semantics.COMPUTE
    if rules.volume_and_compute and member in (R, U, C):
        for other in (R, U, C):
            if other != member:
                obj.pop(other, None)
    if rules.undefined_user and {"UserName", "DirectoryId"} <= set(obj) | {member}:
        if member == "UserName":
            obj.pop("WorkspaceName", None)
        elif member == "WorkspaceName":
            obj["UserName"] = rules.undefined_user[1]


# -- mutations -----------------------------------------------------------------
@dataclass(frozen=True)
class Mutation:
    """One way to break one thing of an operation's requests."""

    kind: str
    site: Site
    keyword: str | None
    rule: str | None
    maker: str          # name of the method of _Makers that builds it
    arg: object = None

    def template(self) -> str:
        return self.site.template()


def _string_lengths(c, site) -> tuple[int, int | None, object]:
    node = site.node
    anchored = c.string_pattern(site.steps, node)
    return (node.schema.get("minLength", 0), node.schema.get("maxLength"),
            compile_pattern(anchored) if anchored else None)


def mutations(operation: str | specs.OperationContract) -> tuple[Mutation, ...]:
    """Every feasible single violation of ``operation``'s requests (a name or its contract), schema and rules."""
    return _mutations(specs.contract(operation))


@functools.lru_cache(maxsize=None)
def _mutations(contract: specs.OperationContract) -> tuple[Mutation, ...]:
    c = get_compiler(contract)
    out: list[Mutation] = []
    for site in sites(contract):
        out.extend(_site_mutations(c, site))
    out.extend(_semantic_mutations(c))
    for kind in BODY_KINDS:
        # Whether a server reads an empty body as {} is undocumented: it counts as
        # invalid only where {} is invalid too.
        if kind == "empty_body" and not contract.input.get("required"):
            continue
        out.append(Mutation(kind, Site(()), None, _error_rule(kind), kind))
    return tuple(out)


def _site_mutations(c, site: Site):
    node = site.node
    if node is None:  # the body: not an object
        yield Mutation("wrong_type", site, _keyword("wrong_type"), _error_rule("wrong_type"), "wrong_type")
        return
    schema = node.schema
    kind = node.type

    def m(k, maker=None, arg=None):
        return Mutation(k, site, _keyword(k), _error_rule(k), maker or k, arg)

    yield m("wrong_type")
    if site.member is not None:
        yield m("null_member")
        if site.member in site.steps[-1].parent.schema.get("required", ()):
            yield m("missing_required")
    if kind == "string" and not node.is_blob():
        if "enum" in schema:
            yield m("enum_violation")
            return
        low, high, pat = _string_lengths(c, site)
        if low > 0 and (pat is None or pat.shorter_than(low) is not None):
            yield m("too_short")
        if high is not None and (pat is None or pat.longer_than(high) is not None):
            yield m("too_long")
        if schema.get("pattern"):
            probe = compile_pattern(schema["pattern"])
            lengths = probe.lengths_between(low, high, limit=4) or list(range(low, low + 4))
            if any(probe.mismatch(n, random.Random(n)) is not None for n in lengths):
                yield m("pattern_mismatch")
    elif kind == "string" and node.is_blob():
        low, high, pat = _string_lengths(c, site)
        if high is not None and pat is not None and pat.longer_than(high) is not None:
            yield m("too_long")
        if schema.get("pattern"):
            yield m("pattern_mismatch")
    elif kind == "integer":
        if "minimum" in schema and schema["minimum"] > INT32[0] - 1:
            yield m("below_minimum")
        if "maximum" in schema:
            yield m("above_maximum")
    elif kind == "array":
        if schema.get("minItems", 0) > 0:
            yield m("too_few_items")
        if "maxItems" in schema:
            yield m("too_many_items")


def _semantic_mutations(c):
    rules = c.rules
    all_sites = sites(c.contract)
    top = {s.top_member: s for s in all_sites if len(s.steps) == 1}
    for rule in rules.exclusive:
        pairs = [(a, b) for i, a in enumerate(rule.members) for b in rule.members[i + 1:]
                 if a in top and b in top]
        # A pair breaks every exclusive rule containing both members; keep the
        # pairs for which this rule is the widest such rule's own (attributable).
        own = [p for p in pairs if _owner(rules, p) == rule.rule]
        if own:
            yield Mutation("exclusive", Site(()), None, rule.rule, "exclusive", tuple(own))
    for rule in rules.requires:
        if rule.member in top and rule.required in top:
            yield Mutation("requires", top[rule.member], None, rule.rule, "requires",
                           rule.required)
    for rule in rules.max_requests:
        site = top.get(rule.member)
        # Only when the schema still allows max + 1 items: otherwise the
        # schema's maxItems already says it (too_many_items).
        if site and rule.max < site.node.schema.get("maxItems", float("inf")):
            yield Mutation("max_requests", site, None, rule.rule, "max_requests", rule.max)
    tag_lists = [s for s in all_sites if s.member == "Tags" and s.node.type == "array"]
    if rules.max_tags:
        for site in tag_lists:
            yield Mutation("max_tags", site, None, rules.max_tags[0], "max_tags", rules.max_tags[1])
    for site in all_sites:
        role = semantics.tag_role(site.steps)
        if not role:
            continue
        if rules.tag_characters and role in rules.tag_characters_applies:
            yield Mutation("characters", site, None, rules.tag_characters[0], "characters")
        if rules.reserved_prefix and role in rules.reserved_applies:
            yield Mutation("reserved_prefix", site, None, rules.reserved_prefix[0],
                           "reserved_prefix")
    for site in all_sites:
        member = site.member
        if rules.auto_stop_step and member == rules.auto_stop_step[1]:
            yield Mutation("constraint", site, None, rules.auto_stop_step[0], "auto_stop")
        if rules.forbidden_value and member == rules.forbidden_value[1]:
            if rules.forbidden_value[2] in site.node.schema.get("enum", ()):
                yield Mutation("constraint", site, None, rules.forbidden_value[0], "forbidden")
        if site.node is not None and site.node.type == "object":
            props = site.node.schema.get("properties", {})
            if rules.volume_groups and semantics.ROOT in props and semantics.USER in props:
                yield Mutation("constraint", site, None, rules.volume_groups[0], "volumes")
                if rules.volume_and_compute and semantics.COMPUTE in props:
                    yield Mutation("constraint", site, None, rules.volume_and_compute,
                                   "volume_and_compute")
            if rules.undefined_user and {"UserName", "DirectoryId", "WorkspaceName"} <= set(props):
                yield Mutation("constraint", site, None, rules.undefined_user[0], "named_user")


def _owner(rules, pair) -> str:
    holders = [r for r in rules.exclusive if set(pair) <= set(r.members)]
    return min(holders, key=lambda r: len(r.members)).rule


def violation_kinds(operation: str | specs.OperationContract) -> set[str]:
    """The violation kinds the model's constraints and the rules allow for ``operation`` (a name or its contract)."""
    return {m.kind for m in mutations(operation)}


# -- building one invalid request ----------------------------------------------
def build(src, mutation: Mutation, base: dict) -> InvalidRequest:
    """Break ``base`` (a valid request) by ``mutation``; ``src`` supplies valid values and the contract."""
    contract = src.c.contract
    params = json.loads(json.dumps(base))  # a deep copy that is surely JSON
    maker = getattr(_Makers, mutation.maker)
    params, segments, note = maker(src, contract, mutation, params)
    path = dotted(segments) if segments is not None else ""
    violation = Violation(mutation.kind, path, mutation.keyword, mutation.rule, note)
    if mutation.kind in ("malformed_json", "empty_body"):
        body = params
        return InvalidRequest(contract.name, None, True, body, violation)
    raw = mutation.kind in ALWAYS_RAW or not wire.boto3_sends_exactly(contract.name, params)
    return InvalidRequest(contract.name, params, raw, wire.encode(params), violation)


def _put(src, contract, mutation, params, value_fn):
    steps = mutation.site.steps
    container, key, segments = materialise(src, params, steps)
    value, note = value_fn(container[key] if _has(container, key) else None)
    container[key] = value
    _repair(src, contract, params, steps, container)
    return params, segments, note


def _has(container, key) -> bool:
    if isinstance(container, list):
        return 0 <= key < len(container)
    return key in container


def _text(src, c, site, length: int) -> str | None:
    low, high, pat = _string_lengths(c, site)
    if pat is not None:
        value = pat.build(length, src.rng)
    else:
        value = "".join(src.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(min(length, 64)))
        if length > 64:
            value = (value * (length // len(value) + 1))[:length] if value else "a" * length
    if value is not None:
        value = c.avoid_reserved(site.steps, value)
    return value


class _Makers:
    """Builders of each mutation: (src, contract, mutation, params) -> (params, segments, note)."""

    @staticmethod
    def wrong_type(src, contract, mutation, params):
        node = mutation.site.node
        if node is None:
            value = src.choice([["not", "an", "object"], "body", 42, True])
            return value, [], f"body is {type(value).__name__}, not an object"
        wrong = src.choice(_WRONG_FOR[node.type])

        def value(_):
            return _TYPED[wrong], f"{wrong} where {node.type} belongs"
        return _put(src, contract, mutation, params, value)

    @staticmethod
    def null_member(src, contract, mutation, params):
        return _put(src, contract, mutation, params, lambda _: (None, "member sent as null"))

    @staticmethod
    def missing_required(src, contract, mutation, params):
        steps = mutation.site.steps
        container, key, segments = materialise(src, params, steps)
        container.pop(key, None)
        _repair(src, contract, params, steps[:-1] if len(steps) > 1 else (), None)
        return params, segments, f"required member {key} left out"

    @staticmethod
    def enum_violation(src, contract, mutation, params):
        enum = mutation.site.node.schema["enum"]
        value = src.choice(enum)
        candidates = [v for v in (value.lower(), value + " ", "X" + value, value + "_X")
                      if v not in enum]
        chosen = src.choice(candidates)
        return _put(src, contract, mutation, params, lambda _: (chosen, f"{chosen!r} is not in the enum"))

    @staticmethod
    def too_short(src, contract, mutation, params):
        c, site = src.c, mutation.site
        low, _, pat = _string_lengths(c, site)
        length = low - 1 if pat is None else pat.shorter_than(low)
        value = _text(src, c, site, length)
        return _put(src, contract, mutation, params,
                    lambda _: (value, f"length {length} < minLength {low}"))

    @staticmethod
    def too_long(src, contract, mutation, params):
        c, site = src.c, mutation.site
        _, high, pat = _string_lengths(c, site)
        if pat is None:
            length = high + 1 + src.rng.choice([0, 0, 1, 7])
        else:
            length = pat.longer_than(high)
        value = _text(src, c, site, length)
        return _put(src, contract, mutation, params,
                    lambda _: (value, f"length {length} > maxLength {high}"))

    @staticmethod
    def pattern_mismatch(src, contract, mutation, params):
        node = mutation.site.node
        low, high = node.schema.get("minLength", 0), node.schema.get("maxLength")
        pat = compile_pattern(node.schema["pattern"])
        lengths = pat.lengths_between(low, high, limit=8) or list(range(max(low, 1), max(low, 1) + 4))
        for length in [src.choice(lengths)] + lengths:
            value = pat.mismatch(length, src.rng)
            if value is not None:
                break
        return _put(src, contract, mutation, params,
                    lambda _: (value, f"{value[:40]!r} does not match the pattern"))

    @staticmethod
    def _items(src, contract, mutation, params, size, note):
        steps = mutation.site.steps
        item_steps = steps + (_item_step(contract, steps),)
        items = src.valid_list(item_steps, size) if size else []
        return _put(src, contract, mutation, params, lambda _: (items, note))

    @staticmethod
    def too_few_items(src, contract, mutation, params):
        low = mutation.site.node.schema["minItems"]
        return _Makers._items(src, contract, mutation, params, low - 1, f"{low - 1} items < minItems {low}")

    @staticmethod
    def too_many_items(src, contract, mutation, params):
        high = mutation.site.node.schema["maxItems"]
        return _Makers._items(src, contract, mutation, params, high + 1,
                              f"{high + 1} items > maxItems {high}")

    @staticmethod
    def below_minimum(src, contract, mutation, params):
        low = mutation.site.node.schema["minimum"]
        value = low - src.choice([1, 1, 2, 100])
        return _put(src, contract, mutation, params, lambda _: (value, f"{value} < minimum {low}"))

    @staticmethod
    def above_maximum(src, contract, mutation, params):
        high = mutation.site.node.schema["maximum"]
        value = high + src.choice([1, 1, 2, 100])
        return _put(src, contract, mutation, params, lambda _: (value, f"{value} > maximum {high}"))

    @staticmethod
    def malformed_json(src, contract, mutation, params):
        body = src.choice(_MALFORMED)
        return body, [], f"body {body[:20]!r} is not JSON"

    @staticmethod
    def empty_body(src, contract, mutation, params):
        return b"", [], "empty body"

    # -- semantic ------------------------------------------------------------
    @staticmethod
    def exclusive(src, contract, mutation, params):
        a, b = src.choice(mutation.arg)
        top = {s.top_member: s for s in sites(contract) if len(s.steps) == 1}
        rule = next(r for r in src.c.rules.exclusive if r.rule == mutation.rule)
        for other in rule.members:
            params.pop(other, None)
        for member in (a, b):
            params[member] = src.valid(top[member].steps)
        for req in src.c.rules.requires:
            if req.member in params and req.required not in params:
                del params[req.member]
        return params, None, f"{a} and {b} together"

    @staticmethod
    def requires(src, contract, mutation, params):
        required = mutation.arg
        member = mutation.site.top_member
        params.pop(required, None)
        params[member] = src.valid(mutation.site.steps)
        return params, [member], f"{member} without {required}"

    @staticmethod
    def max_requests(src, contract, mutation, params):
        steps = mutation.site.steps
        size = mutation.arg + 1
        items = src.valid_list(steps + (_item_step(contract, steps),), size)
        params[steps[0].segment] = items
        return params, [steps[0].segment], f"{size} requests, at most {mutation.arg}"

    @staticmethod
    def max_tags(src, contract, mutation, params):
        steps = mutation.site.steps
        container, key, segments = materialise(src, params, steps)
        tags = []
        for i in range(mutation.arg + 1):
            tags.append({"Key": f"key-{i}-{src.rng.randrange(10**6)}", "Value": f"v{i}"})
        container[key] = tags
        return params, segments, f"{len(tags)} tags, at most {mutation.arg}"

    @staticmethod
    def characters(src, contract, mutation, params):
        bad = src.choice(["#", "!", "%", "&", "*", "<", ">", "?"])

        def value(current):
            text = current if isinstance(current, str) and current else "tag"
            if src.rng.random() < 0.2:
                return (" " + text)[:127] if len(text) < 127 else " " + text[:-1], "leading space"
            index = src.rng.randrange(len(text))
            return text[:index] + bad + text[index + 1:], f"{bad!r} is not an allowed tag character"
        return _put(src, contract, mutation, params, value)

    @staticmethod
    def reserved_prefix(src, contract, mutation, params):
        prefix = src.c.rules.reserved_prefix[1]

        def value(current):
            rest = current if isinstance(current, str) else "name"
            text = (prefix + rest.strip())[:127]
            return text, f"starts with the reserved prefix {prefix!r}"
        return _put(src, contract, mutation, params, value)

    @staticmethod
    def auto_stop(src, contract, mutation, params):
        step = src.c.rules.auto_stop_step[2]
        value = src.choice([step + 1, step // 2, step * 2 - 1, 0])
        return _put(src, contract, mutation, params,
                    lambda _: (value, f"{value} is not a positive multiple of {step}"))

    @staticmethod
    def forbidden(src, contract, mutation, params):
        value = src.c.rules.forbidden_value[2]
        return _put(src, contract, mutation, params, lambda _: (value, f"{value} is refused"))

    @staticmethod
    def volumes(src, contract, mutation, params):
        rules = src.c.rules
        R, U, C = semantics.ROOT, semantics.USER, semantics.COMPUTE
        obj, segments = _object_at(src, params, mutation.site.steps)
        for member in (R, U, C):
            obj.pop(member, None)
        if rules.volume_and_compute:
            candidates = [(R, v) for v in (100, 150, 79) if not semantics.volume_size_ok(rules, v, None)]
            candidates += [(U, v) for v in (20, 5) if not semantics.volume_size_ok(rules, None, v)]
            member, size = src.choice(candidates)
            obj[member] = size
            return params, segments + [member], f"{member}={size} fits no size group"
        pairs = [(r, u) for r, u in ((80, 20), (80, 2000), (175, 10), (100, 100))
                 if not semantics.volume_size_ok(rules, r, u)]
        root, user = src.choice(pairs)
        obj[R], obj[U] = root, user
        return params, segments, f"root {root} GB with user {user} GB fits no size group"

    @staticmethod
    def volume_and_compute(src, contract, mutation, params):
        rules = src.c.rules
        R, U, C = semantics.ROOT, semantics.USER, semantics.COMPUTE
        obj, segments = _object_at(src, params, mutation.site.steps)
        for member in (R, U, C):
            obj.pop(member, None)
        (rlo, _), _ = rules.volume_groups[1][-1]
        compute = _enum_of(contract, mutation.site, C)
        obj[R] = rlo
        obj[C] = src.choice(compute)
        return params, segments, f"{R} and {C} changed together"

    @staticmethod
    def named_user(src, contract, mutation, params):
        rules = src.c.rules
        obj, segments = _object_at(src, params, mutation.site.steps)
        site_steps = mutation.site.steps
        name_step = [s for s in sites(contract) if s.steps[:-1] == site_steps
                     and s.member == "WorkspaceName"][0]
        if src.rng.random() < 0.5:
            user_site = [s for s in sites(contract) if s.steps[:-1] == site_steps
                         and s.member == "UserName"][0]
            user = src.valid(user_site.steps)
            obj["UserName"] = user if user != rules.undefined_user[1] else "someone"
            obj["WorkspaceName"] = src.valid(name_step.steps)
            note = "WorkspaceName with a named user"
        else:
            obj["UserName"] = rules.undefined_user[1]
            obj.pop("WorkspaceName", None)
            note = "user-decoupled WorkSpace without WorkspaceName"
        return params, segments, note


def _object_at(src, params, steps):
    container, key, segments = materialise(src, params, steps)
    if key not in container:
        container[key] = src.valid(steps)
    return container[key], segments


def _enum_of(contract, site, member):
    for s in sites(contract):
        if s.steps[:-1] == site.steps and s.member == member:
            return s.node.schema["enum"]
    return []


def _item_step(contract, steps):
    for s in sites(contract):
        if s.steps[:-1] == tuple(steps) and s.steps[-1].segment == ITEM:
            return s.steps[-1]
    raise ValueError(f"Expected a list site but got path={dotted([x.segment for x in steps])!r}")


# -- the strategy ----------------------------------------------------------------
def invalid_requests(operation: str | specs.OperationContract, pool: ResourcePool | None = None,
                     kinds=None) -> st.SearchStrategy[InvalidRequest]:
    """A strategy of :class:`InvalidRequest` for ``operation`` (a name or its contract; optionally only ``kinds``)."""
    contract = specs.contract(operation)
    available = mutations(contract)
    if kinds is not None:
        if isinstance(kinds, str):
            kinds = {kinds}
        kinds = set(kinds)
        unknown = kinds - violation_kinds(contract)
        if unknown:
            raise ValueError(
                f"Expected kinds among {sorted(violation_kinds(contract))} for {contract.name} "
                f"but got kinds={sorted(unknown)!r}"
            )
        available = tuple(m for m in available if m.kind in kinds)
    c = get_compiler(contract, pool)
    by_kind: dict[str, list] = {}
    for m in available:
        by_kind.setdefault(m.kind, []).append(m)
    # Kind first, then site: every kind is equally likely, whatever its number of sites.
    # The strategies are made once here, not per example as flatmap would.
    kinds_drawn = st.sampled_from(sorted(by_kind))
    sites_drawn = {kind: st.sampled_from(found) for kind, found in by_kind.items()}

    @st.composite
    def one(draw):
        mutation = draw(sites_drawn[draw(kinds_drawn)])
        src = _DrawSource(draw, c)
        base = draw(c.request())
        return build(src, mutation, base)

    return one()
