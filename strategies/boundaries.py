"""Deterministic boundary cases: min-1, min, max, max+1 of every bound, and each enum's edges.

For every length, item-count and range constraint of an operation's input
schema the cases are the values min-1, min, max and max+1 (when min-1 is not
negative); for every enum the first and last values and two near misses (the
first in lower case, the last with a trailing space). Each case is a whole
request: a minimal valid request with the one value set, built without
randomness beyond fixed seeds, so ``boundaries(op)`` is the same list on
every call. An invalid case carries its :class:`~strategies.invalid.Violation`,
labelled as the invalid-request strategies label the same violation, so one
sender and the same checks serve both.
"""
from __future__ import annotations

import base64
import copy
import functools
import random
import zlib
from dataclasses import dataclass

import specs

from . import semantics, wire
from .invalid import Violation, _repair, _string_lengths, _text, materialise, rule_violation, schema_violation
from .requests import compiler as get_compiler
from .schema import ITEM, Site, Step, children, dotted, root_node, sites

__all__ = ["Boundary", "boundaries", "minimal_request"]


@dataclass(frozen=True)
class Boundary:
    """One boundary case: a whole request, whether it is valid, and what it probes."""

    operation: str
    params: dict
    valid: bool
    path: str
    keyword: str
    note: str
    raw: bool
    rule: str | None = None  # the rules.json id that makes a schema-valid value invalid

    @property
    def violation(self) -> Violation | None:
        """What the case breaks, as an invalid request's violation; None for a valid case.

        Derived from the label, so a copy with another label (``dataclasses.replace``) says what that label says.
        """
        if self.valid:
            return None
        if self.rule is not None:
            return rule_violation(self.rule, self.path, self.note)
        return schema_violation(self.keyword, self.path, self.note)


class _MinimalSource:
    """Deterministic valid values: the smallest realistic value of each site."""

    def __init__(self, compiler, seed: str):
        self.c = compiler
        self.rng = random.Random(zlib.crc32(seed.encode()))

    def valid(self, steps):
        return _minimal(self.c, tuple(steps), self.rng)

    def valid_list(self, steps, size: int):
        values = []
        for i in range(size):
            value = _minimal(self.c, tuple(steps), self.rng)
            if isinstance(value, dict) and "Key" in value:
                value["Key"] = f"{value['Key']}{i}"[:127]
            values.append(value)
        return values

    def choice(self, options):
        options = list(options)
        return options[0]


def _minimal(c, steps: tuple, rng: random.Random):
    node = steps[-1].node if steps else root_node(c.contract)
    schema = node.schema
    kind = node.type
    member = steps[-1].segment if steps else None
    rules = c.rules
    if kind == "object":
        if node.is_map():
            return {}
        props = dict(children(c.contract, node))
        required = list(schema.get("required", ()))
        if schema.get("maxProperties") == 1 and not required:
            required = [next(iter(props))]
        if not steps:
            for rule in rules.requires:
                if rule.member in required and rule.required not in required:
                    required.append(rule.required)
        return {
            name: _minimal(c, steps + (_step(name, props[name], node),), rng)
            for name in required
        }
    if kind == "array":
        (segment, item), = children(c.contract, node)
        low = schema.get("minItems", 0)
        return [_minimal(c, steps + (_step(ITEM, item, node),), rng) for _ in range(low)]
    if kind == "string":
        if "enum" in schema:
            values = [v for v in schema["enum"]
                      if not (rules.forbidden_value and rules.forbidden_value[1] == member
                              and rules.forbidden_value[2] == v)]
            return values[0]
        if node.is_blob():
            return base64.b64encode(b"\x89PNG").decode("ascii")
        low, high, pat = _string_lengths(c, Site(steps))
        if pat is None:
            length = max(low, 1) if high is None else min(max(low, 1), high)
            return c.avoid_reserved(steps, ("value" * (length // 5 + 1))[:length])
        length = pat.lengths_between(max(low, 1), high, limit=1) or pat.lengths_between(low, high, 1)
        return c.avoid_reserved(steps, pat.build(length[0], rng))
    if kind == "integer":
        if rules.auto_stop_step and rules.auto_stop_step[1] == member:
            return rules.auto_stop_step[2]
        if rules.volume_groups and member in (semantics.ROOT, semantics.USER):
            (root, user) = rules.volume_groups[1][-1]
            return (root if member == semantics.ROOT else user)[0]
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None:
            return low
        return min(1, high) if high is not None else 1
    if kind == "boolean":
        return False
    if kind == "number":
        return 0
    raise NotImplementedError(f"Expected a known JSON Schema type but got type={kind!r}")


def _step(segment, node, parent):
    return Step(segment, node, parent)


def minimal_request(operation: str | specs.OperationContract) -> dict:
    """The smallest valid request of ``operation`` (a name or its contract; required members only), deterministic."""
    c = get_compiler(operation)
    return _minimal(c, (), random.Random(0))


@functools.lru_cache(maxsize=None)
def _cases(contract: specs.OperationContract) -> tuple[Boundary, ...]:
    c = get_compiler(contract)
    out: list[Boundary] = []
    for site in sites(contract):
        node = site.node
        if node is None:
            continue
        schema = node.schema
        for keyword_low, keyword_high, kind in (
            ("minLength", "maxLength", "length"),
            ("minItems", "maxItems", "items"),
            ("minimum", "maximum", "range"),
        ):
            low, high = schema.get(keyword_low), schema.get(keyword_high)
            if kind == "length" and node.type != "string":
                continue
            probes = []
            if low is not None:
                probes += [(low - 1, keyword_low), (low, keyword_low)]
            if high is not None:
                probes += [(high, keyword_high), (high + 1, keyword_high)]
            for value, keyword in probes:
                if kind != "range" and value < 0:
                    continue
                case = _case(c, site, kind, value, keyword, low, high)
                if case is not None:
                    out.append(case)
        if "enum" in schema:
            enum = schema["enum"]
            for value, note in (
                (enum[0], "first enum value"), (enum[-1], "last enum value"),
                (enum[0].lower(), "first enum value in lower case"),
                (enum[-1] + " ", "last enum value with a trailing space"),
            ):
                forbidden = bool(
                    c.rules.forbidden_value and c.rules.forbidden_value[1] == site.member
                    and c.rules.forbidden_value[2] == value)
                rule = c.rules.forbidden_value[0] if forbidden and value in enum else None
                out.append(_assemble(c, site, value, value in enum and not forbidden, "enum", note, rule))
    return tuple(out)


def _case(c, site, kind, value, keyword, low, high):
    ok = (low is None or value >= low) and (high is None or value <= high)
    if kind == "length":
        src = _MinimalSource(c, f"{site.template()}:{value}")
        text = _text(src, c, site, value)
        note = f"length {value} ({keyword} {low if keyword.startswith('min') else high})"
        if text is None:
            # No string of that length matches the pattern: the case also
            # breaks the pattern, so only an out-of-bounds length is kept.
            if ok:
                return None
            text = ("A" * value)
            note += ", also outside the pattern"
        return _assemble(c, site, text, ok, keyword, note)
    if kind == "items":
        (_, item), = children(c.contract, site.node)
        src = _MinimalSource(c, f"{site.template()}:{value}")
        item_steps = site.steps + (_step(ITEM, item, site.node),)
        items = src.valid_list(item_steps, value)
        cap, rule = _rule_cap(c, site)
        valid = ok and (cap is None or value <= cap)
        broken_rule = rule if ok and not valid else None
        return _assemble(c, site, items, valid, keyword, f"{value} items", broken_rule)
    return _assemble(c, site, value, ok, keyword, f"value {value}")


def _rule_cap(c, site):
    """The item cap a rule puts on a list beyond its schema, with the rule's id."""
    if len(site.steps) == 1:
        for rule in c.rules.max_requests:
            if rule.member == site.member:
                return rule.max, rule.rule
    if site.member == "Tags" and c.rules.max_tags:
        return c.rules.max_tags[1], c.rules.max_tags[0]
    return None, None


def _assemble(c, site, value, valid, keyword, note, rule=None) -> Boundary:
    src = _MinimalSource(c, site.template())
    params = minimal_request(c.contract)
    container, key, segments = materialise(src, params, site.steps)
    container[key] = value
    _repair(src, c.contract, params, site.steps, container)

    raw = not wire.boto3_sends_exactly(c.operation, params)
    return Boundary(c.operation, params, bool(valid), dotted(segments), keyword, note, raw, rule)


def boundaries(operation: str | specs.OperationContract) -> list[Boundary]:
    """The boundary cases of ``operation`` (a name or its contract), the same list on every call."""
    # Copies: the cached cases must not change when a caller edits a request.
    return copy.deepcopy(list(_cases(specs.contract(operation))))
