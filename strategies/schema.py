"""Navigation of an operation's input JSON Schema: references, members and constrained sites.

The specs give each operation a self-contained draft-07 schema whose members
are ``$ref`` to ``#/definitions/<Shape>``. A *site* is one place in a request
where a constraint can be broken: the chain of steps from the body to it
(member names, list items, map values), each step with the schema node found
there. Paths are written as botocore's validator writes them:
``Workspaces[0].UserName``, ``LoginMessage.en_US``.

Every function takes the operation's :class:`specs.OperationContract`, loaded
once by the caller, never its name.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import specs

__all__ = ["ITEM", "VALUE", "Node", "Site", "node_of", "root_node", "children", "sites", "dotted", "INT32"]

ITEM = "[]"    # a step into a list item
VALUE = "{}"   # a step into a map value

# Integers the model leaves unbounded are Java Integers on the service side.
INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Node:
    """A resolved schema node with the shape name it came from ("" for the body)."""

    shape: str
    schema: dict

    @property
    def type(self) -> str:
        return self.schema.get("type", "")

    def is_map(self) -> bool:
        return self.type == "object" and "additionalProperties" in self.schema

    def is_blob(self) -> bool:
        return self.schema.get("contentEncoding") == "base64"


@dataclass(frozen=True)
class Step:
    """One step from a container into a member, list item or map value."""

    segment: str          # member name, ITEM or VALUE
    node: Node            # the node reached
    parent: Node          # the container stepped from


@dataclass(frozen=True)
class Site:
    """A place in a request where a value lives, reached by ``steps`` (empty: the body)."""

    steps: tuple[Step, ...]

    @property
    def node(self) -> Node:
        return self.steps[-1].node if self.steps else None  # type: ignore[return-value]

    @property
    def member(self) -> str | None:
        """The member name of the last step, None for list items, map values and the body."""
        if not self.steps or self.steps[-1].segment in (ITEM, VALUE):
            return None
        return self.steps[-1].segment

    @property
    def top_member(self) -> str | None:
        return self.steps[0].segment if self.steps else None

    def template(self) -> str:
        """The path with ``[]`` and ``{}`` placeholders, e.g. ``Workspaces[].UserName``."""
        return dotted([s.segment for s in self.steps])


def dotted(segments) -> str:
    """Join path segments (names, list indices or ITEM, map keys) the way botocore does."""
    out = ""
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif segment == ITEM:
            out += "[]"
        else:
            out += f".{segment}" if out else segment
    return out


def node_of(contract: specs.OperationContract, schema: dict) -> Node:
    """Resolve ``schema`` (following a ``$ref``) inside the operation's input schema."""
    root = contract.input
    shape = ""
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        prefix = "#/definitions/"
        if not ref.startswith(prefix):
            raise ValueError(f"Expected a local '#/definitions/' reference but got $ref={ref!r}")
        shape = ref[len(prefix):]
        schema = root["definitions"][shape]
        seen += 1
        if seen > 50:
            raise ValueError(f"Expected a finite chain of references but got $ref={ref!r}")
    return Node(shape, schema)


def root_node(contract: specs.OperationContract) -> Node:
    """The body's node: the operation's top-level request shape."""
    schema = contract.input
    return Node(schema.get("title", ""), schema)


def children(contract: specs.OperationContract, node: Node) -> list[tuple[str, Node]]:
    """The (segment, node) pairs one step below ``node``."""
    schema = node.schema
    if node.type == "array":
        return [(ITEM, node_of(contract, schema["items"]))]
    if node.type == "object":
        if node.is_map():
            return [(VALUE, node_of(contract, schema["additionalProperties"]))]
        return [
            (name, node_of(contract, member))
            for name, member in schema.get("properties", {}).items()
        ]
    return []


@functools.lru_cache(maxsize=None)
def sites(contract: specs.OperationContract, max_depth: int = 12) -> tuple[Site, ...]:
    """Every site of the operation's request, body first, in schema order (cached per contract)."""
    found = [Site(())]

    def walk(node: Node, steps: tuple[Step, ...], shapes: tuple[str, ...]):
        if len(steps) >= max_depth:
            return
        for segment, child in children(contract, node):
            if child.shape and child.shape in shapes and child.type in ("object", "array"):
                continue  # a recursive shape: one level is enough to break it
            here = steps + (Step(segment, child, node),)
            found.append(Site(here))
            walk(child, here, shapes + (child.shape,))

    walk(root_node(contract), (), ())
    return tuple(found)
