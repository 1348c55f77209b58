"""Server-side validation of a request against its operation's input schema.

botocore's client checks only required members, types and minimums; the
emulator checks every constraint of the model, as the service does, and maps
the failing JSON Schema keyword to its rules.json error kind
(:func:`specs.violation_kind`) and that kind's code.
"""
from __future__ import annotations

import re

import specs

from .contract import contract
from .errors import ApiError

__all__ = ["validate_request"]

# Fault name -> the JSON Schema keywords whose violations that fault lets through.
_ACCEPTING_FAULTS = {
    "accepts_too_long": ("maxLength",),
    "accepts_too_short": ("minLength",),
    "accepts_too_many_items": ("maxItems",),
    "accepts_too_few_items": ("minItems",),
    "accepts_pattern_mismatch": ("pattern",),
    "accepts_enum_violation": ("enum",),
    "accepts_out_of_range": ("minimum", "maximum"),
}
_ANCHOR = re.compile(r"^\^\(\?:(.*)\)\(\?!\[\\s\\S\]\)$", re.S)


def _member_path(path) -> str:
    parts = []
    for item in path:
        if isinstance(item, int):
            parts.append(f"{item + 1}.member")
        else:
            parts.append(item[:1].lower() + item[1:])
    return ".".join(parts) or "request"


def _constraint(error) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "pattern":
        match = _ANCHOR.match(value)
        return f"Member must satisfy regular expression pattern: {match.group(1) if match else value}"
    if keyword == "enum":
        return f"Member must satisfy enum value set: [{', '.join(map(str, value))}]"
    if keyword in ("minLength", "maxLength"):
        relation = "greater than or equal to" if keyword == "minLength" else "less than or equal to"
        return f"Member must have length {relation} {value}"
    if keyword in ("minItems", "maxItems"):
        relation = "greater than or equal to" if keyword == "minItems" else "less than or equal to"
        return f"Member must have length {relation} {value}"
    if keyword in ("minimum", "maximum"):
        relation = "greater than or equal to" if keyword == "minimum" else "less than or equal to"
        return f"Member must have value {relation} {value}"
    if keyword == "type":
        return f"Member must be of type {value}"
    return f"Member must satisfy {keyword} {value}"


def _order(error):
    # Deserialisation (types) fails before validation does, as on the service.
    kind = specs.violation_kind(error.validator) or ""
    return (kind != "wrong_type", kind != "missing_required", list(map(str, error.absolute_path)))


def validate_request(operation: str, params: dict, faults: frozenset = frozenset()) -> None:
    """Raise ApiError for the first constraint ``params`` violates; return None when valid."""
    skipped = set()
    for fault, keywords in _ACCEPTING_FAULTS.items():
        if fault in faults:
            skipped.update(keywords)
    errors = [e for e in contract().validator(operation).iter_errors(params)
              if specs.violation_kind(e.validator) and e.validator not in skipped]
    if errors:
        first = min(errors, key=_order)
        kind = specs.violation_kind(first.validator)
        if kind == "missing_required":
            missing = re.search(r"'([^']+)' is a required property", first.message)
            name = missing.group(1) if missing else "member"
            where = _member_path(list(first.absolute_path) + [name])
            message = f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: Member must not be null"
        elif kind == "wrong_type":
            message = (f"Unexpected value type for '{_member_path(first.absolute_path)}': "
                       f"expected {first.validator_value}")
        else:
            shown = first.instance if not isinstance(first.instance, (list, dict)) else "[...]"
            message = (f"1 validation error detected: Value '{shown}' at '{_member_path(first.absolute_path)}' "
                       f"failed to satisfy constraint: {_constraint(first)}")
        if kind == "wrong_type" and "server_error_on_wrong_type" in faults:
            raise ApiError("InternalFailure", "An internal error occurred.", 500)
        if "validation_as_bad_request" in faults:
            raise ApiError("BadRequestException", message, 400)
        raise ApiError.of_kind(kind, message)
    _positive_faults(params, faults)


def _positive_faults(params: dict, faults: frozenset) -> None:
    """Refusals of valid input that the positive_data_acceptance faults introduce."""
    if not faults:
        return
    reject = None
    if "rejects_limit_25" in faults and params.get("Limit") == 25:
        reject = "Value '25' at 'limit' failed to satisfy constraint: Member must have value less than 25"
    if "rejects_wsd_directory_ids" in faults:
        ids = [params.get("DirectoryId")] + list(params.get("DirectoryIds") or [])
        ids += [w.get("DirectoryId") for w in params.get("Workspaces") or [] if isinstance(w, dict)]
        if any(isinstance(i, str) and i.startswith("wsd-") for i in ids):
            reject = "Value at 'directoryId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^d-[0-9a-f]{8,63}$"
    if "rejects_long_user_name" in faults:
        names = [params.get("UserName")]
        names += [w.get("UserName") for w in params.get("Workspaces") or [] if isinstance(w, dict)]
        if any(isinstance(n, str) and len(n) > 20 for n in names):
            reject = "Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 20"
    if reject:
        raise ApiError("ValidationException", "1 validation error detected: " + reject, 400)
