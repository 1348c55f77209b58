"""Derive the WorkSpaces operation specs from the installed botocore model.

Run ``python -m specs.derive`` to (re)write ``specs/workspaces/operations/*.json``
and ``specs/workspaces/model.json``; run ``python -m specs.derive --check`` to
compare the committed specs with what the installed botocore would produce.

Every shape becomes JSON Schema draft-07, understood by any standard validator
with no custom keywords. Model patterns are anchored for full-match semantics
(see :func:`anchor_pattern`).
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import sys
from pathlib import Path

import botocore
import botocore.session

SERVICE = "workspaces"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
SPEC_DIR = Path(__file__).resolve().parent / "workspaces"
REGENERATE = "python -m specs.derive"

# The seed operations, the ones the suite tests: operations of the
# 2016-08..2017-05 model. They are fixed here so that the derivation depends
# on no file outside the repository.
SEED_OPERATIONS = (
    "CreateTags",
    "CreateWorkspaces",
    "DeleteTags",
    "DescribeTags",
    "DescribeWorkspaceBundles",
    "DescribeWorkspaceDirectories",
    "DescribeWorkspaces",
    "DescribeWorkspacesConnectionStatus",
    "ModifyWorkspaceProperties",
    "RebootWorkspaces",
    "RebuildWorkspaces",
    "StartWorkspaces",
    "StopWorkspaces",
    "TerminateWorkspaces",
)

# Matches only at the very end of the string in both ECMA-262 and Python ``re``:
# ``$`` would also match before a trailing newline in Python.
END_OF_INPUT = r"(?![\s\S])"


def anchor_pattern(pattern: str) -> str:
    """Wrap a model pattern so that ``re.search`` matches only the whole string.

    AWS applies model patterns to the whole value, but many lack ``^`` or
    ``$`` (``wsi-[0-9a-z]{9,63}$``), and JSON Schema's ``pattern`` is a search.
    """
    return f"^(?:{pattern}){END_OF_INPUT}"


def unanchor_pattern(pattern: str) -> str:
    """The model pattern inside an :func:`anchor_pattern` wrapper (or the input)."""
    prefix, suffix = "^(?:", ")" + END_OF_INPUT
    if pattern.startswith(prefix) and pattern.endswith(suffix):
        return pattern[len(prefix) : -len(suffix)]
    return pattern


def first_sentence(documentation: str | None) -> str:
    """The first sentence of a model documentation string, as plain text."""
    if not documentation:
        return ""
    text = html.unescape(re.sub(r"<[^>]+>", " ", documentation))
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.+?[.!?])(?=\s+[A-Z(]|$)", text)
    return (match.group(1) if match else text).strip()


class SchemaBuilder:
    """Turns botocore shapes into draft-07 schemas with a shared ``definitions``.

    Dispatches on the shape's type name, like botocore's own validator.
    """

    def __init__(self, raw_shapes: dict) -> None:
        self.raw_shapes = raw_shapes
        self.definitions: dict[str, dict] = {}

    def root(self, shape) -> dict:
        """A self-contained schema for ``shape`` (None: an empty JSON object)."""
        if shape is None:
            body = {"type": "object", "additionalProperties": False}
        else:
            body = self._schema(shape)
            body = {"title": shape.name, **body}
        schema = {"$schema": DRAFT_07, **body}
        if self.definitions:
            schema["definitions"] = dict(sorted(self.definitions.items()))
        return schema

    def ref(self, shape) -> dict:
        if shape.name not in self.definitions:
            self.definitions[shape.name] = {}  # placeholder: recursive shapes
            self.definitions[shape.name] = self._schema(shape)
        return {"$ref": f"#/definitions/{shape.name}"}

    def _schema(self, shape) -> dict:
        handler = getattr(self, f"_type_{shape.type_name}")
        schema = handler(shape)
        # The shape's own documentation, not that of the member referring to it.
        doc = first_sentence(self.raw_shapes.get(shape.name, {}).get("documentation"))
        if doc:
            schema = {"description": doc, **schema}
        return schema

    def _type_structure(self, shape) -> dict:
        schema: dict = {"type": "object", "properties": {}}
        for name, member in shape.members.items():
            schema["properties"][name] = self.ref(member)
        required = list(shape.required_members)
        if required:
            schema["required"] = required
        if shape.metadata.get("union"):
            # A union carries exactly one of its members.
            schema["minProperties"] = 1
            schema["maxProperties"] = 1
        if shape.metadata.get("exception"):
            schema["properties"]["__type"] = {"type": "string"}
        return schema

    def _type_list(self, shape) -> dict:
        schema = {"type": "array", "items": self.ref(shape.member)}
        self._bounds(shape, schema, "minItems", "maxItems")
        return schema

    def _type_map(self, shape) -> dict:
        schema = {
            "type": "object",
            "propertyNames": self.ref(shape.key),
            "additionalProperties": self.ref(shape.value),
        }
        self._bounds(shape, schema, "minProperties", "maxProperties")
        return schema

    def _type_string(self, shape) -> dict:
        schema: dict = {"type": "string"}
        if shape.enum:
            schema["enum"] = list(shape.enum)
        self._bounds(shape, schema, "minLength", "maxLength")
        pattern = shape.metadata.get("pattern")
        if pattern:
            schema["pattern"] = anchor_pattern(pattern)
        return schema

    def _type_integer(self, shape) -> dict:
        schema = {"type": "integer"}
        self._bounds(shape, schema, "minimum", "maximum")
        return schema

    _type_long = _type_integer

    def _type_double(self, shape) -> dict:
        schema = {"type": "number"}
        self._bounds(shape, schema, "minimum", "maximum")
        return schema

    _type_float = _type_double

    def _type_boolean(self, shape) -> dict:
        return {"type": "boolean"}

    def _type_blob(self, shape) -> dict:
        # awsJson1_1 sends blobs base64-encoded.
        schema = {
            "type": "string",
            "contentEncoding": "base64",
            "pattern": anchor_pattern(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"),
        }
        # Model bounds count decoded bytes; base64 spends 4 characters per 3 bytes.
        if shape.metadata.get("min"):
            schema["minLength"] = 4 * -(-shape.metadata["min"] // 3)
        if "max" in shape.metadata:
            schema["maxLength"] = 4 * -(-shape.metadata["max"] // 3)
        bounds = ", ".join(f"{k} {shape.metadata[k]}" for k in ("min", "max") if k in shape.metadata)
        schema["$comment"] = "blob, base64 on the wire" + (f"; decoded bytes {bounds}" if bounds else "")
        return schema

    def _type_timestamp(self, shape) -> dict:
        # awsJson1_1 sends timestamps as epoch seconds (fractions allowed).
        return {"type": "number", "$comment": "timestamp, epoch seconds on the wire"}

    def _type_document(self, shape) -> dict:
        return {}

    @staticmethod
    def _bounds(shape, schema: dict, low: str, high: str) -> None:
        if "min" in shape.metadata:
            schema[low] = shape.metadata["min"]
        if "max" in shape.metadata:
            schema[high] = shape.metadata["max"]


def load_model():
    """The installed botocore's WorkSpaces model, paginators and raw documents."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    raw_service = loader.load_service_model(SERVICE, "service-2")
    raw_paginators = loader.load_service_model(SERVICE, "paginators-1")
    model = session.get_service_model(SERVICE)
    return model, raw_service, raw_paginators


def model_digest(raw_service: dict, raw_paginators: dict) -> str:
    canonical = json.dumps([raw_service, raw_paginators], sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _error_spec(shape, raw_shapes: dict) -> dict:
    error = shape.metadata.get("error", {})
    schema = SchemaBuilder(raw_shapes).root(shape)
    schema.setdefault("required", [])
    schema["required"] = ["__type", *[r for r in schema["required"] if r != "__type"]]
    return {
        "code": error.get("code", shape.name),
        "http_status": error.get("httpStatusCode", 400),
        "fault": "server" if shape.metadata.get("fault") else "client",
        "schema": schema,
    }


def _paginator(raw_paginators: dict, name: str) -> dict | None:
    config = raw_paginators.get("pagination", {}).get(name)
    if not config:
        return None
    return {
        "input_token": config["input_token"],
        "output_token": config["output_token"],
        "result_key": config.get("result_key"),
        "limit_key": config.get("limit_key"),
    }


def operation_spec(model, raw_service: dict, raw_paginators: dict, name: str) -> dict:
    """The self-contained spec document of one operation."""
    op = model.operation_model(name)
    raw_shapes = raw_service["shapes"]
    return {
        "name": name,
        "target": f"{model.metadata['targetPrefix']}.{name}",
        "seed": name in SEED_OPERATIONS,
        "documentation": first_sentence(op.documentation),
        "http": {"method": op.http.get("method", "POST"), "path": op.http.get("requestUri", "/")},
        "input": SchemaBuilder(raw_shapes).root(op.input_shape),
        "output": SchemaBuilder(raw_shapes).root(op.output_shape),
        "errors": [_error_spec(shape, raw_shapes) for shape in op.error_shapes],
        "paginator": _paginator(raw_paginators, name),
    }


def derive() -> dict[str, str]:
    """Every derived file, as relative path -> exact text."""
    model, raw_service, raw_paginators = load_model()
    names = list(model.operation_names)  # botocore keeps model order
    missing = sorted(set(SEED_OPERATIONS) - set(names))
    if missing:
        raise SystemExit(f"The installed botocore model lacks seed operations: {missing}")
    files = {}
    for name in names:
        spec = operation_spec(model, raw_service, raw_paginators, name)
        files[f"operations/{name}.json"] = _dump(spec)
    info = {
        "service": SERVICE,
        "api_version": model.api_version,
        # Every wire protocol the model lists, in its order; which one a run speaks is the run's choice.
        "protocols": list(model.metadata.get("protocols") or [model.metadata["protocol"]]),
        "json_version": model.metadata.get("jsonVersion"),
        "target_prefix": model.metadata.get("targetPrefix"),
        "signing_name": model.signing_name,
        "botocore": botocore.__version__,
        "digest": model_digest(raw_service, raw_paginators),
        "operation_count": len(names),
        "operations": names,
        "seed_operations": [n for n in names if n in SEED_OPERATIONS],
        "regenerate": REGENERATE,
    }
    files["model.json"] = _dump(info)
    return files


def _dump(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(files: dict[str, str], root: Path | None = None) -> None:
    root = root or SPEC_DIR
    operations = root / "operations"
    operations.mkdir(parents=True, exist_ok=True)
    wanted = {root / rel for rel in files}
    for stale in operations.glob("*.json"):
        if stale not in wanted:
            stale.unlink()
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")


def committed(root: Path | None = None) -> dict[str, str]:
    root = root or SPEC_DIR
    files = {}
    for path in sorted((root / "operations").glob("*.json")):
        files[f"operations/{path.name}"] = path.read_text(encoding="utf-8")
    if (root / "model.json").exists():
        files["model.json"] = (root / "model.json").read_text(encoding="utf-8")
    return files


def inventory_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, tuple[set, set]]:
    """For each kind (operations, shapes, members, enum values): what ``old`` and ``new`` name."""
    before, after = _inventory(old), _inventory(new)
    return {kind: (before[kind], after[kind]) for kind in before}


def _inventory(files: dict[str, str]) -> dict[str, set]:
    """Operations, shapes, members and enum values named by a set of spec files."""
    ops, shapes, members, enums = set(), set(), set(), set()
    for rel, text in files.items():
        if not rel.startswith("operations/"):
            continue
        spec = json.loads(text)
        ops.add(spec["name"])
        for part in ("input", "output"):
            schema = spec[part]
            named = dict(schema.get("definitions", {}))
            if "title" in schema:
                named[schema["title"]] = schema
            for shape_name, shape in named.items():
                shapes.add(shape_name)
                for member in shape.get("properties", {}):
                    members.add(f"{shape_name}.{member}")
                for value in shape.get("enum", []):
                    enums.add(f"{shape_name}={value}")
    return {"operations": ops, "shapes": shapes, "members": members, "enum values": enums}


def drift_summary(old: dict[str, str], new: dict[str, str]) -> str:
    """A person's summary of how ``new`` (installed botocore) differs from ``old``."""
    old_info = json.loads(old.get("model.json", "{}"))
    new_info = json.loads(new["model.json"])
    lines = [
        "The committed specs differ from what the installed botocore produces.",
        f"  committed: botocore {old_info.get('botocore', '?')} ({old_info.get('digest', 'no digest')})",
        f"  installed: botocore {new_info['botocore']} ({new_info['digest']})",
    ]
    for kind, (before, after) in inventory_changes(old, new).items():
        added = sorted(after - before)
        removed = sorted(before - after)
        for label, items in (("added", added), ("removed", removed)):
            if items:
                shown = ", ".join(items[:20]) + (f", ... ({len(items) - 20} more)" if len(items) > 20 else "")
                lines.append(f"  {kind} {label} ({len(items)}): {shown}")
    changed = sorted(rel for rel in set(old) & set(new) if old[rel] != new[rel] and rel != "model.json")
    if changed:
        names = [Path(rel).stem for rel in changed]
        lines.append(f"  operation files changed ({len(names)}): " + ", ".join(names))
    lines.append(f"Regenerate with: {REGENERATE}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m specs.derive", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the committed specs with the installed botocore; exit 1 on any difference",
    )
    args = parser.parse_args(argv)
    files = derive()
    if args.check:
        old = committed()
        if old == files:
            info = json.loads(files["model.json"])
            print(f"specs up to date: {info['operation_count']} operations, botocore {info['botocore']}")
            return 0
        print(drift_summary(old, files))
        return 1
    write(files)
    info = json.loads(files["model.json"])
    print(
        f"wrote {info['operation_count']} operation specs ({len(info['seed_operations'])} seed) "
        f"from botocore {info['botocore']} to {SPEC_DIR}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
