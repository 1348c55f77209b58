"""The part of the WorkSpaces contract the emulator enforces, read from ``specs``.

Request schemas come from the derived operation specs; error codes, state
preconditions, filter, tag and pagination rules from ``rules.json``. Where
rules.json does not (yet) say something, the documented behaviour below is
used, so the emulator stays a complete endpoint.
"""
from __future__ import annotations

import functools
import re

import jsonschema

import specs

__all__ = ["Contract", "contract", "SEED_OPERATIONS"]

SEED_OPERATIONS = frozenset(specs.seed_operations())

# Documented or inferred behaviour from the research notes; rules.json wins
# wherever it has an entry for the same kind, operation or member set.
_FALLBACK_ERRORS = {
    "missing_required": ("ValidationException", 400),
    "wrong_type": ("SerializationException", 400),
    "enum_violation": ("ValidationException", 400),
    "too_short": ("ValidationException", 400),
    "too_long": ("ValidationException", 400),
    "pattern_mismatch": ("ValidationException", 400),
    "too_few_items": ("ValidationException", 400),
    "too_many_items": ("ValidationException", 400),
    "below_minimum": ("ValidationException", 400),
    "above_maximum": ("ValidationException", 400),
    "malformed_json": ("SerializationException", 400),
    "unknown_operation": ("UnknownOperationException", 400),
    "missing_target": ("UnknownOperationException", 400),
    "not_found": ("ResourceNotFoundException", 400),
    "invalid_state": ("InvalidResourceStateException", 400),
    "invalid_parameter": ("InvalidParameterValuesException", 400),
    "filter_violation": ("InvalidParameterValuesException", 400),
    "invalid_token": ("InvalidParameterValuesException", 400),
    "limit_exceeded": ("ResourceLimitExceededException", 400),
    "not_implemented": ("UnsupportedOperationException", 400),
    "missing_authentication": ("MissingAuthenticationTokenException", 403),
    "invalid_signature": ("InvalidSignatureException", 403),
    "unrecognized_client": ("UnrecognizedClientException", 403),
}

_FALLBACK_PRECONDITIONS = {
    "StartWorkspaces": (("STOPPED",), ("AUTO_STOP", "MANUAL"), "InvalidResourceState"),
    "StopWorkspaces": (("AVAILABLE", "IMPAIRED", "UNHEALTHY", "ERROR"), ("AUTO_STOP", "MANUAL"),
                       "InvalidResourceState"),
    "RebootWorkspaces": (("AVAILABLE", "UNHEALTHY"), None, "InvalidResourceState"),
    "RebuildWorkspaces": (("AVAILABLE", "ERROR", "UNHEALTHY", "STOPPED", "REBOOTING"), None,
                          "InvalidResourceState"),
    "TerminateWorkspaces": (
        ("PENDING", "AVAILABLE", "IMPAIRED", "UNHEALTHY", "REBOOTING", "STARTING", "REBUILDING",
         "RESTORING", "MAINTENANCE", "ADMIN_MAINTENANCE", "TERMINATING", "TERMINATED", "UPDATING",
         "STOPPING", "STOPPED", "ERROR"), None, "InvalidResourceState"),
    "ModifyWorkspaceProperties": (("AVAILABLE", "STOPPED"), None, "InvalidResourceStateException"),
}

_FALLBACK_FILTERS = [
    {"operation": "DescribeWorkspaces", "kind": "exclusive",
     "members": ["WorkspaceIds", "DirectoryId", "BundleId", "WorkspaceName"]},
    {"operation": "DescribeWorkspaces", "kind": "requires", "members": ["UserName"],
     "requires": ["DirectoryId"]},
    {"operation": "DescribeWorkspaceBundles", "kind": "exclusive", "members": ["BundleIds", "Owner"]},
    {"operation": "DescribeWorkspaceDirectories", "kind": "exclusive",
     "members": ["DirectoryIds", "WorkspaceDirectoryNames"]},
]

# Happy-path asynchronous edges: each transitional state settles into the next.
_FALLBACK_SETTLE = {
    "PENDING": "AVAILABLE",
    "STARTING": "AVAILABLE",
    "STOPPING": "STOPPED",
    "REBOOTING": "AVAILABLE",
    "REBUILDING": "AVAILABLE",
    "TERMINATING": "TERMINATED",
    "TERMINATED": "GONE",
}

_KEYWORD_KIND = {
    "required": "missing_required",
    "type": "wrong_type",
    "enum": "enum_violation",
    "minLength": "too_short",
    "maxLength": "too_long",
    "pattern": "pattern_mismatch",
    "minItems": "too_few_items",
    "maxItems": "too_many_items",
    "minimum": "below_minimum",
    "maximum": "above_maximum",
}


def _load_rules() -> dict:
    try:
        return specs.rules()
    except FileNotFoundError:
        return {}


class Contract:
    """Request validators and rules for the 14 seed operations, prepared once."""

    keyword_kind = _KEYWORD_KIND

    def __init__(self, rules: dict | None = None):
        self.rules = _load_rules() if rules is None else rules
        self._validators: dict[str, jsonschema.Draft7Validator] = {}
        self.errors = dict(_FALLBACK_ERRORS)
        for entry in self.rules.get("errors", []):
            codes = entry.get("codes") or []
            if entry.get("kind") and codes:
                self.errors[entry["kind"]] = (codes[0], int(entry.get("http_status") or 400))
        self.preconditions = dict(_FALLBACK_PRECONDITIONS)
        # How long a state must have lasted before an action may leave it again (reboot when stuck).
        self.min_seconds_in_state: dict[str, dict[str, float]] = {}
        for entry in self.rules.get("preconditions", []):
            refusal = entry.get("refusal") or {}
            # A null code means "any non-empty code": keep the emulator's own.
            self.preconditions[entry["operation"]] = (
                tuple(entry["allowed_states"]),
                tuple(entry["running_modes"]) if entry.get("running_modes") else None,
                refusal.get("code") or _FALLBACK_PRECONDITIONS.get(entry["operation"], (0, 0, "InvalidResourceState"))[2],
            )
            if entry.get("min_seconds_in_state"):
                self.min_seconds_in_state[entry["operation"]] = dict(entry["min_seconds_in_state"])
        self.filters = [dict(f, error_code="InvalidParameterValuesException") for f in _FALLBACK_FILTERS]
        ruled = [f for f in self.rules.get("filters", []) if f.get("kind") in ("exclusive", "requires")]
        if ruled:
            self.filters = ruled
        self.settle = dict(_FALLBACK_SETTLE)
        self.states = [s["name"] for s in self.rules.get("states", [])] or [
            *_spec_enum("DescribeWorkspaces", "WorkspaceState")]
        tags = {entry.get("kind"): entry for entry in self.rules.get("tags", [])}
        self.max_tags = (tags.get("max_tags") or {}).get("max", 50)
        self.tag_characters = re.compile((tags.get("characters") or {}).get("pattern", r"[\w .:/=+\-@]*"))
        self.reserved_prefix = (tags.get("reserved_prefix") or {}).get("prefix", "aws:")
        self.taggable_prefixes = tuple((tags.get("taggable_resources") or {}).get(
            "resource_prefixes", ("ws-", "d-", "wsd-", "wsi-", "wsb-", "wsipg-", "wsca-")))
        self.page_size = next((p["page_size"] for p in self.rules.get("pagination", [])
                               if p.get("kind") == "default_page_size"), 25)
        defaults = {tuple(d.get("fields", ())): d for d in self.rules.get("defaults", [])}
        self.default_running_mode = (defaults.get(("WorkspaceProperties.RunningMode",)) or {}).get("value", "ALWAYS_ON")
        self.default_auto_stop = (defaults.get(("WorkspaceProperties.RunningModeAutoStopTimeoutInMinutes",)) or {}).get("value", 60)
        constraints = {e["id"]: e.get("parameters") or {} for e in self.rules.get("errors", [])
                       if e.get("kind") == "constraint"}
        self.timeout_step = constraints.get("errors.constraint.auto_stop_timeout_step", {}).get("multiple_of", 60)
        self.manual_refused = "errors.constraint.manual_running_mode" in constraints
        self.volume_groups = constraints.get("errors.constraint.volume_sizes", {}).get("groups") or [
            {"root": [80, 80], "user": [10, 10]}, {"root": [80, 80], "user": [50, 50]},
            {"root": [80, 80], "user": [100, 100]}, {"root": [175, 2000], "user": [100, 2000]}]
        self.modify_rate = constraints.get("errors.constraint.modify_rate") or {
            "after_launch_seconds": 21600, "volume_growth_seconds": 21600,
            "compute_up_seconds": 21600, "compute_down_seconds": 2592000}
        self.compute_order = _spec_enum("DescribeWorkspaces", "Compute")

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
        """The error code and HTTP status for an error ``kind`` of rules.json."""
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


def _spec_enum(operation: str, shape: str) -> list[str]:
    return list(specs.operation(operation)["output"]["definitions"][shape]["enum"])


@functools.lru_cache(maxsize=1)
def contract() -> Contract:
    """The shared contract, built on first use."""
    return Contract()
