"""The WorkSpaces contract: derived operation specs and hand-written, cited rules.

This is the bottom layer of the project. It loads JSON data shipped beside it
and imports nothing of ours::

    import specs
    spec = specs.operation("DescribeWorkspaces")
    spec["input"]          # JSON Schema draft-07 of the request
    specs.seed_operations()  # the 14 operations of the seed client reference
    specs.rules()          # specs/workspaces/rules.json
"""
from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path

__all__ = [
    "SPEC_DIR",
    "UnknownOperation",
    "model_info",
    "operation",
    "operation_names",
    "rule",
    "rules",
    "seed_operations",
]

SPEC_DIR = Path(__file__).resolve().parent / "workspaces"
OPERATIONS_DIR = SPEC_DIR / "operations"


class UnknownOperation(KeyError, ValueError):
    """An operation name that the committed specs do not contain."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


def _read_json(path: Path):
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=None)
def model_info() -> dict:
    """Provenance of the derived specs: botocore version, model digest, operations."""
    return _read_json(SPEC_DIR / "model.json")


def operation_names() -> list[str]:
    """Every operation of the WorkSpaces model, in model order."""
    return list(model_info()["operations"])


def seed_operations() -> list[str]:
    """The 14 operations of the seed client reference, in model order."""
    return list(model_info()["seed_operations"])


@functools.lru_cache(maxsize=None)
def _load_operation(name: str) -> dict:
    return _read_json(OPERATIONS_DIR / f"{name}.json")


def operation(name: str) -> dict:
    """The spec of one operation, e.g. ``operation("DescribeWorkspaces")``.

    The returned dict is shared: copy it before changing it.
    """
    names = operation_names()
    if name not in names:
        raise UnknownOperation(_unknown_message("operation name", name, names))
    return _load_operation(name)


@functools.lru_cache(maxsize=None)
def rules() -> dict:
    """The hand-written rules (``specs/workspaces/rules.json``)."""
    return _read_json(SPEC_DIR / "rules.json")


def rule(rule_id: str) -> dict:
    """One rule of rules.json by its ``id``, wherever it is nested."""
    index = _rule_index()
    if rule_id not in index:
        raise KeyError(_unknown_message("rule id", rule_id, sorted(index)))
    return index[rule_id]


@functools.lru_cache(maxsize=None)
def _rule_index() -> dict:
    found: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("id"), str) and "source" in node:
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rules())
    return found


def _unknown_message(what: str, given: str, known: list[str]) -> str:
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.5)
    if not close:
        lowered = {k.lower(): k for k in known}
        key = given.replace("_", "").lower()
        close = [v for k, v in lowered.items() if k.replace("_", "") == key][:1]
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Expected a known {what} but got {what.split()[-1]}={given!r}.{hint}"
