"""Resource ids: which shapes are ids, and ids drawn from live resources.

A :class:`ResourcePool` lists resources that exist in the target (found by the
conformance suite when it provisions or describes the target). With a pool,
id members draw half their values from it and half from well-formed ids that
exist nowhere, so requests reach real resources and not only "not found"
paths.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from hypothesis import strategies as st

__all__ = ["ResourcePool", "is_id_shape", "live_ids", "mixed"]

# Which pool list feeds which shape; ResourceId (the tag operations) takes any
# taggable resource.
SHAPE_FIELDS = {
    "WorkspaceId": "workspaces",
    "DirectoryId": "directories",
    "BundleId": "bundles",
    "WorkspaceImageId": "images",
    "IpGroupId": "ip_groups",
    "ConnectionAliasId": "connection_aliases",
}
MEMBER_FIELDS = {"UserName": ("user_names",)}
TAGGABLE = ("workspaces", "directories", "bundles", "images", "ip_groups", "connection_aliases")
MEMBER_FIELDS["ResourceId"] = TAGGABLE


@dataclass
class ResourcePool:
    """Ids of resources that exist in the target, by kind (lists of strings)."""

    directories: list[str] = field(default_factory=list)
    bundles: list[str] = field(default_factory=list)
    workspaces: list[str] = field(default_factory=list)
    user_names: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    ip_groups: list[str] = field(default_factory=list)
    connection_aliases: list[str] = field(default_factory=list)
    # True: members with live ids take only those, so a request names nothing unknown.
    live_only: bool = False

    def __post_init__(self):
        for f in fields(self):
            if f.name == "live_only":
                continue
            value = getattr(self, f.name)
            if isinstance(value, (str, bytes)) or not all(isinstance(v, str) for v in value):
                raise TypeError(
                    f"Expected a list of strings but got {f.name}={value!r}"
                )

    def key(self) -> tuple:
        """A hashable snapshot of the pool (compiled strategies are cached by it)."""
        return tuple(
            getattr(self, f.name) if f.name == "live_only" else tuple(getattr(self, f.name)) for f in fields(self)
        )

    def ids_for(self, shape: str, member: str | None) -> list[str]:
        """The live ids that may fill a member of shape ``shape`` named ``member``."""
        names = MEMBER_FIELDS.get(member or "") or (
            (SHAPE_FIELDS[shape],) if shape in SHAPE_FIELDS else ()
        )
        out: list[str] = []
        for name in names:
            out.extend(v for v in getattr(self, name) if v not in out)
        return out


def is_id_shape(shape: str) -> bool:
    """Whether a shape names a resource id (WorkspaceId, BundleId, ConnectionAliasId...)."""
    return shape in SHAPE_FIELDS or shape.endswith("Id")


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
