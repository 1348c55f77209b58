"""Self-tests of strategies.boundaries: deterministic, complete and correctly labelled."""
import jsonschema
import pytest

import specs
import strategies
from strategies import semantics

OPERATIONS = specs.operation_names()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_boundary_labels_are_right(operation):
    validator = jsonschema.Draft7Validator(specs.operation(operation)["input"])
    for case in strategies.boundaries(operation):
        errors = [(".".join(str(p) for p in e.absolute_path), e.validator)
                  for e in validator.iter_errors(case.params)]
        broken = semantics.broken_rules(operation, case.params)
        if case.valid:
            assert errors == [] and broken == set(), (case.path, case.note, errors, broken)
        else:
            path = case.path.replace("[", ".").replace("]", "")
            assert (path, case.keyword) in errors or broken, (case.path, case.note, errors)


def test_boundaries_are_deterministic():
    assert strategies.boundaries("DescribeWorkspaces") == strategies.boundaries("DescribeWorkspaces")


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
