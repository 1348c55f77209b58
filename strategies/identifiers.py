"""Resource ids: which shapes are ids, and ids drawn from live resources.

A :class:`ResourcePool` lists resources that exist in the target (found by the
conformance suite when it provisions or describes the target). With a pool,
id members draw half their values from it and half from well-formed ids that
exist nowhere, so requests reach real resources and not only "not found"
paths.

Which member or shape names which kind of resource comes from the
``resources`` section of rules.json (:func:`specs.resources`), so a new
resource family needs no change here.
"""
from __future__ import annotations

import dataclasses
import re

from hypothesis import strategies as st

import specs

__all__ = ["ResourcePool", "is_id_shape", "live_ids", "member_fields", "mixed", "shape_fields", "taggable"]


def shape_fields() -> dict[str, str]:
    """Which pool kind feeds which id shape of the model (``WorkspaceId`` -> ``workspaces``)."""
    return {shape: entry["kind"] for entry in specs.resources() for shape in entry["id_shapes"]}


def member_fields() -> dict[str, tuple[str, ...]]:
    """Which pool kinds feed which member: a family's id members, and every taggable kind for the tag member."""
    members = {name for entry in specs.resources() for name in entry["id_members"]} | {specs.tag_member()}
    return {name: tuple(entry["kind"] for entry in specs.resources_for_member(name)) for name in sorted(members)}


def taggable() -> tuple[str, ...]:
    """The pool kinds whose ids the tag operations accept, in the order of the resources section."""
    return tuple(entry["kind"] for entry in specs.resources() if entry["taggable"])


@dataclasses.dataclass(init=False)
class ResourcePool:
    """Ids of resources that exist in the target, by kind (lists of strings).

    The kinds are those of the resources section of rules.json; each is also an
    attribute (``pool.workspaces``, ``pool.directories``, ...)::

        ResourcePool(workspaces=["ws-abcdefgh1"], live_only=True)
        ResourcePool({"workspaces": ["ws-abcdefgh1"]})  # the same ids by kind, e.g. from key()
    """

    ids: dict[str, list[str]]
    # True: members with live ids take only those, so a request names nothing unknown.
    live_only: bool = False

    def __init__(self, ids=None, live_only: bool = False, **by_kind) -> None:
        given = dict(ids or {})
        given.update(by_kind)
        kinds = specs.resource_kinds()
        unknown = [kind for kind in given if kind not in kinds]
        if unknown:
            raise TypeError(f"Expected resource kinds of rules.json ({', '.join(kinds)}) but got "
                            + ", ".join(f"{kind}={given[kind]!r}" for kind in unknown))
        for kind, value in given.items():
            if isinstance(value, (str, bytes)) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"Expected a list of strings but got {kind}={value!r}")
        self.ids = {kind: list(given.get(kind, ())) for kind in kinds}
        self.live_only = live_only

    def __getattr__(self, name: str) -> list[str]:
        ids = self.__dict__.get("ids")
        if ids is not None and name in ids:
            return ids[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        ids = self.__dict__.get("ids")
        if ids is not None and name in ids:
            ids[name] = value
        else:
            super().__setattr__(name, value)

    def key(self) -> tuple:
        """A hashable snapshot of the pool (compiled strategies are cached by it); ``ResourcePool(*key)`` rebuilds it."""
        return tuple((kind, tuple(ids)) for kind, ids in self.ids.items()), self.live_only

    def resource_ids(self) -> set[str]:
        """Every id of a resource the target holds (directory users, which it does not describe, left out)."""
        return {value for entry in specs.resources() if specs.held(entry)
                for value in self.ids.get(entry["kind"], ())}

    def ids_for(self, shape: str, member: str | None) -> list[str]:
        """The live ids that may fill a member of shape ``shape`` named ``member``."""
        named = specs.resources_for_member(member or "")
        if not named:
            found = specs.resource_for_shape(shape)
            named = [found] if found else []
        out: list[str] = []
        for entry in named:
            out.extend(v for v in self.ids.get(entry["kind"], ()) if v not in out)
        return out


def is_id_shape(shape: str) -> bool:
    """Whether a shape names a resource id (WorkspaceId, BundleId, ConnectionAliasId...)."""
    return specs.resource_for_shape(shape) is not None or shape.endswith("Id")


def live_ids(pool: ResourcePool | None, shape: str, member: str | None,
             schema: dict) -> list[str]:
    """The pool's ids for a member that also satisfy its schema (length and pattern)."""
    if pool is None:
        return []
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    pattern = schema.get("pattern")
    return [
        value for value in pool.ids_for(shape, member)
        if len(value) >= low and (high is None or len(value) <= high)
        and (pattern is None or re.search(pattern, value))
    ]


def mixed(live: list[str], generated: st.SearchStrategy[str], live_only: bool = False) -> st.SearchStrategy[str]:
    """Live ids and generated ones, about half each (just ``generated`` without live ids).

    With ``live_only``, just the live ids where there are any.
    """
    if not live:
        return generated
    if live_only:
        return st.sampled_from(live)
    return st.one_of(st.sampled_from(live), generated)
