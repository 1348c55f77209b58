"""The part of the WorkSpaces contract the emulator enforces, read from ``specs``.

Request schemas come from the derived operation specs; error codes, state
preconditions, the settling of asynchronous states, filter, tag, pagination
and default rules from ``rules.json``, the only source of rules: a rule the
emulator needs and rules.json lacks is an error, never a guess.
"""
from __future__ import annotations

import functools
import re

import jsonschema

import specs

from .lifecycle import GONE

__all__ = ["Contract", "contract"]

# Refusals no error kind of rules.json covers, answered the emulator's own way: authentication
# (the signer's business, not a WorkSpaces rule), operations it does not implement, and invalid
# parameter values of rules that name no error kind of their own.
_OWN_ERRORS = {
    "invalid_parameter": ("InvalidParameterValuesException", 400),
    "not_implemented": ("UnsupportedOperationException", 400),
    "missing_authentication": ("MissingAuthenticationTokenException", 403),
    "invalid_signature": ("InvalidSignatureException", 403),
    "unrecognized_client": ("UnrecognizedClientException", 403),
}
# The code a refusal carries where rules.json accepts any non-empty code (its codes are empty).
_ANY_REFUSAL_CODE = "InvalidResourceState"


def _one(rules: dict, section: str, kind: str) -> dict:
    """The entry of kind ``kind`` in a section of rules.json (an error naming it when there is none)."""
    found = [entry for entry in rules[section] if entry.get("kind") == kind]
    if not found:
        raise LookupError(f"Expected a {section} rule of kind {kind!r} in rules.json but found none; "
                          "the emulator reads this rule from there only.")
    return found[0]


def _settle(rules: dict) -> dict[str, str]:
    """Where each transitional state settles: its first asynchronous edge in the state graph.

    rules.json lists an asynchronous edge out of a transitional state on the
    usual way first (PENDING -> AVAILABLE before PENDING -> ERROR).
    """
    transitional = {state["name"] for state in rules["states"] if state["kind"] == "transitional"}
    settle: dict[str, str] = {}
    for edge in rules["state_graph"]:
        if edge["trigger"] == "async":
            for state in edge["from"]:
                if state in transitional:
                    settle.setdefault(state, edge["to"])
    return settle


class Contract:
    """Request validators and the rules of rules.json the emulator enforces, prepared once."""

    def __init__(self, rules: dict | None = None):
        self.rules = specs.rules() if rules is None else rules
        rules = self.rules
        self._validators: dict[str, jsonschema.Draft7Validator] = {}
        # A kind's usual code is its first entry's with codes: the general rule comes before the
        # families' own (an operation's own entry is found by error_for).
        usual: dict[str, tuple[str, int]] = {}
        for entry in rules["errors"]:
            if entry["codes"]:
                usual.setdefault(entry["kind"], (entry["codes"][0], entry["http_status"]))
        self.errors = {**_OWN_ERRORS, **usual}
        self.errors["invalid_token"] = (_one(rules, "pagination", "invalid_token")["codes"][0], 400)
        self.preconditions: dict[str, tuple] = {}
        # How long a state must have lasted before an action may leave it again (reboot when stuck).
        self.min_seconds_in_state: dict[str, dict[str, float]] = {}
        for entry in rules["preconditions"]:
            codes = entry["refusal"]["codes"]
            self.preconditions[entry["operation"]] = (
                tuple(entry["allowed_states"]),
                tuple(entry["running_modes"]) if entry["running_modes"] else None,
                codes[0] if codes else _ANY_REFUSAL_CODE,
            )
            if entry.get("min_seconds_in_state"):
                self.min_seconds_in_state[entry["operation"]] = dict(entry["min_seconds_in_state"])
        self.filters = [f for f in rules["filters"] if f["kind"] in ("exclusive", "requires")]
        self.settle = _settle(rules)
        self.max_tags = _one(rules, "tags", "max_tags")["max"]
        self.tag_characters = re.compile(_one(rules, "tags", "characters")["pattern"])
        self.reserved_prefix = _one(rules, "tags", "reserved_prefix")["prefix"]
        self.taggable_prefixes = tuple(_one(rules, "tags", "taggable_resources")["resource_prefixes"])
        self.page_size = _one(rules, "pagination", "default_page_size")["page_size"]
        defaults = {tuple(entry["fields"]): entry for entry in rules["defaults"]}
        self.default_running_mode = defaults[("WorkspaceProperties.RunningMode",)]["value"]
        self.default_auto_stop = defaults[("WorkspaceProperties.RunningModeAutoStopTimeoutInMinutes",)]["value"]
        constraints = {entry["id"]: entry.get("parameters") or {} for entry in rules["errors"]
                       if entry["kind"] == "constraint"}
        self.timeout_step = constraints["errors.constraint.auto_stop_timeout_step"]["multiple_of"]
        self.manual_refused = "errors.constraint.manual_running_mode" in constraints
        self.volume_groups = constraints["errors.constraint.volume_sizes"]["groups"]
        self.modify_rate = constraints["errors.constraint.modify_rate"]
        self.compute_order = _spec_enum("DescribeWorkspaces", "Compute")
        self.taggable_kinds = frozenset(entry["kind"] for entry in rules["resources"] if entry["taggable"])
        self._resources = {entry["kind"]: entry for entry in rules["resources"]}

    def settle_of(self, kind: str) -> dict[str, str]:
        """Where each transitional state of a resource kind settles (GONE: the resource is removed).

        Read from the kind's ``states.settle`` in rules.json; a kind without one has no asynchronous states.
        """
        entry = self._resources.get(kind)
        settle = ((entry or {}).get("states") or {}).get("settle") or {}
        return {state: (GONE if after is None else after) for state, after in settle.items()}

    def error_for(self, operation: str, kind: str) -> tuple[str, int]:
        """The code and HTTP status of an error ``kind`` as ``operation`` answers it.

        A rules.json entry of the kind naming the operation decides; else the
        first code of the kind's entries that the operation's model lists; else
        the kind's usual code (see :meth:`error`).
        """
        entries = [entry for entry in self.rules["errors"] if entry["kind"] == kind and entry["codes"]]
        for entry in entries:
            if operation in entry.get("operations", ()):
                return entry["codes"][0], entry["http_status"]
        modelled = _modelled_errors(operation)
        for entry in entries:
            for code in entry["codes"]:
                if code in modelled:
                    return code, modelled[code]
        return self.error(kind)

    def volumes_valid(self, root, user) -> bool:
        """Whether (root, user) GB is one of the documented volume size groups."""
        return any(g["root"][0] <= root <= g["root"][1] and g["user"][0] <= user <= g["user"][1]
                   for g in self.volume_groups)

    def validator(self, operation: str) -> jsonschema.Draft7Validator:
        """The compiled request validator of ``operation``."""
        found = self._validators.get(operation)
        if found is None:
            found = jsonschema.Draft7Validator(_inline_refs(specs.operation(operation)["input"]))
            self._validators[operation] = found
        return found

    def error(self, kind: str) -> tuple[str, int]:
        """The error code and HTTP status for an error ``kind`` of rules.json (or one of the emulator's own)."""
        if kind not in self.errors:
            raise KeyError(f"Expected an error kind of rules.json with codes, or one of {sorted(_OWN_ERRORS)}, "
                           f"but got kind={kind!r}")
        return self.errors[kind]


def _inline_refs(schema: dict) -> dict:
    """``schema`` with every non-recursive local ``$ref`` replaced by its definition.

    Resolving references dominates jsonschema's cost per request; the derived
    schemas are small trees, so inlining once makes validation several times faster.
    """
    definitions = schema.get("definitions", {})

    def inline(node, seen):
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref.rsplit("/", 1)[1]
            if name in seen or name not in definitions:
                return node  # a recursive shape keeps its reference
            return inline(definitions[name], seen | {name})
        return {key: (value if key == "definitions" else inline(value, seen)) for key, value in node.items()}

    return inline(schema, frozenset())


@functools.lru_cache(maxsize=None)
def _modelled_errors(operation: str) -> dict[str, int]:
    """The error codes the model lists for ``operation``, with their HTTP status."""
    return {error["code"]: error["http_status"] for error in specs.operation(operation)["errors"]}


def _spec_enum(operation: str, shape: str) -> list[str]:
    return list(specs.operation(operation)["output"]["definitions"][shape]["enum"])


@functools.lru_cache(maxsize=1)
def contract() -> Contract:
    """The shared contract, built on first use."""
    return Contract()
