"""The WorkSpaces contract: derived operation specs and hand-written, cited rules.

This is the bottom layer of the project. It loads JSON data shipped beside it
and imports nothing of ours::

    import specs
    spec = specs.operation("DescribeWorkspaces")
    spec["input"]          # JSON Schema draft-07 of the request
    specs.seed_operations()  # the 14 operations the suite tests
    specs.rules()          # specs/workspaces/rules.json

The committed specs are the reviewed contract and the default. A run may judge
by the installed botocore's model instead (:func:`use_installed_model`);
:func:`drift` says how the two differ.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import json
from pathlib import Path

__all__ = [
    "SPEC_DIR",
    "Citation",
    "Drift",
    "OperationContract",
    "UnknownOperation",
    "cite",
    "contract",
    "contract_origin",
    "drift",
    "error_rule",
    "gone_states",
    "held",
    "input_member",
    "installed_operation",
    "model_info",
    "operation",
    "operation_names",
    "paginated",
    "paginated_operations",
    "read_only",
    "reference_members",
    "resource",
    "resource_for_shape",
    "resource_kinds",
    "resource_listing",
    "resources",
    "resources_for_member",
    "rule",
    "rule_source",
    "rules",
    "schema_rule_ids",
    "seed_operations",
    "tag_creation",
    "tag_listing",
    "tag_member",
    "use_committed_specs",
    "use_installed_model",
    "violation_kind",
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
    _contract.cache_clear()


def operation_names() -> list[str]:
    """Every operation of the WorkSpaces model, in model order."""
    return list(model_info()["operations"])


def seed_operations() -> list[str]:
    """The 14 seed operations (the ones the suite tests), in model order."""
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
    """The hand-written rules (``specs/workspaces/rules.json``), the only source of rules: unreadable is an error."""
    path = SPEC_DIR / "rules.json"
    try:
        return _read_json(path)
    except (OSError, ValueError) as error:
        raise RuntimeError(f"Expected the rules as JSON in {path} but could not read them: {error}") from error


def rule(rule_id: str) -> dict:
    """One rule of rules.json by its ``id``, wherever it is nested."""
    index = _rule_index()
    if rule_id not in index:
        raise KeyError(_unknown_message("rule id", rule_id, sorted(index)))
    return index[rule_id]


API_DOCS = "https://docs.aws.amazon.com/workspaces/latest/api/API_{operation}.html"


@dataclasses.dataclass(frozen=True)
class Citation:
    """Where a rule comes from: its source, its evidence (documented or inferred), and its tier if it sets one."""

    source: str
    evidence: str
    tier: str | None = None


def cite(rule_id: str) -> Citation:
    """The citation of a rule: an entry of rules.json, or a fact of the model (``model.<Operation>...``).

    Model rule ids name what the botocore model states: ``model.<Op>.input``,
    ``model.<Op>.output[.<location>]`` (the shape at that location is cited),
    ``model.<Op>.errors.<Code>`` and ``model.input.<violation kind>``.
    """
    if not isinstance(rule_id, str) or not rule_id:
        raise ValueError(f"Expected a rule id such as 'errors.server_error' but got rule={rule_id!r}")
    if not rule_id.startswith("model."):
        entry = rule(rule_id)
        return Citation(entry["source"], entry["evidence"], entry.get("tier"))
    parts = rule_id.split(".", 3)
    if len(parts) == 3 and parts[1] == "input":  # model.input.<kind>: a constraint of some input shape
        schema_rule = next((entry for entry in rules()["errors"] if entry.get("kind") == parts[2]), None)
        extra = f"; {schema_rule['source']}" if schema_rule else ""
        return Citation("botocore model: input constraints" + extra, "documented")
    name = parts[1] if len(parts) > 1 else ""
    if name not in operation_names():
        raise KeyError(_unknown_message("operation of a model rule id", name, operation_names()))
    docs = API_DOCS.format(operation=name)
    part = parts[2] if len(parts) > 2 else ""
    if part == "errors" and len(parts) > 3:
        return Citation(f"botocore model: {parts[3]}; {docs}", "documented")
    if part == "output" and len(parts) > 3:
        shape = _shape_at(operation(name)["output"], parts[3])
        if shape:
            return Citation(f"botocore model: {shape}; {docs}", "documented")
    if part not in ("input", "output"):
        raise KeyError(f"Expected a model rule id model.{name}.input, .output[.<member>] or .errors.<Code> "
                       f"but got rule={rule_id!r}")
    return Citation(f"botocore model: operation {name}; {docs}", "documented")


def rule_source(rule_id: str) -> str:
    """The source a failure of ``rule_id`` cites (see :func:`cite`)."""
    return cite(rule_id).source


def _shape_at(schema: dict, location: str) -> str | None:
    """The model shape at a dotted location of an output schema (``Workspaces[].State``), if the walk finds one."""
    definitions = schema.get("definitions", {})
    node, shape = schema, schema.get("title")
    for step in location.replace("[]", ".[]").split("."):
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        if ref.startswith("#/definitions/"):
            shape = ref.rsplit("/", 1)[-1]
            node = definitions.get(shape, {})
        if not step:
            continue
        if step == "[]":
            node = node.get("items", {}) if isinstance(node, dict) else {}
        else:
            node = (node.get("properties") or {}).get(step, {}) if isinstance(node, dict) else {}
            if not node:
                return None
    ref = node.get("$ref", "") if isinstance(node, dict) else ""
    return ref.rsplit("/", 1)[-1] if ref.startswith("#/definitions/") else shape


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


# --- the errors rules a request's form breaks ----------------------------------------------------


def error_rule(kind: str) -> dict | None:
    """The errors entry of rules.json for a violation ``kind`` on every operation (``errors.too_long``), or None."""
    return _operation_wide_errors().get(kind)


@functools.lru_cache(maxsize=None)
def _operation_wide_errors() -> dict[str, dict]:
    return {entry["kind"]: entry for entry in rules()["errors"] if entry["operations"] is None}


def violation_kind(keyword: str) -> str | None:
    """The violation kind a failed JSON Schema ``keyword`` is (``"maxLength"`` -> ``"too_long"``), or None.

    The map is the ``keyword`` of the errors entries in rules.json; a keyword
    no entry names (``"format"``) is no violation kind.
    """
    return _keyword_kinds().get(keyword)


@functools.lru_cache(maxsize=None)
def _keyword_kinds() -> dict[str, str]:
    return {entry["keyword"]: entry["kind"] for entry in rules()["errors"] if "keyword" in entry}


@functools.lru_cache(maxsize=None)
def schema_rule_ids() -> frozenset[str]:
    """The ids of the errors rules a request breaks by its form alone (its JSON or its input schema).

    Such a request is malformed whatever it names, so it is judged before any
    resource it names is looked up; the entries say so with ``"form": true``.
    """
    return frozenset(entry["id"] for entry in rules()["errors"] if entry.get("form"))


# --- one operation's contract, loaded once -------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class OperationContract:
    """What the contract says about one operation: its spec and the rules.json entries that concern it.

    Loaded once per operation (:func:`contract`) and handed down instead of the
    operation's name, so nothing below looks the operation up again. Compared
    and hashed by identity: one object per operation and model in force.
    """

    name: str
    spec: dict
    filters: tuple[dict, ...]        # rules.json filters of this operation
    tags: tuple[dict, ...]           # rules.json tags rules naming it
    errors: tuple[dict, ...]         # rules.json errors rules naming it or every operation
    preconditions: tuple[dict, ...]  # rules.json preconditions of this operation
    pagination: tuple[dict, ...]     # rules.json pagination rules naming it

    @property
    def input(self) -> dict:
        """The request's JSON Schema (draft-07, self-contained)."""
        return self.spec["input"]

    @property
    def output(self) -> dict:
        """The response's JSON Schema (draft-07, self-contained)."""
        return self.spec["output"]

    @property
    def paginator(self) -> dict | None:
        """The operation's paginator (tokens, limit and result keys), None when it does not paginate."""
        return self.spec.get("paginator")

    def __repr__(self) -> str:
        return f"OperationContract({self.name!r})"


def contract(operation: "str | OperationContract") -> OperationContract:
    """The :class:`OperationContract` of ``operation`` (a name; a contract is returned as it is)."""
    if isinstance(operation, OperationContract):
        return operation
    if not isinstance(operation, str):
        raise TypeError(f"Expected an operation name or an OperationContract but got operation={operation!r}")
    return _contract(operation)


@functools.lru_cache(maxsize=None)
def _contract(name: str) -> OperationContract:
    spec = operation(name)
    data = rules()

    def naming(section: str) -> tuple[dict, ...]:
        return tuple(entry for entry in data[section] if name in (entry["operations"] or ()))

    return OperationContract(
        name=name,
        spec=spec,
        filters=tuple(entry for entry in data["filters"] if entry["operation"] == name),
        tags=naming("tags"),
        errors=tuple(entry for entry in data["errors"] if entry["operations"] is None or name in entry["operations"]),
        preconditions=tuple(entry for entry in data["preconditions"] if entry["operation"] == name),
        pagination=naming("pagination"),
    )


# --- operation facts: reading, paging ------------------------------------------------------------

# Model operations named so only read: every Describe*, List* and Get* operation of the model says it
# describes, retrieves or lists, and no other does (tests/test_resources.py holds the model to that),
# so rules.json needs no exception.
READ_ONLY_PREFIXES = ("Describe", "List", "Get")


def read_only(operation: str | None) -> bool:
    """Whether ``operation`` only reads: a model operation named ``Describe*``, ``List*`` or ``Get*``.

    None and names the model lacks are not read-only: what cannot be told to
    read is treated as changing something.
    """
    if operation is not None and not isinstance(operation, str):
        raise TypeError(f"Expected an operation name or None but got operation={operation!r}")
    return operation is not None and operation.startswith(READ_ONLY_PREFIXES) and operation in operation_names()


def paginated(name: str) -> dict | None:
    """The paginator of operation ``name`` (input/output token, result and limit keys); None when it does not page."""
    return operation(name).get("paginator")


def paginated_operations(operations) -> list[str]:
    """Those of ``operations`` that page, in the order given."""
    if isinstance(operations, str):
        raise TypeError(f"Expected a list of operation names but got operations={operations!r}")
    return [name for name in operations if paginated(name)]


# --- resource families ---------------------------------------------------------------------------

# Facts derived from the resources section, with the rules object they were derived from: a test may
# put another rules object in force (by replacing rules()), and the facts follow it.
_RESOURCE_FACTS: dict = {"rules": None, "facts": None}


def resources() -> list[dict]:
    """The resource families of rules.json, one entry per kind (``resources.workspace``, ...), in binding order."""
    return rules()["resources"]


def resource(name: str) -> dict:
    """One resource family by its rule id (``"resources.workspace"``) or its pool kind (``"workspaces"``)."""
    found = _resource_facts()["by_name"]
    if name not in found:
        raise KeyError(_unknown_message("resource id or kind", name, sorted(found)))
    return found[name]


def resource_kinds() -> list[str]:
    """The pool kinds of all resource families, in the order of the resources section."""
    return [entry["kind"] for entry in resources()]


def held(entry: dict) -> bool:
    """Whether the target holds resources of family ``entry``: it describes them, so their ids are references.

    Directory users are named by requests but live in the directory service;
    the WorkSpaces API has no operation that describes them.
    """
    return "describe" in entry


def tag_member() -> str:
    """The request member naming the resource of every tag operation (``ResourceId``), read from the model.

    It is the one member every operation of ``tags.taggable_resources``
    requires besides the tags themselves.
    """
    return _resource_facts()["tag_member"]


def tag_listing() -> dict:
    """How a resource's tags are read: the read-only tag operation, its resource member and the answer's list member."""
    return _resource_facts()["tag_listing"]


def tag_creation() -> dict | None:
    """How tags are added to a resource: the tag operation that writes a list of tags, its resource and tags members."""
    return _resource_facts()["tag_creation"]


def resources_for_member(member: str) -> list[dict]:
    """The families whose ids ``member`` holds: one, every taggable family for the tag member, or none."""
    return _resource_facts()["by_member"].get(member, [])


def resource_for_shape(shape: str) -> dict | None:
    """The family whose ids the model's shape ``shape`` holds (``WorkspaceId``: the WorkSpace), or None."""
    return _resource_facts()["by_shape"].get(shape)


def reference_members() -> frozenset[str]:
    """Members whose values name resources the target holds: the families' id members and the tag member."""
    return _resource_facts()["references"]


def resource_listing(name: str) -> dict | None:
    """How operation ``name`` lists a resource family, if it does: its listing entry plus ``kind`` and ``resource``.

    Keys: ``operation``, ``result_key``, ``id_key``, ``id_filter`` (where the
    request filters by ids), ``kind`` and ``resource`` (the family's rule id).
    """
    return _resource_facts()["listings"].get(name)


def gone_states(entry: dict) -> tuple[str, ...]:
    """The states in which a resource of family ``entry`` is deleted or being deleted (none without states)."""
    return tuple((entry.get("states") or {}).get("gone") or ())


def _resource_facts() -> dict:
    current = rules()
    if _RESOURCE_FACTS["rules"] is not current:
        facts = _derive_resource_facts(current)
        _RESOURCE_FACTS.update(rules=current, facts=facts)
    return _RESOURCE_FACTS["facts"]


def _derive_resource_facts(data: dict) -> dict:
    entries = data["resources"]
    tagging = next(entry for entry in data["tags"] if entry.get("kind") == "taggable_resources")
    required = [set(operation(name)["input"].get("required") or ()) for name in tagging["operations"]]
    common = sorted(set.intersection(*required)) if required else []
    if len(common) != 1:
        raise ValueError(f"Expected the operations of {tagging['id']} to share one required member naming the "
                         f"resource but got members={common!r}")
    member = common[0]
    reader = next((name for name in tagging["operations"] if read_only(name)), None)
    lists = [key for key, node in (operation(reader)["output"].get("properties") or {}).items()
             if _resolved(operation(reader)["output"], node).get("type") == "array"] if reader else []
    by_member: dict[str, list[dict]] = {}
    for entry in entries:
        for name in entry["id_members"]:
            by_member.setdefault(name, []).append(entry)
    by_member[member] = [entry for entry in entries if entry["taggable"]]
    listings = {}
    for entry in entries:
        for listing in ([entry["describe"]] if "describe" in entry else []) + entry.get("also_listed_by", []):
            listings.setdefault(listing["operation"], dict(listing, kind=entry["kind"], resource=entry["id"]))
    return {
        "by_name": {**{entry["id"]: entry for entry in entries}, **{entry["kind"]: entry for entry in entries}},
        "by_member": by_member,
        "by_shape": {shape: entry for entry in entries for shape in entry["id_shapes"]},
        "references": frozenset(name for name, named in by_member.items() if any(held(e) for e in named)),
        "listings": listings,
        "tag_member": member,
        "tag_listing": {"operation": reader, "member": member, "result_key": lists[0] if len(lists) == 1 else None},
        "tag_creation": _tag_creation(tagging["operations"], member),
    }


def _tag_creation(names: list[str], member: str) -> dict | None:
    """The tag operation that adds tags: it writes, and requires a list of objects (the tags) beside ``member``."""
    for name in names:
        if read_only(name):
            continue
        schema = operation(name)["input"]
        for required in schema.get("required") or ():
            node = _resolved(schema, (schema.get("properties") or {}).get(required, {}))
            if required != member and node.get("type") == "array" \
                    and _resolved(schema, node.get("items") or {}).get("type") == "object":
                return {"operation": name, "member": member, "tags": required}
    return None


def _resolved(schema: dict, node: dict) -> dict:
    """``node`` of ``schema`` with its ``$ref`` followed to the definition."""
    while isinstance(node, dict) and "$ref" in node:
        node = schema.get("definitions", {}).get(node["$ref"].rsplit("/", 1)[-1], {})
    return node


def input_member(name: str, member: str) -> dict:
    """The request schema of one member of operation ``name``, its ``$ref`` followed ({} for an unknown member)."""
    schema = operation(name)["input"]
    return _resolved(schema, (schema.get("properties") or {}).get(member, {}))


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
