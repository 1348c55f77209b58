"""Valid requests for any operation, built by construction from its input JSON Schema.

Nothing is filtered: every member's strategy produces only values its schema
accepts, and the request-level rules of rules.json (see :mod:`.semantics`)
are built in — members of an exclusive group are drawn as "at most one of",
a member that requires another is dropped when the other is absent, volume
sizes come in documented groups. Strategies are compiled once per
(operation, pool) and cached; the compiler holds the operation's
:class:`specs.OperationContract` and hands it down, never the name.
"""
from __future__ import annotations

import base64
import functools
import random

from hypothesis import reject, strategies as st

import specs

from . import identifiers, semantics
from .identifiers import ResourcePool
from .patterns import pattern as compile_pattern
from .schema import INT32, ITEM, VALUE, Node, Step, children, node_of, root_node

__all__ = ["requests", "compiler", "Compiler", "members_of", "sized_lists", "list_sizes"]

# Lists without maxItems are drawn with at most this many items: enough to
# exercise lists, and long lists are the boundary cases' business.
UNBOUNDED_LIST_MAX = 5
MAP_MAX = 3
# Pattern-built strings draw their length from the first this-many lengths
# the pattern and the bounds allow, plus the longest one.
LENGTH_CHOICES = 48
SEEDS = st.integers(0, 2**32 - 1)
# List sizes: each of the first SMALL_SIZES sizes from minItems up is this
# many times as likely as maxItems itself. Every choice Hypothesis records
# costs tens of microseconds, and a list of 25 WorkSpace requests is hundreds
# of them; short lists carry the same checks, the longest still comes up
# (about one list in 13), and the boundary cases send every maxItems exactly.
SMALL_SIZES = 4
SMALL_WEIGHT = 3


def _pool_key(pool: ResourcePool | None):
    if pool is None:
        return None
    if not isinstance(pool, ResourcePool):
        raise TypeError(f"Expected a strategies.ResourcePool or None but got pool={pool!r}")
    return pool.key()


def requests(operation: str | specs.OperationContract,
             pool: ResourcePool | None = None) -> st.SearchStrategy[dict]:
    """A strategy of valid request dicts (JSON-able; blobs as base64) for ``operation`` (a name or its contract)."""
    return compiler(operation, pool).request()


def compiler(operation: str | specs.OperationContract, pool: ResourcePool | None = None) -> "Compiler":
    """The cached :class:`Compiler` for ``operation`` (a name or its contract) and ``pool``."""
    contract = specs.contract(operation)
    key = (contract, _pool_key(pool))
    found = _COMPILERS.get(key)
    if found is None:
        # A snapshot of the pool: later changes to the caller's lists make a new key.
        snapshot = ResourcePool(*[v if isinstance(v, bool) else list(v) for v in key[1]]) if pool is not None else None
        found = _COMPILERS[key] = Compiler(contract, snapshot)
    return found


_COMPILERS: dict = {}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _tag_key(tag):
    return tag.get("Key")


def members_of(required: dict, optional: dict) -> st.SearchStrategy[dict]:
    """Dicts with every ``required`` member and each ``optional`` one present half the time.

    What ``st.fixed_dictionaries(required, optional=optional)`` draws, with the
    optional members' presence taken from one integer (a bit per member)
    instead of two choices per member: it shrinks towards fewer members.
    """
    required_items = tuple(required.items())
    optional_items = tuple(optional.items())
    if not optional_items:
        return st.fixed_dictionaries(dict(required_items))
    presence = st.integers(0, 2 ** len(optional_items) - 1)

    @st.composite
    def draw_members(draw) -> dict:
        out = {name: draw(strategy) for name, strategy in required_items}
        mask = draw(presence)
        for bit, (name, strategy) in enumerate(optional_items):
            if mask >> bit & 1:
                out[name] = draw(strategy)
        return out

    return draw_members()


def list_sizes(low: int, high: int) -> list[int]:
    """The table list sizes are drawn from: short sizes weighted, ``high`` itself once."""
    if low > high:
        raise ValueError(f"Expected low <= high but got low={low}, high={high}")
    small = list(range(low, min(high, low + SMALL_SIZES - 1) + 1))
    if small[-1] == high:
        return small
    return [size for size in small for _ in range(SMALL_WEIGHT)] + [high]


def sized_lists(items: st.SearchStrategy, low: int, high: int, unique_by=None) -> st.SearchStrategy[list]:
    """Lists of ``low``..``high`` items, short ones likelier, size drawn first in one choice.

    With ``unique_by``, an item whose key is taken is drawn again (a few
    times at most); a list that still falls short of ``low`` is rejected.
    """
    sizes = st.sampled_from(list_sizes(low, high))

    @st.composite
    def draw_list(draw) -> list:
        size = draw(sizes)
        out: list = []
        if unique_by is None:
            for _ in range(size):
                out.append(draw(items))
            return out
        seen: set = set()
        for _ in range(size + 5):
            if len(out) == size:
                break
            item = draw(items)
            key = unique_by(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
        if len(out) < low:
            reject()
        return out

    return draw_list()


def _merge(parts) -> dict:
    out: dict = {}
    for part in parts:
        out.update(part)
    return out


class Compiler:
    """Compiles the schema of one operation into Hypothesis strategies, site by site."""

    def __init__(self, contract: specs.OperationContract, pool: ResourcePool | None = None):
        self.contract = contract
        self.operation = contract.name
        self.pool = pool
        self.rules = semantics.for_operation(contract)
        self._memo: dict = {}
        self._request = None

    # -- public --------------------------------------------------------------
    def request(self) -> st.SearchStrategy[dict]:
        """The strategy of whole valid requests."""
        if self._request is None:
            self._request = self.at(())
        return self._request

    def at(self, steps: tuple[Step, ...]) -> st.SearchStrategy:
        """The strategy of valid values for the site reached by ``steps``."""
        key = tuple((s.parent.shape, s.segment, s.node.shape) for s in steps[-2:]) or ("",)
        if key not in self._memo:
            node = steps[-1].node if steps else root_node(self.contract)
            self._memo[key] = self._compile(node, steps)
        return self._memo[key]

    def string_pattern(self, steps: tuple[Step, ...], node: Node) -> str | None:
        """The pattern a valid string at this site must match (schema's, or the tag rule's)."""
        if node.schema.get("pattern"):
            return node.schema["pattern"]
        role = semantics.tag_role(steps)
        if role and role in self.rules.tag_characters_applies:
            return self.rules.tag_pattern()
        return None

    def avoid_reserved(self, steps: tuple[Step, ...], value: str) -> str:
        """``value`` with a reserved tag prefix defused, when the site is a tag key/value."""
        role = semantics.tag_role(steps)
        reserved = self.rules.reserved_prefix
        if role and reserved and role in self.rules.reserved_applies:
            if isinstance(value, str) and value.lower().startswith(reserved[1]):
                return "x" + value[1:]
        return value

    # -- compilation ---------------------------------------------------------
    def _compile(self, node: Node, steps) -> st.SearchStrategy:
        kind = node.type
        if kind == "object":
            return self._object(node, steps)
        if kind == "array":
            return self._array(node, steps)
        if kind == "string":
            return self._string(node, steps)
        if kind == "integer":
            return self._integer(node, steps)
        if kind == "boolean":
            return st.booleans()
        if kind == "number":
            # Timestamps: whole epoch seconds survive botocore's serializer.
            return st.integers(0, 2**31 - 1)
        raise NotImplementedError(
            f"Expected a JSON Schema type the compiler knows but got type={kind!r} "
            f"at {self.operation}:{node.shape}"
        )

    def _member(self, steps) -> str | None:
        return steps[-1].segment if steps and steps[-1].segment not in (ITEM, VALUE) else None

    def _string(self, node: Node, steps) -> st.SearchStrategy[str]:
        schema = node.schema
        member = self._member(steps)
        if "enum" in schema:
            values = list(schema["enum"])
            forbidden = self.rules.forbidden_value
            if forbidden and forbidden[1] == member and forbidden[2] in values and len(values) > 1:
                values.remove(forbidden[2])
            return st.sampled_from(values)
        if node.is_blob():
            return st.binary(min_size=1, max_size=48).map(_b64)
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        anchored = self.string_pattern(steps, node)
        if anchored is None:
            strategy = st.text(min_size=low, max_size=high)
        else:
            # Every patterned string, ids included, comes from the length-aware
            # builder: one choice per string (its length and seed together).
            # Hypothesis' from_regex draws one choice per character through a
            # filter and cost about 4 ms per id, most of a valid request's
            # generation time.
            strategy = self._built(compile_pattern(anchored), low, high)
        if semantics.tag_role(steps):
            strategy = strategy.map(functools.partial(self.avoid_reserved, steps))
        live = identifiers.live_ids(self.pool, node.shape, member, schema)
        return identifiers.mixed(live, strategy, live_only=bool(self.pool and self.pool.live_only))

    @staticmethod
    def _built(compiled, low: int, high: int | None) -> st.SearchStrategy[str]:
        lengths = compiled.lengths_between(low, high, limit=LENGTH_CHOICES)
        if high is not None:
            top = compiled.lengths_between(high, high) or compiled.lengths_between(
                max(low, high - 8), high)
            lengths = sorted(set(lengths) | set(top[-1:]))
        if not lengths:
            raise ValueError(
                f"Expected a pattern that matches some length in [{low}, {high}] "
                f"but got pattern={compiled.source!r}"
            )

        count = len(lengths)

        def build(choice: int) -> str:
            # One choice carries both the length and the seed: it shrinks
            # towards the shortest length and seed 0.
            index, seed = choice % count, choice // count
            value = compiled.build(lengths[index], random.Random(seed))
            if value is None:  # the length set says it exists: a builder bug
                raise AssertionError(f"no string of length {lengths[index]} for {compiled.source!r}")
            return value

        return st.integers(0, count * 2**32 - 1).map(build)

    def _integer(self, node: Node, steps) -> st.SearchStrategy[int]:
        low = node.schema.get("minimum", INT32[0])
        high = node.schema.get("maximum", INT32[1])
        step = self.rules.auto_stop_step
        if step and step[1] == self._member(steps):
            multiple = step[2]
            first = max(1, -(-max(low, 1) // multiple))
            last = min(high // multiple, first + 47)
            if first <= last:
                return st.integers(first, last).map(lambda k: k * multiple)
        return st.integers(low, high)

    def _array(self, node: Node, steps) -> st.SearchStrategy[list]:
        (segment, item), = children(self.contract, node)
        items = self.at(steps + (Step(ITEM, item, node),))
        low = node.schema.get("minItems", 0)
        high = node.schema.get("maxItems", max(low, UNBOUNDED_LIST_MAX))
        member = self._member(steps)
        if len(steps) == 1:
            for rule in self.rules.max_requests:
                if rule.member == member:
                    high = min(high, rule.max)
        if member == "Tags" and self.rules.max_tags:
            high = min(high, self.rules.max_tags[1])
        if member in ("Tags",) and item.type == "object":
            # Tag keys are unique within a request: a repeated key would
            # overwrite, not add, and make the count rules ambiguous.
            return sized_lists(items, low, high, unique_by=_tag_key)
        return sized_lists(items, low, high)

    def _object(self, node: Node, steps) -> st.SearchStrategy[dict]:
        schema = node.schema
        if node.is_map():
            key_node = Node("", schema.get("propertyNames", {"type": "string"}))
            if "$ref" in key_node.schema:
                key_node = node_of(self.contract, key_node.schema)
            (_, value_node), = children(self.contract, node)
            keys = self._compile(key_node, steps)
            values = self.at(steps + (Step(VALUE, value_node, node),))
            return st.dictionaries(
                keys, values, min_size=schema.get("minProperties", 0),
                max_size=min(schema.get("maxProperties", MAP_MAX), MAP_MAX),
            )
        members = {
            name: self.at(steps + (Step(name, child, node),))
            for name, child in children(self.contract, node)
        }
        required = set(schema.get("required", ()))
        if schema.get("maxProperties") == 1:
            # A union: exactly one member.
            return st.one_of([st.fixed_dictionaries({m: s}) for m, s in members.items()])
        plan = _Plan(self, node, steps, members, required)
        return plan.strategy()


class _Plan:
    """How one object's members are drawn when rules tie members together."""

    def __init__(self, compiler: Compiler, node: Node, steps, members: dict, required: set):
        self.c = compiler
        self.rules = compiler.rules
        self.members = dict(members)
        self.required = set(required)
        self.top = len(steps) == 0
        self.choices: list[st.SearchStrategy[dict]] = []
        self.requires: list[tuple[str, str]] = []
        if self.top:
            self._filters()
        self._volumes()
        self._undefined_user()

    def _take(self, names) -> dict:
        return {n: self.members.pop(n) for n in names if n in self.members}

    def _filters(self) -> None:
        groups: list[set[str]] = []
        for rule in self.rules.exclusive:
            group = set(rule.members) & set(self.members)
            for existing in [g for g in groups if g & group]:
                group |= existing
                groups.remove(existing)
            groups.append(group)
        for group in groups:
            taken = self._take(sorted(group))
            options = [st.just({})] + [st.fixed_dictionaries({m: s}) for m, s in taken.items()]
            self.choices.append(st.one_of(options))
        for rule in self.rules.requires:
            if rule.member in self.required:
                self.required.add(rule.required)
            self.requires.append((rule.member, rule.required))

    def _volumes(self) -> None:
        R, U, C = semantics.ROOT, semantics.USER, semantics.COMPUTE
        if self.rules.volume_groups is None or R not in self.members or U not in self.members:
            return
        groups = self.rules.volume_groups[1]
        if self.rules.volume_and_compute:
            # One of root size, user size or compute type per modification.
            taken = self._take([R, U, C])
            options = [st.just({})]
            options.append(st.fixed_dictionaries(
                {R: st.one_of([st.integers(lo, hi) for (lo, hi), _ in groups])}))
            options.append(st.fixed_dictionaries(
                {U: st.one_of([st.integers(lo, hi) for _, (lo, hi) in groups])}))
            if C in taken:
                options.append(st.fixed_dictionaries({C: taken[C]}))
            self.choices.append(st.one_of(options))
            return
        self._take([R, U])
        pairs = [
            st.fixed_dictionaries({R: st.integers(rlo, rhi), U: st.integers(ulo, uhi)})
            for (rlo, rhi), (ulo, uhi) in groups
        ]
        self.choices.append(st.one_of([st.just({})] + pairs))

    def _undefined_user(self) -> None:
        rule = self.rules.undefined_user
        needed = {"UserName", "DirectoryId", "WorkspaceName"}
        if rule is None or not needed <= set(self.members):
            return
        undefined = rule[1]
        user = self.members.pop("UserName")
        name = self.members.pop("WorkspaceName")
        self.required.discard("UserName")
        self.choices.append(st.one_of(
            st.fixed_dictionaries({"UserName": user.map(
                lambda u: u if u != undefined else u.strip("[]"))}),
            st.fixed_dictionaries({"UserName": st.just(undefined), "WorkspaceName": name}),
        ))

    def strategy(self) -> st.SearchStrategy[dict]:
        required = {m: s for m, s in self.members.items() if m in self.required}
        optional = {m: s for m, s in self.members.items() if m not in self.required}
        base = members_of(required, optional)
        if not self.choices and not self.requires:
            return base
        requires = list(self.requires)

        def assemble(parts) -> dict:
            out = _merge(parts)
            changed = True
            while changed:
                changed = False
                for member, needed in requires:
                    if member in out and needed not in out:
                        del out[member]
                        changed = True
            return out

        return st.tuples(base, *self.choices).map(assemble)
