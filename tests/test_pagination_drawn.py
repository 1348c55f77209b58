"""Self-tests of the drawn pagination traversals: the page sizes vary, boundaries are crossed, failures shrink.

What reaches the target is counted at the target: a proxy in front of an
in-process emulator records the Limit of every DescribeWorkspaces request.
"""
from __future__ import annotations

import pytest

from conformance import test_pagination
from conformance.checks import CheckFailure
from conformance.run import Options, Run

from .servers import CountingProxy

OPERATIONS = ["DescribeWorkspaces", "CreateWorkspaces", "TerminateWorkspaces"]


def test_drawn_traversals_use_many_page_sizes_and_cross_boundaries_at_them(emulator):
    with CountingProxy(emulator.url) as proxy:
        run = Run(Options(endpoint=proxy.url, operations=OPERATIONS))
        try:
            test_pagination.drawn_traversals("DescribeWorkspaces", run, test_pagination.PagedListings(run))
        finally:
            run.close()
        describes = [r["request"] or {} for r in proxy.snapshot() if r["operation"] == "DescribeWorkspaces"]
        created = proxy.created()
    limits = {request["Limit"] for request in describes if "Limit" in request}
    # A Limit > 1 followed to a second page: a boundary between pages of several items.
    crossed = {request["Limit"] for request in describes if request.get("Limit", 1) > 1 and "NextToken" in request}
    print(f"Limits sent: {sorted(limits)}; boundaries crossed at {sorted(crossed)}; {len(created)} WorkSpaces made")
    assert len({limit for limit in limits if limit > 1}) >= 2, limits
    assert len(crossed) >= 2, crossed
    assert limits <= set(range(1, 26))  # the model's range, nothing outside it
    assert 0 < len(created) <= test_pagination.PAGED_WORKSPACES


def test_a_boundary_bug_shrinks_to_the_smallest_listing_and_page_size():
    run = Run(Options(operations=OPERATIONS, emulator_faults=("token_marks_first_item",)))
    try:
        with pytest.raises(CheckFailure) as failure:
            test_pagination.drawn_traversals("DescribeWorkspaces", run, test_pagination.PagedListings(run))
    finally:
        run.close()
    params = failure.value.request["params"]
    # Limit=1 cannot show it; the least that can is a page of 2 and a third item to page to.
    assert (params["Limit"], len(params["WorkspaceIds"])) == (2, 3), params
    assert failure.value.rule == "pagination.complete_traversal" and failure.value.reproduce
