"""Self-tests of the check declarations: every list of checks derives from them, and one more check needs one place."""
from __future__ import annotations

import contextlib
import json
import textwrap

import pytest

import specs
from conformance import checks
from conformance import report as reports
from conformance.checks import CHECKS, Check, checks_table, exchange_checks
from conformance.run import Options

from .servers import REPOSITORY, SuiteProcess, suite_environment

THROWAWAY = "answers_name_a_throwaway_header"


@contextlib.contextmanager
def throwaway_declared():
    """A strict exchange check declared for the length of the block, then withdrawn."""

    @checks.check("strict", applies_to="valid")
    def answers_name_a_throwaway_header(exchange):
        """Successful answers carry an x-throwaway header."""
        if 200 <= exchange.response.status < 300 and "x-throwaway" not in exchange.response.headers:
            checks.fail(THROWAWAY, "errors.error_shape", "No x-throwaway header", "The header is missing.",
                        exchange=exchange)

    try:
        yield CHECKS[THROWAWAY]
    finally:
        del CHECKS[THROWAWAY]


@pytest.fixture
def declared_throwaway():
    """The throwaway check, declared for the length of one test."""
    with throwaway_declared() as declared:
        yield declared


def test_a_declared_check_appears_in_every_list(declared_throwaway):
    assert declared_throwaway == Check(THROWAWAY, "strict", "valid", "Successful answers carry an x-throwaway header.",
                                       declared_throwaway.function)
    assert THROWAWAY in exchange_checks("valid") and THROWAWAY not in exchange_checks("invalid")
    assert Options(tier="strict").runs_check(THROWAWAY) and not Options(tier="complete").runs_check(THROWAWAY)
    assert THROWAWAY in reports.schema()["definitions"]["check"]["enum"]
    assert f"| `{THROWAWAY}` | strict | Successful answers carry an x-throwaway header. |" in checks_table()


def test_a_declared_check_can_be_withdrawn():
    before = list(CHECKS)
    with throwaway_declared():
        assert list(CHECKS) == before + [THROWAWAY]
    assert list(CHECKS) == before and THROWAWAY not in exchange_checks("valid")


def test_a_check_plugin_gets_its_own_cells_and_failures_in_a_run(tmp_path, declared_throwaway):
    """A check declared in a plugin module: its test cells run, and the report holds them, valid by the schema."""
    (tmp_path / "throwaway_check.py").write_text(textwrap.dedent(f'''
        from conformance import checks

        @checks.check("strict", applies_to="valid")
        def {THROWAWAY}(exchange):
            """Successful answers carry an x-throwaway header."""
            if 200 <= exchange.response.status < 300 and "x-throwaway" not in exchange.response.headers:
                checks.fail("{THROWAWAY}", "errors.error_shape", "No x-throwaway header",
                            "The header is missing.", exchange=exchange)
    '''))
    env = suite_environment(tmp_path, PYTHONPATH=str(tmp_path))
    run = SuiteProcess("emulator", ["-p", "throwaway_check", "--operations", "DescribeWorkspaceBundles",
                                    "--junitxml", str(tmp_path / "run.xml")], tmp_path, env=env).wait(600)
    assert run.returncode == 1, run.output[-3000:]
    data = run.data()
    reports.validate(data)  # by the schema of a process that declares the check too (the fixture's)
    assert data["operations"]["DescribeWorkspaceBundles"]["checks"][THROWAWAY] == "fail"
    failure = next(f for f in data["failures"] if f["check"] == THROWAWAY)
    cited = specs.rule("errors.error_shape")
    assert (failure["tier"], failure["rule"]) == ("strict", "errors.error_shape")
    assert (failure["source"], failure["evidence"]) == (cited["source"], cited["evidence"])
    assert "x-throwaway" not in failure["reproduce"] and "describe_workspace_bundles" in failure["reproduce"]
    assert f'name="test_exchanges[DescribeWorkspaceBundles-{THROWAWAY}]"' in (tmp_path / "run.xml").read_text()
    # Every other cell of the operation is what it is without the plugin: passing.
    others = {c: s for c, s in data["operations"]["DescribeWorkspaceBundles"]["checks"].items() if c != THROWAWAY}
    assert others and set(others.values()) == {"pass"}, others


@pytest.mark.parametrize("bad, message", [
    (dict(tier="urgent"), "Expected a tier"),
    (dict(applies_to="sometimes"), "Expected applies_to"),
    (dict(doc=""), "Expected a docstring"),
])
def test_a_bad_declaration_is_refused_with_the_fix(bad, message):
    fields = dict(name="throwaway_bad", tier="core", applies_to="any", doc="Judges nothing.")
    fields.update(bad)
    with pytest.raises(ValueError, match=message):
        checks._declare(Check(**fields))
    assert "throwaway_bad" not in CHECKS


def test_a_second_declaration_of_a_name_is_refused():
    with pytest.raises(ValueError, match="one declaration of each check"):
        checks.behaviour_check("tags", "strict", "Another tags check.", test="test_tags")
    assert CHECKS["tags"].tier == "complete"


def test_a_failure_of_an_undeclared_check_or_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="Expected a declared check"):
        checks.failure("tag", "tags.max_tags", "t", "m", operation="CreateTags")
    with pytest.raises(KeyError, match="rule id"):
        checks.failure("tags", "tags.no_such_rule", "t", "m", operation="CreateTags")


def test_a_failure_looks_up_its_source_evidence_and_tier_from_the_rule():
    documented = checks.failure("tags", "tags.max_tags", "t", "m", operation="CreateTags")
    entry = specs.rule("tags.max_tags")
    assert (documented.source, documented.evidence, documented.tier) == (entry["source"], entry["evidence"], "complete")
    # A rule may place its failures in a higher tier than its check's.
    sighting = checks.failure("state_transition", "observation.transitional_states", "t", "m", operation="StopWorkspaces")
    assert sighting.tier == "strict" and CHECKS["state_transition"].tier == "complete"
    model = checks.failure("response_enum", "model.DescribeWorkspaces.output.Workspaces[].State", "t", "m",
                           operation="DescribeWorkspaces")
    assert model.source.startswith("botocore model: WorkspaceState; https://") and model.evidence == "documented"


def test_the_committed_report_schema_lists_the_declared_checks():
    committed = json.loads((REPOSITORY / "conformance" / "report.schema.json").read_text(encoding="utf-8"))
    assert committed["definitions"]["check"]["enum"] == list(CHECKS)


def test_the_readme_table_is_the_declarations():
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What is checked", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == checks_table()


def test_every_behaviour_check_names_a_conformance_test_module_that_exists():
    for declared in CHECKS.values():
        assert (REPOSITORY / "conformance" / f"{declared.test}.py").is_file(), declared
        assert (declared.function is None) == (declared.applies_to == "behaviour"), declared
