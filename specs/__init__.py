"""The WorkSpaces contract: derived operation specs and hand-written, cited rules.

This is the bottom layer of the project. It loads JSON data shipped beside it
and imports nothing of ours::

    import specs
    spec = specs.operation("DescribeWorkspaces")
    spec["input"]          # JSON Schema draft-07 of the request
    specs.seed_operations()  # the 14 operations of the seed client reference
    specs.rules()          # specs/workspaces/rules.json

The committed specs are the reviewed contract and the default. A run may judge
by the installed botocore's model instead (:func:`use_installed_model`);
:func:`drift` says how the two differ.
"""
from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path

__all__ = [
    "SPEC_DIR",
    "Drift",
    "UnknownOperation",
    "contract_origin",
    "drift",
    "installed_operation",
    "model_info",
    "operation",
    "operation_names",
    "rule",
    "rules",
    "seed_operations",
    "use_committed_specs",
    "use_installed_model",
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


# The contract in force: None for the committed files, else derived texts (relative path -> JSON text).
_ACTIVE: dict = {"files": None, "origin": "committed"}


def _read_spec(rel: str):
    files = _ACTIVE["files"]
    if files is None:
        return _read_json(SPEC_DIR / rel)
    return json.loads(files[rel])


@functools.lru_cache(maxsize=None)
def model_info() -> dict:
    """Provenance of the specs in force: botocore version, model digest, operations."""
    return _read_spec("model.json")


def contract_origin() -> str:
    """``"committed"`` (the reviewed specs, the default) or ``"installed"`` (derived for this run)."""
    return _ACTIVE["origin"]


def use_installed_model() -> None:
    """Judge by specs derived from the installed botocore's model from now on (``--contract installed``)."""
    _activate(_installed_files(), "installed")


def use_committed_specs() -> None:
    """Judge by the committed, reviewed specs again (the default)."""
    _activate(None, "committed")


def _activate(files: dict | None, origin: str) -> None:
    """Put specs in force: None for the committed files, else derived texts by relative path."""
    _ACTIVE.update(files=files, origin=origin)
    model_info.cache_clear()
    _load_operation.cache_clear()


def operation_names() -> list[str]:
    """Every operation of the WorkSpaces model, in model order."""
    return list(model_info()["operations"])


def seed_operations() -> list[str]:
    """The 14 operations of the seed client reference, in model order."""
    return list(model_info()["seed_operations"])


@functools.lru_cache(maxsize=None)
def _load_operation(name: str) -> dict:
    return _read_spec(f"operations/{name}.json")


def operation(name: str) -> dict:
    """The spec of one operation, e.g. ``operation("DescribeWorkspaces")``.

    The returned dict is shared: copy it before changing it.
    """
    names = operation_names()
    if name not in names:
        raise UnknownOperation(_unknown_message("operation name", name, names))
    return _load_operation(name)


# --- the installed model beside the contract in force ------------------------------------------


@functools.lru_cache(maxsize=None)
def _installed_digest() -> tuple[str, str]:
    """(botocore version, model digest) of the installed botocore, without deriving any spec."""
    import botocore

    from . import derive

    _, raw_service, raw_paginators = derive.load_model()
    return botocore.__version__, derive.model_digest(raw_service, raw_paginators)


@functools.lru_cache(maxsize=None)
def _installed_files() -> dict:
    from . import derive

    return derive.derive()


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class Drift:
    """How the installed botocore's WorkSpaces model differs from the contract in force."""

    def __init__(self, contract: dict, installed: dict, counts: dict[str, tuple[int, int]]) -> None:
        self.contract_botocore = contract["botocore"]
        self.installed_botocore = installed["botocore"]
        self.installed_digest = installed["digest"]
        self.counts = counts  # kind -> (added, removed), kinds without change left out

    @property
    def installed_is_newer(self) -> bool:
        return _version_key(self.installed_botocore) > _version_key(self.contract_botocore)

    def describe(self) -> str:
        """What differs, in a few words: ``"the installed model adds 3 shapes, 18 enum values"``."""
        parts = []
        for verb, index in (("adds", 0), ("lacks", 1)):
            named = [f"{counts[index]} {kind[:-1] if counts[index] == 1 else kind}"
                     for kind, counts in self.counts.items() if counts[index]]
            if named:
                parts.append(f"{verb} " + ", ".join(named))
        if not parts:
            return "the installed model differs in documentation or other details"
        return "the installed model " + " and ".join(parts)

    def line(self) -> str:
        """The one line a run prints when the installed model is not the contract's."""
        if self.installed_is_newer:
            consequence = (f"values only botocore {self.installed_botocore} allows are not failures; "
                           "--contract installed judges by it")
        else:
            consequence = "the contract is newer than the installed model; --contract installed judges by the installed one"
        return (f"contract drift: the specs in force come from botocore {self.contract_botocore}, the installed "
                f"botocore {self.installed_botocore} differs ({self.describe()}); {consequence}")

    def to_report(self) -> dict:
        return {
            "installed_botocore": self.installed_botocore,
            "installed_digest": self.installed_digest,
            "differences": self.describe(),
        }


@functools.lru_cache(maxsize=None)
def _drift_against(contract_digest: str):
    from . import derive

    version, digest = _installed_digest()
    if digest == contract_digest:
        return None
    installed = _installed_files()
    active = _ACTIVE["files"]
    committed = active if active is not None else derive.committed(SPEC_DIR)
    counts = {kind: (len(after - before), len(before - after))
              for kind, (before, after) in derive.inventory_changes(committed, installed).items()
              if after != before}
    return Drift(model_info(), json.loads(installed["model.json"]), counts)


def drift() -> Drift | None:
    """How the installed botocore's model differs from the contract in force; None when it does not."""
    return _drift_against(model_info()["digest"])


def installed_operation(name: str) -> dict | None:
    """The installed model's spec of ``name`` where that model is newer than the contract in force.

    Checks accept what this spec accepts: a value only a newer model allows is never a failure.
    None when the installed model is the contract's, older, or lacks the operation.
    """
    found = drift()
    if found is None or not found.installed_is_newer:
        return None
    return _installed_operation(name)


@functools.lru_cache(maxsize=None)
def _installed_operation(name: str) -> dict | None:
    text = _installed_files().get(f"operations/{name}.json")
    return json.loads(text) if text is not None else None


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


def unknown_names(what: str, given: list[str], known: list[str]) -> list[str]:
    """A message for each name of ``given`` not in ``known``, with the closest known name where there is one."""
    return [_unknown_message(what, name, known) for name in given if name not in known]


def _unknown_message(what: str, given: str, known: list[str]) -> str:
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.5)
    if not close:
        lowered = {k.lower(): k for k in known}
        key = given.replace("_", "").lower()
        close = [v for k, v in lowered.items() if k.replace("_", "") == key][:1]
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Expected a known {what} but got {what.split()[-1]}={given!r}.{hint}"
