"""Self-tests of strategies.boundaries: deterministic, complete and correctly labelled."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import specs
import strategies
from strategies import semantics

OPERATIONS = specs.operation_names()
ROOT = Path(__file__).resolve().parents[1]


def label_problems(case: strategies.Boundary) -> list[str]:
    """What is wrong with ``case``'s label, judged by what the label claims (empty when right).

    A case labelled valid must satisfy the schema and break no rule. A case
    labelled invalid with a rule must satisfy the schema and break exactly that
    rule. Any other case labelled invalid must break its keyword at its path
    and nothing else, except the pattern a length outside every pattern match
    also breaks (its note says so) and a rule that restates a list's
    ``maxItems``.
    """
    validator = jsonschema.Draft7Validator(specs.operation(case.operation)["input"])
    errors = {(".".join(str(p) for p in e.absolute_path), e.validator)
              for e in validator.iter_errors(case.params)}
    broken = semantics.broken_rules(case.operation, case.params)
    if case.valid:
        return [f"labelled valid but {what}" for what, bad in (
            (f"names rule {case.rule}", case.rule is not None),
            (f"breaks the schema: {sorted(errors)}", errors),
            (f"breaks rules {sorted(broken)}", broken)) if bad]
    if case.rule is not None:
        return [f"labelled as breaking rule {case.rule} but {what}" for what, bad in (
            (f"breaks the schema: {sorted(errors)}", errors),
            (f"breaks rules {sorted(broken)}", broken != {case.rule})) if bad]
    path = case.path.replace("[", ".").replace("]", "")
    also = {"pattern"} if "outside the pattern" in case.note else set()
    restating = ({r.rule for r in semantics.for_operation(case.operation).max_requests}
                 if case.keyword == "maxItems" else set())
    return [f"labelled as breaking {case.keyword} at {path} but {what}" for what, bad in (
        (f"the schema reports {sorted(errors)}", (path, case.keyword) not in errors),
        (f"also breaks the schema elsewhere: {sorted(errors)}",
         errors - {(path, case.keyword)} - {(path, k) for k in also}),
        (f"breaks rules {sorted(broken)}", broken - restating)) if bad]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_boundary_labels_are_right(operation):
    for case in strategies.boundaries(operation):
        assert label_problems(case) == [], (case.path, case.note, case.params)


def test_a_mislabelled_case_is_rejected():
    # Each case with its label flipped, and an invalid-labelled case that
    # breaks a rule but not the schema keyword it claims (which a judge that
    # accepts any broken rule for an invalid label would pass).
    cases = strategies.boundaries("CreateWorkspaces") + strategies.boundaries("DescribeWorkspaces")
    for case in cases:
        flipped = dataclasses.replace(case, valid=not case.valid)
        assert label_problems(flipped), (case.path, case.note, case.valid)
    by_rule = [c for c in cases if c.rule is not None]
    assert by_rule
    for case in by_rule:
        assert label_problems(dataclasses.replace(case, rule=None)), (case.path, case.note)
        assert label_problems(dataclasses.replace(case, rule="filters.not_a_rule")), case.path


# Prints the seed operations' boundary cases, every field, in one canonical form.
_DUMP = """
import dataclasses, json, specs, strategies
print(json.dumps({op: [dataclasses.asdict(case) for case in strategies.boundaries(op)]
                  for op in specs.seed_operations()}, sort_keys=True))
"""


def test_boundaries_are_deterministic():
    # Set iteration order follows the hash seed, so a case list built from an
    # unordered collection would differ between these processes.
    outputs = {}
    for seed in ("0", "1", "2", "4242"):
        done = subprocess.run([sys.executable, "-c", _DUMP], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs[seed] = done.stdout
    assert len(set(outputs.values())) == 1, {seed: len(out) for seed, out in outputs.items()}
    cases = json.loads(outputs["0"])
    assert all(cases[op] for op in specs.seed_operations()), {op: len(found) for op, found in cases.items()}


def test_each_bound_gets_min_minus_one_to_max_plus_one():
    cases = [c for c in strategies.boundaries("DescribeWorkspaces") if c.path == "Limit"]
    assert [(c.params["Limit"], c.valid) for c in cases] == [
        (0, False), (1, True), (25, True), (26, False)]
    lists = [c for c in strategies.boundaries("DescribeWorkspaces") if c.path == "WorkspaceIds"]
    assert [(len(c.params["WorkspaceIds"]), c.valid) for c in lists] == [
        (0, False), (1, True), (25, True), (26, False)]


def test_enum_edges_and_near_misses():
    cases = [c for c in strategies.boundaries("ModifyWorkspaceProperties")
             if c.path == "DataReplication"]
    values = [(c.params["DataReplication"], c.valid) for c in cases]
    assert values == [("NO_REPLICATION", True), ("PRIMARY_AS_SOURCE", True),
                      ("no_replication", False), ("PRIMARY_AS_SOURCE ", False)]


def test_long_maxima_are_built():
    cases = [c for c in strategies.boundaries("DescribeWorkspaces") if c.path == "NextToken"]
    assert sorted(len(c.params["NextToken"]) for c in cases) == [0, 1, 2048, 2049]


def test_the_rebuild_rule_caps_item_boundaries():
    cases = {len(c.params["RebuildWorkspaceRequests"]): c.valid
             for c in strategies.boundaries("RebuildWorkspaces")
             if c.path == "RebuildWorkspaceRequests"}
    assert cases == {0: False, 1: True, 2: False}


def test_an_invalid_case_carries_the_violation_an_invalid_request_names():
    # One sender judges boundary cases and invalid requests alike: the same break has the same kind,
    # keyword and rule whichever strategy made it.
    from strategies.invalid import mutations

    invalid = 0
    for operation in specs.seed_operations():
        named = {}
        for mutation in mutations(operation):
            named.setdefault(mutation.keyword or mutation.rule, set()).add((mutation.kind, mutation.rule))
        for case in strategies.boundaries(operation):
            violation = case.violation
            if case.valid:
                assert violation is None, (case.path, case.note)
                continue
            invalid += 1
            assert (violation.path, violation.note) == (case.path, case.note)
            if case.rule is None:
                assert violation.keyword == case.keyword
                assert (violation.kind, violation.rule) in named[case.keyword], (case.path, violation)
            else:
                assert violation.keyword is None and violation.rule == case.rule
                assert (violation.kind, violation.rule) in named[case.rule], (case.path, violation)
    assert invalid > 50
    flipped = dataclasses.replace(strategies.boundaries("DescribeWorkspaces")[0], valid=True)
    assert flipped.violation is None
