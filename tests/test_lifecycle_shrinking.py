"""Self-tests of the lifecycle state machine's two ways of ending on a failure.

On the emulator's polled clock a walk replays exactly, so Hypothesis shrinks a
failing one: with a fault that breaks a lifecycle rule switched on, the failure
names the check and rule the fault breaks, its message lists the shortest walk
found, and its reproduction shows the deviation on a fresh emulator. On a
target whose clock the suite does not control (a URL, even one of the same
emulator) the walks halt at the first failure and nothing is replayed.
"""
from __future__ import annotations

import contextlib

import pytest
from hypothesis import Phase

from conformance import test_lifecycle
from conformance.checks import CheckFailure
from conformance.run import Options, Run
from strategies.lifecycle import lifecycle_machine

from .servers import CountingProxy
from .test_reproductions import last_answer, replay

# Derandomized, so that the walks do not depend on the profile's seed; fifteen walks, as the suite runs.
FIXED = {"derandomize": True, "max_examples": 15}
# Each fault breaks a rule on a WorkSpace's first or second action: a walk that makes a WorkSpace and
# acts at most twice shows it (a Stop that leaves it STOPPED and the Stop refused there; a Stop and
# the Start that must lead to STARTING), so the shortest failing walk has at most three steps.
LONGEST_SHRUNK = 3
# Replays the shrinking here may take: the oldest supported Hypothesis (6.120) needs more than the
# suite's own cap (test_lifecycle.MAX_REPLAYS, which bounds a run's cost) to reach the shortest walk.
SHRINK_REPLAYS = 400
CASES = [
    # fault, check, rule, operation: one fault for each check of the lifecycle
    ("stop_ignores_state", "state_precondition", "precondition.StopWorkspaces", "StopWorkspaces"),
    ("start_leaves_stopped", "state_transition", "edge.start", "StartWorkspaces"),
    ("stuck_rebooting", "async_completion", "timing.reboot", "RebootWorkspaces"),
    ("terminated_stays_available", "use_after_terminate", "edge.terminate", "TerminateWorkspaces"),
]


@contextlib.contextmanager
def emulator_run(fault: str):
    """A run against the embedded emulator (the polled clock) with ``fault`` switched on."""
    run = Run(Options(endpoint="emulator", emulator_faults=(fault,)))
    try:
        yield run
    finally:
        run.close()


def machine_failure(run, max_replays: int = test_lifecycle.MAX_REPLAYS, **overrides) -> CheckFailure:
    with pytest.raises(CheckFailure) as caught:
        test_lifecycle.state_machine(run, overrides=dict(FIXED, **overrides), max_replays=max_replays)
    return caught.value


@pytest.fixture(scope="module")
def shrunk():
    """The machine's failure on the polled clock with a fault switched on, once per fault for this module."""
    found: dict[str, CheckFailure] = {}

    def failure(fault: str) -> CheckFailure:
        if fault not in found:
            with emulator_run(fault) as run:
                assert run.target.polls_per_state and run.target.kind == "emulator"
                found[fault] = machine_failure(run, max_replays=SHRINK_REPLAYS)
        return found[fault]
    return failure


@pytest.mark.parametrize(("fault", "check", "rule", "operation"), CASES, ids=[case[0] for case in CASES])
def test_a_broken_lifecycle_rule_is_shrunk_to_a_short_walk(shrunk, fault, check, rule, operation):
    failure = shrunk(fault)
    assert (failure.check, failure.rule, failure.operation) == (check, rule, operation), failure.render()
    walk = failure.walk
    assert 1 <= len(walk) <= LONGEST_SHRUNK, "\n".join(walk)
    assert walk[0].startswith("state.acquire(") and "  # fails" in walk[-1]
    # The walk is in the message the report and the terminal show, step by step.
    assert test_lifecycle.WALK_HEADING in failure.message
    assert f"({len(walk)} steps, shrunk by Hypothesis" in str(failure)
    assert all(f"    {line}" in failure.message for line in walk)
    assert "boto3.client(" in failure.reproduce


def test_shrinking_shortens_the_first_failing_walk(shrunk):
    with emulator_run("start_leaves_stopped") as run:
        first = machine_failure(run, phases=[Phase.generate])
    short = shrunk("start_leaves_stopped")
    assert len(short.walk) < len(first.walk), (first.walk, short.walk)
    assert (short.check, short.rule) == (first.check, first.rule)


def test_a_shrunk_walks_reproduction_shows_the_deviation_on_a_fresh_emulator(shrunk, tmp_path):
    program = shrunk("stop_ignores_state").reproduce
    accepted = "'FailedRequests': []"  # the StopWorkspaces the precondition forbids
    assert accepted in last_answer(replay(program, tmp_path, with_fault=True))
    assert accepted not in last_answer(replay(program, tmp_path, with_fault=False))


def test_shrinking_stops_at_the_cap_on_replays_with_the_shortest_walk_so_far():
    with emulator_run("start_leaves_stopped") as run:
        with pytest.raises(CheckFailure) as caught:
            test_lifecycle.state_machine(run, overrides=FIXED, max_replays=1)
    failure = caught.value
    assert failure.check == "state_transition" and "  # fails" in failure.walk[-1]
    assert "until the cap of 1 replays" in failure.message


def test_a_clock_the_suite_does_not_control_halts_the_walks_without_shrinking(emulator):
    emulator.set_faults(("stop_ignores_state",))
    with CountingProxy(emulator.url) as proxy:
        run = Run(Options(endpoint=proxy.url))
        try:
            assert run.target.kind == "url" and not run.target.polls_per_state
            begun = len(proxy.snapshot())
            failure = machine_failure(run)
            records = proxy.snapshot()[begun:]
        finally:
            run.close()
    assert (failure.check, failure.rule) == ("state_precondition", "precondition.StopWorkspaces")
    assert not hasattr(failure, "walk") and test_lifecycle.WALK_HEADING not in failure.message
    # Nothing was replayed: after the failing call only the cleanup's TerminateWorkspaces reached the target.
    failing = max(i for i, record in enumerate(records)
                  if record["operation"] == "StopWorkspaces" and record["request"] == failure.request["params"])
    assert {record["operation"] for record in records[failing + 1:]} <= {"TerminateWorkspaces"}


def test_the_target_decides_whether_walks_replay():
    class Stub:
        strict = False

    assert not lifecycle_machine(Stub()).replayable
    with pytest.raises(ValueError, match="replayable=True"):
        lifecycle_machine(Stub(), replayable=True)
    Stub.strict = True
    assert lifecycle_machine(Stub()).replayable
    assert not lifecycle_machine(Stub(), replayable=False).replayable
    with pytest.raises(ValueError, match="max_replays=-1"):
        lifecycle_machine(Stub(), max_replays=-1)
    # Where walks do not replay, no phase could replay one on the target.
    for remote in (False, True):
        assert Phase.shrink not in test_lifecycle.machine_settings(False, remote).phases
        assert Phase.explain not in test_lifecycle.machine_settings(False, remote).phases

