"""Self-tests of the report: collection, scores, schema, Markdown and diff."""
from __future__ import annotations

import json

import jsonschema
import pytest

from conformance import report as reports
from conformance.checks import CHECKS, CheckFailure
from conformance.report import Cell, CellStatus


def collector():
    c = reports.Collector(tool_version="0.1.0", contract={"service": "workspaces", "api_version": "2015-04-08",
                                                          "botocore": "1.0"},
                          target={"endpoint": "http://127.0.0.1:1", "kind": "emulator"}, seed=7,
                          operations=["DescribeWorkspaces", "CreateTags"])
    return c


def failure(op="DescribeWorkspaces", check="response_enum", rule="model.x"):
    return CheckFailure(check=check, operation=op, title="t", message="m", rule=rule, source="s", evidence="documented",
                        tier=CHECKS[check].tier, reproduce="print()").to_report()


def test_scores_count_cells_in_their_tiers_and_skip_unimplemented():
    c = collector()
    c.record(Cell("DescribeWorkspaces", "response_schema", CellStatus.PASS))
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure()))
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.PASS))  # fail beats pass
    c.record(Cell("DescribeWorkspaces", "negative_data_rejection", CellStatus.PASS))
    c.set_implemented("CreateTags", False)
    c.record(Cell("CreateTags", "response_schema", CellStatus.FAIL, failure("CreateTags", "response_schema")))
    data = c.to_dict()
    reports.validate(data)
    assert data["summary"]["scores"] == {"core": 0.5, "complete": 1.0, "strict": None}
    assert data["summary"]["coverage"] == {"seed_operations": 2, "implemented": 1, "not_implemented": ["CreateTags"]}
    assert data["operations"]["CreateTags"]["checks"]["response_schema"] == "not_implemented"
    assert data["summary"]["checks"] == {"passed": 2, "failed": 1, "skipped": 1}


def test_one_failure_per_operation_check_rule():
    c = collector()
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure()))
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure()))
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure(rule="model.y")))
    assert len(c.to_dict()["failures"]) == 2


def test_a_cell_status_is_typed_and_reported_in_the_reports_spelling():
    with pytest.raises(TypeError, match="status='pass'"):
        Cell("DescribeWorkspaces", "response_enum", "pass")
    cell = Cell("DescribeWorkspaces", "response_enum", CellStatus.NOT_IMPLEMENTED)
    assert cell.to_record() == ["DescribeWorkspaces", "response_enum", "not_implemented", None]
    assert Cell.from_record(json.loads(json.dumps(cell.to_record()))) == cell
    c = collector()
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.SKIP))
    c.record(Cell("DescribeWorkspaces", "response_schema", CellStatus.NOT_IMPLEMENTED))
    c.record(Cell("DescribeWorkspaces", "response_schema", CellStatus.SKIP))  # skip beats not_implemented
    data = c.to_dict()
    reports.validate(data)
    assert data["operations"]["DescribeWorkspaces"]["checks"] == {"response_enum": "skip", "response_schema": "skip"}
    assert {status.value for status in CellStatus} == set(reports.SYMBOLS)


def test_schema_rejects_a_broken_report():
    data = collector().to_dict()
    data["summary"]["scores"]["core"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        reports.validate(data)
    data = collector().to_dict()
    data["operations"]["DescribeWorkspaces"]["checks"]["made_up_check"] = "pass"
    with pytest.raises(jsonschema.ValidationError):
        reports.validate(data)


def test_markdown_has_matrix_and_reproductions():
    c = collector()
    c.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure()))
    text = reports.markdown(c.to_dict())
    assert "| DescribeWorkspaces | ✗ |" in text
    assert "Reproduce with:" in text and "print()" in text


def test_diff_reports_regressions_fixes_and_coverage(tmp_path, capsys):
    old, new = collector(), collector()
    old.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure()))
    new.record(Cell("DescribeWorkspaces", "response_schema", CellStatus.FAIL, failure(check="response_schema")))
    new.set_implemented("CreateTags", False)
    (tmp_path / "old.json").write_text(json.dumps(old.to_dict()))
    (tmp_path / "new.json").write_text(json.dumps(new.to_dict()))
    assert reports.main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 1
    out = capsys.readouterr().out
    assert "Regressed (1):\n  DescribeWorkspaces response_schema\n" in out
    assert "Fixed (1):\n  DescribeWorkspaces response_enum\n" in out
    assert "DescribeWorkspaces response_schema model.x" in out
    assert "Coverage lost: CreateTags" in out
    assert reports.main(["diff", str(tmp_path / "new.json"), str(tmp_path / "new.json")]) == 0


def test_diff_rejects_a_file_that_is_not_a_report(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(SystemExit, match="not a conformance report"):
        reports.main(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")])


def test_baseline_is_the_union_of_failing_cells(tmp_path, capsys):
    one, two = collector(), collector()
    one.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.FAIL, failure()))
    one.record(Cell("DescribeWorkspaces", "pagination", CellStatus.PASS))
    two.record(Cell("DescribeWorkspaces", "response_enum", CellStatus.PASS))
    two.record(Cell("DescribeWorkspaces", "pagination", CellStatus.FAIL,
                    failure(check="pagination", rule="pagination.last_page")))
    for name, c in (("one", one), ("two", two)):
        (tmp_path / f"{name}.json").write_text(json.dumps(c.to_dict()))
    assert reports.main(["baseline", str(tmp_path / "b.json"), str(tmp_path / "one.json"), str(tmp_path / "two.json")]) == 0
    merged = reports.load(tmp_path / "b.json")
    assert reports.cell_failures(merged) == {("DescribeWorkspaces", "response_enum"), ("DescribeWorkspaces", "pagination")}
    assert len(merged["failures"]) == 2
