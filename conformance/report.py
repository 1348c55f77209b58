"""Conformance reports: collect outcomes, score them, write JSON and Markdown, diff two reports.

``python -m conformance.report diff OLD NEW`` prints what regressed, what was
fixed and how coverage changed, and exits 1 when anything regressed.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import jsonschema

import specs

from . import EXIT_UNREACHABLE
from .checks import CHECK_TIERS, TIERS

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
STATUS_ORDER = {"fail": 3, "pass": 2, "skip": 1, "not_implemented": 0}
SYMBOLS = {"pass": "✓", "fail": "✗", "skip": "·", "not_implemented": "n/i"}
# What each symbol of the Markdown matrix means, and what a blank cell does.
MEANINGS = {
    "pass": "passed: the check judged the operation and found no deviation",
    "fail": "failed: the check found a deviation (see Failures)",
    "skip": "skipped: the check could not judge here (read-only target, no live resource, budget, throttling; "
            "the reason is in the pytest output)",
    "not_implemented": "not implemented: the target does not implement the operation; left out of the scores",
}
BLANK_MEANS = ("a blank cell: the check does not apply to that operation, or the run did not select it "
               "(--tier, --checks)")


def contract_record() -> dict:
    """What a report says of the contract it judged by: its version, origin and drift from the installed model."""
    info = specs.model_info()
    record = {
        "service": "workspaces",
        "api_version": info["api_version"],
        "botocore": info["botocore"],
        "origin": specs.contract_origin(),
    }
    drift = specs.drift()
    if drift is not None:
        record["drift"] = drift.to_report()
    return record


class Collector:
    """Gathers per-(operation, check) outcomes and failures during a run."""

    def __init__(self, *, tool_version: str, contract: dict, target: dict, seed, operations: list[str]):
        self.tool_version = tool_version
        self.contract = contract
        self.target = target
        self.seed = seed
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self._clock = time.monotonic()
        self.operations: dict[str, dict] = {op: {"implemented": True, "checks": {}} for op in operations}
        self.failures: list[dict] = []
        self._failure_keys: set[tuple] = set()
        self.notes: list[str] = []

    def set_implemented(self, operation: str, implemented: bool) -> None:
        self.operations.setdefault(operation, {"implemented": True, "checks": {}})["implemented"] = implemented

    def record(self, operation: str, check: str, status: str, failures=()) -> None:
        """Merge one outcome into the (operation, check) cell: fail beats pass beats skip."""
        entry = self.operations.setdefault(operation, {"implemented": True, "checks": {}})
        if not entry["implemented"]:
            status = "not_implemented"
        current = entry["checks"].get(check)
        if current is None or STATUS_ORDER[status] > STATUS_ORDER[current]:
            entry["checks"][check] = status
        for failure in failures:
            key = (failure["operation"], failure["check"], failure["rule"])
            if key not in self._failure_keys:
                self._failure_keys.add(key)
                self.failures.append(failure)

    def to_dict(self) -> dict:
        cells = [
            (op, check, status)
            for op, entry in self.operations.items()
            for check, status in entry["checks"].items()
        ]
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        tier_counts = {tier: [0, 0] for tier in TIERS}
        for _, check, status in cells:
            if status == "pass":
                counts["passed"] += 1
                tier_counts[CHECK_TIERS[check]][0] += 1
            elif status == "fail":
                counts["failed"] += 1
                tier_counts[CHECK_TIERS[check]][1] += 1
            else:
                counts["skipped"] += 1
        scores = {
            tier: (round(p / (p + f), 4) if p + f else None) for tier, (p, f) in tier_counts.items()
        }
        implemented = [op for op, entry in self.operations.items() if entry["implemented"]]
        return {
            "tool": {"name": "workspaces-conformance", "version": self.tool_version},
            "contract": self.contract,
            "target": self.target,
            "seed": self.seed,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - self._clock, 3),
            "summary": {
                "coverage": {
                    "seed_operations": len(self.operations),
                    "implemented": len(implemented),
                    "not_implemented": sorted(set(self.operations) - set(implemented)),
                },
                "scores": scores,
                "checks": counts,
            },
            "operations": {
                op: {"implemented": entry["implemented"], "checks": dict(sorted(entry["checks"].items()))}
                for op, entry in self.operations.items()
            },
            "failures": sorted(self.failures, key=lambda f: (f["operation"], f["check"], f["rule"])),
            "notes": self.notes,
        }


def validate(report: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when ``report`` breaks report.schema.json."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(report)


def write_json(report: dict, path: str | Path) -> Path:
    """Write ``report`` to ``path`` atomically: a reader sees the old report or the new one, never half of one."""
    return write_text(json.dumps(report, indent=2, default=str) + "\n", path)


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it and one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def checks_in(report: dict) -> list[str]:
    seen = {check for entry in report["operations"].values() for check in entry["checks"]}
    return [check for check in CHECK_TIERS if check in seen]


def markdown(report: dict) -> str:
    """The report as Markdown: scores, coverage, the operations x checks matrix, failures."""
    summary = report["summary"]
    coverage = summary["coverage"]
    lines = [
        f"# WorkSpaces conformance: {report['target']['kind']} at {report['target']['endpoint']}",
        "",
        f"Seed {report['seed']}, {report['started']}, {report['duration_s']} s, "
        f"contract from botocore {report['contract'].get('botocore')}"
        + (f" (installed botocore {report['contract']['drift']['installed_botocore']} differs: "
           f"{report['contract']['drift']['differences']})" if report["contract"].get("drift") else "") + ".",
        "",
        "| coverage | core | complete | strict | passed | failed | skipped |",
        "|---|---|---|---|---|---|---|",
        "| {}/{} | {} | {} | {} | {} | {} | {} |".format(
            coverage["implemented"], coverage["seed_operations"],
            *(_score(summary["scores"][tier]) for tier in TIERS),
            summary["checks"]["passed"], summary["checks"]["failed"], summary["checks"]["skipped"],
        ),
        "",
    ]
    checks = checks_in(report)
    lines.append("| operation | " + " | ".join(checks) + " |")
    lines.append("|---|" + "---|" * len(checks))
    for op, entry in report["operations"].items():
        cells = [SYMBOLS.get(entry["checks"].get(check, ""), "") for check in checks]
        name = op if entry["implemented"] else f"{op} (not implemented)"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Legend:", ""]
    lines += [f"- {SYMBOLS[status]} {meaning}" for status, meaning in MEANINGS.items()]
    lines += [f"- {BLANK_MEANS}",
              "- a tier's score is passed ÷ (passed + failed) over the cells of that tier's checks; "
              f"{_score(None)} when none was judged", ""]
    if report["failures"]:
        lines += ["## Failures", ""]
        for failure in report["failures"]:
            lines += [
                f"### {failure['operation']} · {failure['check']} · {failure['rule']}",
                "",
                f"**{failure.get('title', '')}** ({failure['tier']}; source: {failure['source']})",
                "",
                "```",
                failure["message"],
                "```",
                "",
                "Reproduce with:",
                "",
                "```python",
                failure["reproduce"],
                "```",
                "",
            ]
    return "\n".join(lines)


def _score(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def summary_table(report: dict) -> list[str]:
    """Plain-text lines for the end of a pytest run."""
    summary = report["summary"]
    coverage = summary["coverage"]
    scores = ", ".join(f"{tier} {_score(summary['scores'][tier])}" for tier in TIERS)
    lines = [
        f"target: {report['target']['kind']} {report['target']['endpoint']}  seed: {report['seed']}",
        f"coverage: {coverage['implemented']}/{coverage['seed_operations']} seed operations implemented"
        + (f" (not implemented: {', '.join(coverage['not_implemented'])})" if coverage["not_implemented"] else ""),
        f"scores: {scores}   checks: {summary['checks']['passed']} passed, "
        f"{summary['checks']['failed']} failed, {summary['checks']['skipped']} skipped",
        "",
        f"{'operation':<36} {'impl':<5} {'pass':>4} {'fail':>4}  failing checks",
    ]
    for op, entry in report["operations"].items():
        statuses = list(entry["checks"].values())
        failing = [c for c, s in entry["checks"].items() if s == "fail"]
        lines.append(
            f"{op:<36} {'yes' if entry['implemented'] else 'no':<5} "
            f"{statuses.count('pass'):>4} {statuses.count('fail'):>4}  {', '.join(failing)}"
        )
    return lines


# --- diff and baseline ------------------------------------------------------------------------


def failure_keys(report: dict) -> set[tuple[str, str, str]]:
    return {(f["operation"], f["check"], f["rule"]) for f in report.get("failures", [])}


def cell_failures(report: dict) -> set[tuple[str, str]]:
    """The failing (operation, check) cells, those of unimplemented operations included."""
    cells = {
        (op, check)
        for op, entry in report.get("operations", {}).items()
        for check, status in entry.get("checks", {}).items()
        if status == "fail"
    }
    return cells | {(f["operation"], f["check"]) for f in report.get("failures", [])}


# The notes with which runs that could not start wrote their reports (versions before 0.2 did).
_NEVER_STARTED = ("target unreachable:", "cannot start:")


def unreachable(report: dict) -> str | None:
    """Why the run behind ``report`` never reached its target, or None when it did.

    Such a report lists every operation as not implemented; compared with a good
    one it would blame the endpoint for what was a network or set-up problem.
    """
    if any(entry.get("checks") for entry in report.get("operations", {}).values()):
        return None
    return next((note for note in report.get("notes", []) if note.startswith(_NEVER_STARTED)), None)


def diff(old: dict, new: dict) -> dict:
    """What regressed, what was fixed, and how coverage changed from ``old`` to ``new``.

    Regressions and fixes are (operation, check) cells: which example a failing
    check shrinks to, and so which rule it names first, may vary between runs.
    """
    old_impl = {op for op, e in old.get("operations", {}).items() if e.get("implemented")}
    new_impl = {op for op, e in new.get("operations", {}).items() if e.get("implemented")}
    return {
        "regressed": sorted(cell_failures(new) - cell_failures(old)),
        "fixed": sorted(cell_failures(old) - cell_failures(new)),
        "new_rules": sorted(failure_keys(new) - failure_keys(old)),
        "coverage_gained": sorted(new_impl - old_impl),
        "coverage_lost": sorted(old_impl - new_impl),
        "scores": {tier: (old["summary"]["scores"].get(tier), new["summary"]["scores"].get(tier)) for tier in TIERS},
    }


def format_diff(result: dict) -> str:
    lines = []
    for label, key in (("Regressed", "regressed"), ("Fixed", "fixed")):
        lines.append(f"{label} ({len(result[key])}):")
        lines += [f"  {op} {check}" for op, check in result[key]]
    if result["new_rules"]:
        lines.append(f"Failing rules not in the old report ({len(result['new_rules'])}):")
        lines += [f"  {op} {check} {rule}" for op, check, rule in result["new_rules"]]
    for label, key in (("Coverage gained", "coverage_gained"), ("Coverage lost", "coverage_lost")):
        if result[key]:
            lines.append(f"{label}: {', '.join(result[key])}")
    lines.append("Scores: " + ", ".join(f"{t} {_score(a)} -> {_score(b)}" for t, (a, b) in result["scores"].items()))
    return "\n".join(lines)


def union(reports: list[dict]) -> dict:
    """A baseline from several runs: the first report, failing wherever any of them failed.

    A target whose failures depend on timing or state fails different cells in
    different runs; a gate built from one run would then fail at random.
    """
    merged = json.loads(json.dumps(reports[0]))
    seen = failure_keys(merged)
    for other in reports[1:]:
        for op, entry in other.get("operations", {}).items():
            cells = merged["operations"].setdefault(op, {"implemented": entry["implemented"], "checks": {}})["checks"]
            for check, status in entry["checks"].items():
                if status == "fail" or check not in cells:
                    cells[check] = status
        for failure in other.get("failures", []):
            key = (failure["operation"], failure["check"], failure["rule"])
            if key not in seen:
                seen.add(key)
                merged["failures"].append(failure)
    merged["notes"] = merged.get("notes", []) + [f"baseline: union of {len(reports)} runs"]
    return merged


def load(path: str | Path) -> dict:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"Expected a conformance report at {path} but there is no such file")
    except json.JSONDecodeError as error:
        raise SystemExit(f"Expected a JSON conformance report at {path} but it does not parse: {error}")
    try:
        validate(report)
    except jsonschema.ValidationError as error:
        raise SystemExit(f"{path} is not a conformance report: {error.message}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.report")
    commands = parser.add_subparsers(dest="command", required=True)
    diff_parser = commands.add_parser("diff", help="compare two reports; exit 1 when anything regressed")
    diff_parser.add_argument("old")
    diff_parser.add_argument("new")
    markdown_parser = commands.add_parser("markdown", help="render a JSON report as Markdown")
    markdown_parser.add_argument("report")
    union_parser = commands.add_parser("baseline", help="write a baseline failing wherever any of the reports failed")
    union_parser.add_argument("out")
    union_parser.add_argument("reports", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "baseline":
        merged = union([load(path) for path in args.reports])
        write_json(merged, args.out)
        print(f"{args.out}: {len(cell_failures(merged))} failing cells from {len(args.reports)} report(s)")
        return 0
    if args.command == "diff":
        old, new = load(args.old), load(args.new)
        for path, report in ((args.old, old), (args.new, new)):
            reason = unreachable(report)
            if reason:
                print(f"{path}: the run never reached its target ({reason}); nothing to compare")
                return EXIT_UNREACHABLE
        result = diff(old, new)
        print(format_diff(result))
        return 1 if result["regressed"] or result["coverage_lost"] else 0
    print(markdown(load(args.report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
