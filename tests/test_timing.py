"""Self-tests of a run's timing: deadlines fitted to the target, the --max-duration budget, sightings.

The unit tests drive conformance.timing with a fake clock. The runs start an
emulator on its wall clock (transitions take real time, as a mock's do) and point
the installed suite at its URL in a subprocess: a stuck WorkSpace must be reported
in seconds, naming its state and the deadline applied, and --max-duration must end a
run with its report written and the WorkSpaces it made terminated.
"""
from __future__ import annotations

import time

import pytest

from conformance.timing import CAP_S, FACTOR, FLOOR_S, SIGHTING_RULE, Budget, Deadlines, Sightings
from emulator import Emulator
from strategies.lifecycle import GONE, LifecycleModel

from .servers import SuiteProcess, direct_client


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- deadlines ---------------------------------------------------------------------------------


def test_a_remote_target_keeps_the_rules_json_deadlines():
    deadline = Deadlines(remote=True).deadline(1200, "timing.reboot")
    assert deadline.seconds == 1200 and deadline.rule == "timing.reboot"
    assert "real account" in deadline.how


def test_time_scale_multiplies_the_rules_json_deadline_on_any_target():
    for remote in (True, False):
        deadline = Deadlines(remote=remote, time_scale=0.01).deadline(3600, "timing.rebuild")
        assert deadline.seconds == pytest.approx(36.0)
        assert "--time-scale 0.01" in deadline.how


def test_a_loopback_target_is_given_the_cap_until_a_transition_completes():
    deadlines = Deadlines(remote=False)
    assert deadlines.fitted
    first = deadlines.deadline(1200, "timing.reboot")
    assert first.seconds == CAP_S and "no transition had completed yet" in first.how
    assert deadlines.deadline(20, "timing.short").seconds == 20  # never more than the rule itself


@pytest.mark.parametrize(("longest", "expected"), [
    (0.01, FLOOR_S),  # the emulator's polled clock: the floor
    (1.2, 1.2 * FACTOR),  # within floor and cap: a multiple of what the target showed
    (9.0, CAP_S),  # a slow mock: the cap
])
def test_a_loopback_deadline_follows_the_longest_transition_seen(longest, expected):
    deadlines = Deadlines(remote=False)
    deadlines.learn(longest / 2)
    deadlines.learn(longest)
    deadlines.learn(longest / 3)  # shorter ones do not lower it
    deadline = deadlines.deadline(1200, "timing.reboot")
    assert deadline.seconds == pytest.approx(expected)
    assert f"({longest:.2f} s)" in deadline.how and "timing.reboot allows 1200 s" in deadline.how


def test_a_rule_already_outlived_gets_the_floor_and_others_do_not():
    deadlines = Deadlines(remote=False)
    deadlines.learn(2.0)
    deadlines.overdue("timing.reboot")
    assert deadlines.deadline(1200, "timing.reboot").seconds == FLOOR_S
    assert "already outlived" in deadlines.deadline(1200, "timing.reboot").how
    assert deadlines.deadline(3600, "timing.rebuild").seconds == 20.0
    remote = Deadlines(remote=True)
    remote.overdue("timing.reboot")
    assert remote.deadline(1200, "timing.reboot").seconds == 1200


def test_the_time_a_workspace_shows_a_state_carries_over_until_it_changes_or_is_acted_on():
    clock = FakeClock()
    deadlines = Deadlines(remote=False, clock=clock)
    assert deadlines.shown("ws-1", "REBOOTING") == 100.0
    clock.now = 140.0
    assert deadlines.shown("ws-1", "REBOOTING") == 100.0  # a later test's poll: still since 100
    assert deadlines.shown("ws-2", "REBOOTING") == 140.0  # per WorkSpace
    assert deadlines.shown("ws-1", "AVAILABLE") == 140.0
    clock.now = 150.0
    deadlines.acted("ws-1")
    assert deadlines.shown("ws-1", "AVAILABLE") == 150.0


def test_bad_timing_values_are_refused():
    with pytest.raises(ValueError, match="time_scale=0"):
        Deadlines(remote=False, time_scale=0)
    with pytest.raises(ValueError, match="floor"):
        Deadlines(remote=False, floor=40, cap=30)
    with pytest.raises(ValueError, match="seconds=-1"):
        Deadlines(remote=False).learn(-1)
    with pytest.raises(ValueError, match="max-duration"):
        Budget(-5)


# --- the budget --------------------------------------------------------------------------------


def test_the_budget_is_spent_after_max_duration():
    clock = FakeClock()
    budget = Budget(120, clock=clock)
    assert budget.left() == 120 and not budget.spent()
    clock.now += 119.5
    assert not budget.spent()
    clock.now += 1
    assert budget.spent() and budget.reason == "budget: --max-duration 120 s spent"
    unlimited = Budget(None, clock=clock)
    clock.now += 10**6
    assert unlimited.left() is None and not unlimited.spent()


# --- sightings ---------------------------------------------------------------------------------


def test_transitional_entries_come_from_the_state_graph():
    lifecycle = LifecycleModel()
    assert lifecycle.transitional_entries("StopWorkspaces", "AVAILABLE", "AUTO_STOP") == {"STOPPING"}
    assert lifecycle.transitional_entries("CreateWorkspaces", None, "AUTO_STOP") == {"PENDING"}
    assert lifecycle.transitional_entries("TerminateWorkspaces", "STOPPED") == {"TERMINATING"}
    assert lifecycle.transitional_entries("ModifyWorkspaceProperties", "AVAILABLE") == set()  # may stay AVAILABLE
    assert lifecycle.transitional_entries("TerminateWorkspaces", "TERMINATED") == set()  # rarely observed
    assert lifecycle.transitional_entries("StopWorkspaces", "STOPPED", "AUTO_STOP") == set()  # no such edge


def test_an_action_never_seen_in_its_transitional_state_is_a_strict_state_transition_failure():
    sightings = Sightings()
    evidence = {"request": {"operation": "DescribeWorkspaces"}, "response": {"status": 200}, "reproduce": "print(1)"}
    calls = []
    assert sightings.record("TerminateWorkspaces", {"TERMINATING"}, ["AVAILABLE", GONE], "ws-1", "AVAILABLE",
                            lambda: calls.append(1) or evidence)
    assert sightings.record("TerminateWorkspaces", {"TERMINATING"}, [GONE], "ws-2", "STOPPED", lambda: calls.append(1))
    assert calls == [1]  # the evidence of the first miss only
    failure = sightings.failure("TerminateWorkspaces", target="a mock")
    assert (failure.check, failure.tier, failure.rule) == ("state_transition", "strict", SIGHTING_RULE)
    assert "TERMINATING was never seen" in failure.title and "2 time(s) on a mock" in failure.message
    assert "ws-1 from AVAILABLE: AVAILABLE -> GONE" in failure.message and failure.reproduce == "print(1)"
    assert failure.source == "botocore model: Workspace.State"
    # One sighting anywhere in the run is enough.
    assert not sightings.record("TerminateWorkspaces", {"TERMINATING"}, ["TERMINATING", GONE], "ws-3", "AVAILABLE")
    assert sightings.failure("TerminateWorkspaces", target="a mock") is None
    assert sightings.followed("TerminateWorkspaces") == 3 and sightings.followed("StopWorkspaces") == 0
    assert sightings.failure("StopWorkspaces", target="a mock") is None
    assert not sightings.record("ModifyWorkspaceProperties", set(), ["AVAILABLE"], "ws-1", "AVAILABLE")


# --- runs against a mock on its wall clock -------------------------------------------------------


@pytest.fixture
def clocked(request):
    """An emulator whose transitional states last 0.1 s of wall-clock time, with the faults the test names."""
    faults = getattr(request, "param", ())
    with Emulator(port=0, transition_seconds=0.1, faults=faults) as server:
        yield server


@pytest.mark.parametrize("clocked", [("stuck_rebooting",)], indirect=True)
def test_a_stuck_workspace_on_a_mock_is_reported_in_seconds_naming_its_state_and_deadline(clocked, tmp_path):
    started = time.monotonic()
    run = SuiteProcess(clocked.url, ["-k", "test_transitions and RebootWorkspaces-async_completion"],
                       tmp_path).wait(timeout=120)
    wall = time.monotonic() - started
    assert run.returncode == 1, run.output[-3000:]
    assert wall < 60, f"the run took {wall:.0f} s"
    [failure] = [f for f in run.data()["failures"] if f["check"] == "async_completion"]
    assert failure["operation"] == "RebootWorkspaces" and failure["rule"] == "timing.reboot"
    message = failure["message"]
    assert "stayed REBOOTING for" in message and "the deadline applied was" in message
    assert "x the longest transition this run saw complete" in message and "1200 s on AWS" in message
    compile(failure["reproduce"], "reproduce", "exec")  # a program that makes the WorkSpace anew and reboots it
    assert "reboot_workspaces" in failure["reproduce"]


def test_max_duration_skips_the_rest_and_ends_with_report_and_cleanup(clocked, tmp_path):
    client = direct_client(clocked.url)
    run = SuiteProcess(clocked.url, ["--max-duration", "6"], tmp_path).wait(timeout=120)
    assert run.returncode == 0, run.output[-3000:]
    report = run.data()
    checks = report["summary"]["checks"]
    assert checks["skipped"] > 0 and checks["failed"] == 0
    assert any(note.startswith("budget: --max-duration 6 s spent") for note in report["notes"]), report["notes"]
    assert report["duration_s"] < 60
    # What the run made before the budget ran out was terminated, as at the end of any run.
    states = {w["WorkspaceId"]: w["State"] for w in client.describe_workspaces()["Workspaces"]}
    assert set(states.values()) <= {"TERMINATING", "TERMINATED"}, states


def test_time_scale_and_max_duration_must_be_positive(tmp_path):
    for option in ("--time-scale", "--max-duration"):
        run = SuiteProcess("emulator", [option, "0", "--operations", "DescribeTags"], tmp_path, name=option[2:]).wait()
        assert run.returncode == 4 and f"{option} to be a number > 0" in run.output
