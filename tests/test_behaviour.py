"""Self-tests of the behavioural checks: the lifecycle model, and a clean run of their tests.

Detection of every emulator fault is tests/test_detection.py's job.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import conformance
from strategies.lifecycle import GONE, LifecycleModel, Outcome, lifecycle_machine

pytest_plugins = ["pytester"]

PACKAGE = Path(conformance.__file__).resolve().parent
# The test file of the suite that owns each behavioural check.
FILES = {
    "state_precondition": "test_lifecycle.py",
    "state_transition": "test_lifecycle.py",
    "async_completion": "test_lifecycle.py",
    "use_after_terminate": "test_lifecycle.py",
    "pagination": "test_pagination.py",
    "tags": "test_tags.py",
    "filters": "test_filters.py",
    "client_features": "test_client_features.py",
}


@pytest.fixture(scope="module")
def lifecycle():
    return LifecycleModel()


# --- the model ---------------------------------------------------------------------------------


def test_preconditions_follow_rules(lifecycle):
    assert lifecycle.allows("StopWorkspaces", "AVAILABLE", "AUTO_STOP")
    assert not lifecycle.allows("StopWorkspaces", "AVAILABLE", "ALWAYS_ON")
    assert not lifecycle.allows("StartWorkspaces", "AVAILABLE", "AUTO_STOP")
    assert lifecycle.allows("RebootWorkspaces", "REBOOTING", None, seconds_in_state=1201)
    assert not lifecycle.allows("RebootWorkspaces", "REBOOTING", None, seconds_in_state=5)
    assert lifecycle.allows("ModifyWorkspaceProperties", "STOPPED", None)
    assert not lifecycle.allows("ModifyWorkspaceProperties", "PENDING", None)
    assert lifecycle.refusal_codes("ModifyWorkspaceProperties") >= {"InvalidResourceStateException"}


def test_outcome_verdicts(lifecycle):
    accepted, refused = Outcome("accepted"), Outcome("refused", "InvalidResourceState")
    assert lifecycle.judge_outcome("StopWorkspaces", "AVAILABLE", "AUTO_STOP", accepted) is None
    assert lifecycle.judge_outcome("StopWorkspaces", "STOPPED", "AUTO_STOP", refused) is None
    wrong = lifecycle.judge_outcome("StopWorkspaces", "STOPPED", "AUTO_STOP", accepted)
    assert (wrong.check, wrong.rule) == ("state_precondition", "precondition.StopWorkspaces")
    assert lifecycle.judge_outcome("StopWorkspaces", "AVAILABLE", "AUTO_STOP", refused).check == "state_precondition"
    odd = lifecycle.judge_outcome("ModifyWorkspaceProperties", "PENDING", None, Outcome("unexpected", "Boom"))
    assert "Boom" in odd.title
    with pytest.raises(ValueError, match="kind="):
        Outcome("maybe")


def test_sequences_strict_and_loose(lifecycle):
    judge = lifecycle.judge_sequence
    assert judge("StopWorkspaces", "AVAILABLE", "AUTO_STOP", ["STOPPING", "STOPPING", "STOPPED"],
                 accepted=True, strict=True) is None
    skipped = judge("StopWorkspaces", "AVAILABLE", "AUTO_STOP", ["STOPPED"], accepted=True, strict=True)
    assert (skipped.check, skipped.rule) == ("state_transition", "edge.stop")
    # A poll of a real endpoint may miss STOPPING, or still see the state before the action.
    assert judge("StopWorkspaces", "AVAILABLE", "AUTO_STOP", ["AVAILABLE", "STOPPED"], accepted=True,
                 strict=False) is None
    backwards = judge("StopWorkspaces", "AVAILABLE", "AUTO_STOP", ["STOPPING", "PENDING"], accepted=True, strict=False)
    assert backwards.rule == "edge.stopping.stopped"
    assert judge("TerminateWorkspaces", "AVAILABLE", None, ["TERMINATING", GONE], accepted=True, strict=True) is None
    stays = judge("TerminateWorkspaces", "AVAILABLE", None, ["AVAILABLE"], accepted=True, strict=True)
    assert stays.check == "use_after_terminate"
    assert judge("CreateWorkspaces", None, "AUTO_STOP", [GONE, "PENDING", "AVAILABLE"], accepted=True,
                 strict=False) is None
    assert judge("CreateWorkspaces", None, "AUTO_STOP", ["AVAILABLE"], accepted=True, strict=True).rule == "edge.create"


def test_deadlines_come_from_timing(lifecycle):
    assert lifecycle.deadline("REBOOTING") == (1200.0, "timing.reboot")
    assert lifecycle.deadline("PENDING") == (1800.0, "timing.create")
    assert lifecycle.reachable("STOPPING") >= {"STOPPED"}
    with pytest.raises(ValueError, match="state='RUNNING'"):
        lifecycle.is_settled("RUNNING")


def test_machine_needs_a_driver():
    with pytest.raises(ValueError, match="driver=None"):
        lifecycle_machine(None)


# --- detection, through the installed suite ----------------------------------------------------


def run_suite(pytester, monkeypatch, files, *args):
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "ci")
    report = pytester.path / "report.json"
    paths = [str(PACKAGE / name) for name in files]
    result = pytester.runpytest_subprocess(*paths, "--endpoint", "emulator", "--report", str(report),
                                           "-p", "no:cacheprovider", "-q", *args)
    data = json.loads(report.read_text())
    failed = {(op, check) for op, entry in data["operations"].items()
              for check, status in entry["checks"].items() if status == "fail"}
    return result, data, failed


def test_without_faults_every_behavioural_check_passes(pytester, monkeypatch):
    result, data, failed = run_suite(pytester, monkeypatch, sorted(set(FILES.values())))
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert not failed and not data["failures"]
    statuses = {status for entry in data["operations"].values() for status in entry["checks"].values()}
    assert statuses == {"pass"}
