"""Self-tests that runs leave nothing behind, on every kind of target, and so cost the same every time.

A long-lived endpoint (a standalone emulator here, LocalStack or a mock in the
wild) is run against repeatedly: each run terminates every WorkSpace it made,
those of generated CreateWorkspaces requests included, so the tenth run finds
the target as the first did. ``--keep-resources`` keeps them, tagged with the
run id, for the sweep to remove later. The embedded emulator is emptied of the
run's WorkSpaces too, and a target that cannot terminate gets a note, not a failure.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import specs
from conformance import behaviour
from conformance.cleanup import RUN_TAG
from conformance.run import KEPT, Options, Run
from emulator import Emulator

from .servers import REPOSITORY, CountingProxy, LoopbackServer, SuiteProcess, direct_client, tags_of

# The operations that make WorkSpaces (generated creates, the pool, the lifecycle) and take them away.
SUBSET = ["--operations", "CreateWorkspaces,TerminateWorkspaces,DescribeWorkspaces"]
GONE = specs.gone_states(specs.resource("workspaces"))


@pytest.fixture(scope="module")
def standalone():
    """One emulator for the whole module, as a long-lived endpoint outlives the runs against it."""
    server = Emulator(port=0, polls_per_state=1)
    server.start()
    yield server
    server.stop()


def live(client) -> set[str]:
    """Ids of the WorkSpaces the target describes in a state other than TERMINATING/TERMINATED."""
    found = set()
    for page in client.get_paginator("describe_workspaces").paginate():
        found |= {w["WorkspaceId"] for w in page["Workspaces"] if w["State"] not in GONE}
    return found


def listed(proxy: CountingProxy) -> int:
    """How many WorkSpaces the DescribeWorkspaces answers through ``proxy`` listed in all: what leftovers inflate."""
    return sum(len((record["response"] or {}).get("Workspaces") or []) for record in proxy.snapshot()
               if record["operation"] == "DescribeWorkspaces")


def test_repeated_runs_leave_the_target_as_they_found_it_and_cost_the_same(standalone, tmp_path):
    client = direct_client(standalone.url)
    before = live(client)
    seconds, listings = [], []
    for number in (1, 2, 3):
        with CountingProxy(standalone.url) as proxy:
            started = time.monotonic()
            run = SuiteProcess(proxy.url, SUBSET, tmp_path, name=f"run{number}").wait(timeout=300)
            seconds.append(time.monotonic() - started)
            listings.append(listed(proxy))
        assert run.returncode == 0, run.output[-3000:]
        cleaned = [note for note in run.data()["notes"] if note.startswith("cleanup: terminated")]
        assert cleaned, run.data()["notes"]
        after = live(client)
        print(f"run {number}: {seconds[-1]:.1f} s, {listings[-1]} WorkSpaces listed, live WorkSpaces "
              f"{len(before)} before the first run, {len(after)} after; {cleaned[0][:60]}...")
        assert after == before, f"run {number} left {len(after - before)} WorkSpaces: {sorted(after - before)[:10]}"
    # What the target has to list is the cost leftovers would add (each leaked run adds its ~100 WorkSpaces);
    # the first run lists fewer, as the WorkSpaces terminated before it are still described for a while.
    # Wall time on a shared machine is compared only roughly.
    assert listings[2] - listings[1] < 50, f"the third run listed {listings[2]} WorkSpaces, the second {listings[1]}"
    assert seconds[2] <= 2.0 * seconds[0], f"the third run took {seconds[2]:.1f} s, the first {seconds[0]:.1f} s"


def test_kept_resources_carry_the_run_tag_and_the_sweep_removes_them(standalone, tmp_path):
    client = direct_client(standalone.url)
    before = live(client)
    run = SuiteProcess(standalone.url, SUBSET + ["--keep-resources"], tmp_path).wait(timeout=300)
    assert run.returncode == 0, run.output[-3000:]
    kept = live(client) - before
    assert kept, "--keep-resources kept nothing"
    run_ids = {tags_of(client, workspace_id).get(RUN_TAG) for workspace_id in kept}
    assert len(run_ids) == 1 and None not in run_ids, f"kept WorkSpaces without the one run tag: {run_ids}"
    [note] = [note for note in run.data()["notes"] if note.startswith(f"{KEPT}:")]
    sweep_command = f"python -m conformance sweep --endpoint {standalone.url} --run-id {run_ids.pop()}"
    assert all(workspace_id in note for workspace_id in kept) and sweep_command in note
    assert sweep_command in run.output  # printed at the end of the run, not only written to the report
    print(f"kept {len(kept)} WorkSpaces, all tagged; {note[:80]}...")
    sweep = subprocess.run([sys.executable, "-m", "conformance", "sweep", "--endpoint", standalone.url],
                           cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    assert f"{len(kept)} WorkSpace(s) carry {RUN_TAG}" in sweep.stdout
    assert live(client) == before


def test_the_embedded_emulator_is_emptied_of_the_runs_workspaces_at_the_end():
    run = Run(Options(operations=["CreateWorkspaces", "TerminateWorkspaces", "DescribeWorkspaces", "CreateTags"]))
    stop, run.target._stop = run.target._stop, None  # the emulator stays up after close(), to be looked at
    try:
        client = direct_client(run.target.endpoint)
        journey, _ = behaviour.LifecycleDriver(run).create("AUTO_STOP", judge=False)
        pool = run.pool(workspaces=3)  # the WorkSpaces tag tests and generated requests act on
        room = run.target.room()
        drawn = {"DirectoryId": pool.directories[0], "UserName": "drawn", "BundleId": pool.bundles[0]}
        answer = run.call("CreateWorkspaces", {"Workspaces": [drawn]}).response.json
        generated = answer["PendingRequests"][0]["WorkspaceId"]
        assert generated in run.target.generated and run.target.room() == room  # the budget is for real accounts
        assert tags_of(client, generated)[RUN_TAG] == run.target.run_id  # a sweep would find it
        made = set(run.target.created)
        assert {journey, generated} <= made and len(made) >= 3 and made <= live(client)
        run.close()
        assert made & live(client) == set()
        [note] = [note for note in run.collector.notes if note.startswith("cleanup: terminated")]
        assert all(workspace_id in note for workspace_id in made)
    finally:
        stop()


class NoTermination(LoopbackServer):
    """A mock that creates WorkSpaces but cannot terminate them: TerminateWorkspaces answers ``terminate``."""

    def __init__(self, terminate: tuple[int, dict]):
        super().__init__()
        self.terminate = terminate

    def answer(self, request, body):
        operation = request.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        status, payload = 200, {}
        if operation == "CreateWorkspaces":
            payload = {"PendingRequests": [{"WorkspaceId": "ws-keptalive1", "State": "PENDING"}], "FailedRequests": []}
        elif operation == "DescribeWorkspaces":
            payload = {"Workspaces": [{"WorkspaceId": "ws-keptalive1", "State": "AVAILABLE"}]}
        elif operation == "TerminateWorkspaces":
            status, payload = self.terminate
        return status, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(payload).encode()


@pytest.mark.parametrize("terminate, operations, expected", [
    ((501, {}), ["CreateWorkspaces", "TerminateWorkspaces"], "does not implement TerminateWorkspaces"),
    ((400, {"__type": "AccessDeniedException", "message": "no"}), ["CreateWorkspaces"],
     "refused to terminate ws-keptalive1; run python -m conformance sweep"),
], ids=["not-implemented", "refused"])
def test_a_target_that_cannot_terminate_gets_a_note_not_a_failure(terminate, operations, expected):
    with NoTermination(terminate) as server:
        run = Run(Options(endpoint=server.url, operations=operations))
        run.call("CreateWorkspaces", {"Workspaces": [{"DirectoryId": "d-0000000000", "UserName": "u",
                                                      "BundleId": "wsb-000000000"}]})
        assert run.target.created == ["ws-keptalive1"]
        run.close()
    assert any(expected in note and "ws-keptalive1" in note for note in run.collector.notes), run.collector.notes
