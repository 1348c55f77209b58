"""The request-level rules of rules.json that a JSON Schema cannot say, as data and as a checker.

Covered: the filter rules (``exclusive``, ``requires``, ``max_requests``), the
tag rules that a single request can break (``max_tags``, ``characters``,
``reserved_prefix``) and the ``constraint`` error rules whose parameters
describe a request (auto-stop timeout step, MANUAL running mode, volume size
groups, volume and compute in one modification, WorkspaceName only for
user-decoupled WorkSpaces). Rules that depend on the target's state
(``no_shrink``, ``modify_rate``) are not request properties and are left to
the conformance checks.

:func:`broken_rules` evaluates them on a request; valid requests break none,
and each semantic invalid request breaks exactly its own. Both take an
operation's name or its :class:`specs.OperationContract`, whose rules.json
entries they read.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import specs

__all__ = ["OperationRules", "for_operation", "broken_rules", "tag_role"]


@dataclass(frozen=True)
class Exclusive:
    rule: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Requires:
    rule: str
    member: str
    required: str


@dataclass(frozen=True)
class MaxRequests:
    rule: str
    member: str
    max: int


@dataclass
class OperationRules:
    """The request-level rules of one operation, with their rules.json ids."""

    operation: str
    exclusive: list[Exclusive] = field(default_factory=list)
    requires: list[Requires] = field(default_factory=list)
    max_requests: list[MaxRequests] = field(default_factory=list)
    max_tags: tuple[str, int] | None = None                 # (rule id, max)
    tag_characters: tuple[str, str, str] | None = None     # (rule id, inner class, no-space class)
    tag_characters_applies: tuple[str, ...] = ()
    reserved_prefix: tuple[str, str] | None = None         # (rule id, prefix)
    reserved_applies: tuple[str, ...] = ()
    auto_stop_step: tuple[str, str, int] | None = None     # (rule id, member, multiple)
    forbidden_value: tuple[str, str, str] | None = None    # (rule id, member, value)
    volume_groups: tuple[str, tuple] | None = None         # (rule id, ((root lo, hi), (user lo, hi))...)
    volume_and_compute: str | None = None                  # rule id
    undefined_user: tuple[str, str] | None = None          # (rule id, the [UNDEFINED] user name)

    def tag_pattern(self) -> str | None:
        """The anchored pattern a tag key/value must match (characters rule), or None."""
        if self.tag_characters is None:
            return None
        _, inner, edge = self.tag_characters
        return f"^(?:(?:{edge}(?:{inner}*{edge})?)?)(?![\\s\\S])"


def _class_of(pattern: str) -> tuple[str, str] | None:
    # The characters rule is written as one character class repeated, e.g.
    # "[\w .:/=+\-@]*"; the class without the space is the one allowed at the
    # edges (no leading or trailing spaces).
    match = re.fullmatch(r"(\[.*\])[*+]", pattern)
    if not match:
        return None
    inner = match.group(1)
    return inner, inner.replace(" ", "")


def for_operation(operation: str | specs.OperationContract) -> OperationRules:
    """The request-level rules that apply to ``operation`` (a name or its contract)."""
    return _rules_of(specs.contract(operation))


@functools.lru_cache(maxsize=None)
def _rules_of(contract: specs.OperationContract) -> OperationRules:
    out = OperationRules(contract.name)
    for rule in contract.filters:
        members = tuple(rule["members"])
        if rule["kind"] == "exclusive":
            out.exclusive.append(Exclusive(rule["id"], members))
        elif rule["kind"] == "requires":
            required = rule["requires"]
            for member in members:
                for req in ([required] if isinstance(required, str) else required):
                    out.requires.append(Requires(rule["id"], member, req))
        elif rule["kind"] == "max_requests":
            for member in members:
                out.max_requests.append(MaxRequests(rule["id"], member, int(rule["max"])))
    for rule in contract.tags:
        if rule["kind"] == "max_tags":
            out.max_tags = (rule["id"], int(rule["max"]))
        elif rule["kind"] == "characters" and _class_of(rule.get("pattern", "")):
            inner, edge = _class_of(rule["pattern"])
            if not rule.get("no_leading_trailing_spaces"):
                edge = inner
            out.tag_characters = (rule["id"], inner, edge)
            out.tag_characters_applies = tuple(rule.get("applies_to", ("key", "value")))
        elif rule["kind"] == "reserved_prefix":
            out.reserved_prefix = (rule["id"], rule["prefix"])
            out.reserved_applies = tuple(rule.get("applies_to", ("key",)))
    for rule in contract.errors:
        if rule["kind"] != "constraint":
            continue
        params = rule.get("parameters") or {}
        name = rule["id"].rsplit(".", 1)[-1]
        if "multiple_of" in params:
            out.auto_stop_step = (rule["id"], params["member"], int(params["multiple_of"]))
        elif "value" in params and "member" in params:
            out.forbidden_value = (rule["id"], params["member"], params["value"])
        elif "groups" in params:
            groups = tuple(
                (tuple(g["root"]), tuple(g["user"])) for g in params["groups"]
            )
            out.volume_groups = (rule["id"], groups)
        elif name == "volume_and_compute":
            out.volume_and_compute = rule["id"]
        elif "undefined_user" in params:
            out.undefined_user = (rule["id"], params["undefined_user"])
    return out


def tag_role(steps) -> str | None:
    """'key' or 'value' when a site's steps end at a tag key or value, else None."""
    if not steps:
        return None
    last = steps[-1]
    if last.parent.shape == "Tag" and last.segment in ("Key", "Value"):
        return last.segment.lower()
    if len(steps) >= 2 and steps[-2].segment == "TagKeys" and last.segment == "[]":
        return "key"
    return None


# -- the checker -------------------------------------------------------------

ROOT, USER, COMPUTE = "RootVolumeSizeGib", "UserVolumeSizeGib", "ComputeTypeName"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def volume_size_ok(rules: OperationRules, root, user) -> bool:
    """Whether a (root, user) pair, either of them None for 'not given', fits a size group."""
    if rules.volume_groups is None:
        return True
    for (rlo, rhi), (ulo, uhi) in rules.volume_groups[1]:
        if (root is None or rlo <= root <= rhi) and (user is None or ulo <= user <= uhi):
            return True
    return False


def broken_rules(operation: str | specs.OperationContract, params) -> set[str]:
    """The ids of the request-level rules that ``params`` breaks (empty for a valid request)."""
    rules = for_operation(operation)
    broken: set[str] = set()
    if not isinstance(params, dict):
        return broken
    for rule in rules.exclusive:
        if sum(1 for m in rule.members if m in params) > 1:
            broken.add(rule.rule)
    for rule in rules.requires:
        if rule.member in params and rule.required not in params:
            broken.add(rule.rule)
    for rule in rules.max_requests:
        value = params.get(rule.member)
        if isinstance(value, list) and len(value) > rule.max:
            broken.add(rule.rule)
    _walk(rules, params, broken, parent_key=None)
    return broken


def _walk(rules: OperationRules, value, broken: set[str], parent_key: str | None) -> None:
    if isinstance(value, list):
        if parent_key in ("Tags", "TagKeys"):
            _check_tags(rules, value, parent_key, broken)
        for item in value:
            _walk(rules, item, broken, None)
        return
    if not isinstance(value, dict):
        return
    _check_object(rules, value, broken)
    for key, member in value.items():
        _walk(rules, member, broken, key)


def _tag_text_broken(rules: OperationRules, text, role: str, broken: set[str]) -> None:
    if not isinstance(text, str):
        return
    if rules.tag_characters and role in rules.tag_characters_applies:
        if not re.search(rules.tag_pattern(), text):
            broken.add(rules.tag_characters[0])
    if rules.reserved_prefix and role in rules.reserved_applies:
        if text.lower().startswith(rules.reserved_prefix[1]):
            broken.add(rules.reserved_prefix[0])


def _check_tags(rules: OperationRules, items: list, key: str, broken: set[str]) -> None:
    if key == "Tags":
        if rules.max_tags and len(items) > rules.max_tags[1]:
            broken.add(rules.max_tags[0])
        for tag in items:
            if isinstance(tag, dict):
                _tag_text_broken(rules, tag.get("Key"), "key", broken)
                _tag_text_broken(rules, tag.get("Value"), "value", broken)
    else:
        for text in items:
            _tag_text_broken(rules, text, "key", broken)


def _check_object(rules: OperationRules, obj: dict, broken: set[str]) -> None:
    if rules.auto_stop_step:
        rule, member, step = rules.auto_stop_step
        value = obj.get(member)
        if _is_int(value) and (value <= 0 or value % step):
            broken.add(rule)
    if rules.forbidden_value:
        rule, member, forbidden = rules.forbidden_value
        if obj.get(member) == forbidden:
            broken.add(rule)
    root, user = obj.get(ROOT), obj.get(USER)
    root = root if _is_int(root) else None
    user = user if _is_int(user) else None
    if (root is not None or user is not None) and not volume_size_ok(rules, root, user):
        broken.add(rules.volume_groups[0])
    if rules.volume_and_compute and sum(1 for m in (ROOT, USER, COMPUTE) if m in obj) > 1:
        broken.add(rules.volume_and_compute)
    if rules.undefined_user and "UserName" in obj and "DirectoryId" in obj:
        rule, undefined = rules.undefined_user
        decoupled = obj.get("UserName") == undefined
        if decoupled != ("WorkspaceName" in obj):
            broken.add(rule)
