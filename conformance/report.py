"""Conformance reports: collect outcomes, score them, write JSON and Markdown, diff two reports.

``python -m conformance.report diff OLD NEW`` prints what regressed, what was
fixed and how coverage changed, and exits 1 when anything regressed.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import enum
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import jsonschema

import specs

from . import EXIT_UNREACHABLE
from .checks import CHECKS, TIERS

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


class CellStatus(enum.Enum):
    """What a report cell says of one operation under one check; the value is how the report spells it."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    NOT_IMPLEMENTED = "not_implemented"

    @property
    def weight(self) -> int:
        """How outcomes of one cell merge: the heavier wins (fail beats pass beats skip)."""
        return _WEIGHTS[self]


_WEIGHTS = {CellStatus.FAIL: 3, CellStatus.PASS: 2, CellStatus.SKIP: 1, CellStatus.NOT_IMPLEMENTED: 0}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One outcome of one (operation, check) cell, with the report entry of the failure behind a failing one."""

    operation: str
    check: str
    status: CellStatus
    failure: dict | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.status, CellStatus):
            raise TypeError(f"Expected a CellStatus but got status={self.status!r}; use CellStatus({self.status!r})")

    def to_record(self) -> list:
        """The cell as JSON-ready data (the form a pytest-xdist worker sends it in)."""
        return [self.operation, self.check, self.status.value, self.failure]

    @classmethod
    def from_record(cls, record: list) -> "Cell":
        operation, check, status, failure = record
        return cls(operation, check, CellStatus(status), failure)


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

    def record(self, cell: Cell) -> None:
        """Merge one outcome into its (operation, check) cell: fail beats pass beats skip."""
        entry = self.operations.setdefault(cell.operation, {"implemented": True, "checks": {}})
        status = cell.status if entry["implemented"] else CellStatus.NOT_IMPLEMENTED
        current = entry["checks"].get(cell.check)
        if current is None or status.weight > current.weight:
            entry["checks"][cell.check] = status
        failure = cell.failure
        if failure is not None:
            key = (failure["operation"], failure["check"], failure["rule"])
            if key not in self._failure_keys:
                self._failure_keys.add(key)
                self.failures.append(failure)

    def _scores(self) -> tuple[dict, dict]:
        """The counts of passed, failed and skipped cells, and each tier's score."""
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        tier_counts = {tier: [0, 0] for tier in TIERS}
        for entry in self.operations.values():
            for check, status in entry["checks"].items():
                if status is CellStatus.PASS:
                    counts["passed"] += 1
                    tier_counts[CHECKS[check].tier][0] += 1
                elif status is CellStatus.FAIL:
                    counts["failed"] += 1
                    tier_counts[CHECKS[check].tier][1] += 1
                else:
                    counts["skipped"] += 1
        scores = {tier: (round(p / (p + f), 4) if p + f else None) for tier, (p, f) in tier_counts.items()}
        return counts, scores

    def to_dict(self) -> dict:
        """The report: what the run judged, its scores, failures and notes (see report.schema.json)."""
        counts, scores = self._scores()
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
                op: {"implemented": entry["implemented"],
                     "checks": {check: status.value for check, status in sorted(entry["checks"].items())}}
                for op, entry in self.operations.items()
            },
            "failures": sorted(self.failures, key=lambda f: (f["operation"], f["check"], f["rule"])),
            "notes": self.notes,
        }


def schema() -> dict:
    """The report's JSON Schema: report.schema.json, its check names those the run declares.

    The committed file lists the suite's own checks for readers of reports; a
    self-test holds it against the declarations, and a check a plugin declares
    is valid here too.
    """
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    loaded["definitions"]["check"] = {"enum": list(CHECKS)}
    return loaded


def validate(report: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when ``report`` breaks the report schema (see :func:`schema`)."""
    jsonschema.Draft7Validator(schema()).validate(report)


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
    return [check for check in CHECKS if check in seen]


def markdown(report: dict) -> str:
    """The report as Markdown: scores, coverage, the operations x checks matrix, failures."""
    lines = _markdown_summary(report) + _markdown_matrix(report)
    if report["failures"]:
        lines += ["## Failures", ""]
        for failure in report["failures"]:
            lines += _markdown_failure(failure)
    return "\n".join(lines)


def _markdown_summary(report: dict) -> list[str]:
    """The title, the run's seed, time and contract, and the table of coverage, scores and counts."""
    summary = report["summary"]
    coverage = summary["coverage"]
    drift = report["contract"].get("drift")
    return [
        f"# WorkSpaces conformance: {report['target']['kind']} at {report['target']['endpoint']}",
        "",
        f"Seed {report['seed']}, {report['started']}, {report['duration_s']} s, "
        f"contract from botocore {report['contract'].get('botocore')}"
        + (f" (installed botocore {drift['installed_botocore']} differs: {drift['differences']})" if drift else "")
        + ".",
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


def _markdown_matrix(report: dict) -> list[str]:
    """The operations x checks matrix of symbols, and the legend saying what each means."""
    checks = checks_in(report)
    lines = ["| operation | " + " | ".join(checks) + " |", "|---|" + "---|" * len(checks)]
    for op, entry in report["operations"].items():
        cells = [SYMBOLS.get(entry["checks"].get(check, ""), "") for check in checks]
        name = op if entry["implemented"] else f"{op} (not implemented)"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Legend:", ""]
    lines += [f"- {SYMBOLS[status]} {meaning}" for status, meaning in MEANINGS.items()]
    lines += [f"- {BLANK_MEANS}",
              "- a tier's score is passed ÷ (passed + failed) over the cells of that tier's checks; "
              f"{_score(None)} when none was judged", ""]
    return lines


def _markdown_failure(failure: dict) -> list[str]:
    """One failure: its cell and rule, title, tier and source, message, and the program that reproduces it."""
    return [
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
