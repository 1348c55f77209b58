"""Self-tests of reproductions: programs that rebuild on a fresh target what a failing request depended on.

The ledger that picks a program's calls is tested on exchanges made up here.
Then, for faults whose failures depend on state, the suite runs against the
embedded emulator with the fault; the program its report prints runs against a
fresh emulator with the same fault, where it must show the same deviation, and
against a fresh emulator without it, where the deviation must be gone.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from conformance.checks import Response
from conformance.client import Connection, Setup, _literal, reproduce_call, reproduce_raw
from conformance.replay import Ledger

ROOT = Path(__file__).resolve().parents[1]
CONNECTION = Connection("http://127.0.0.1:4566", start_hint="python -m emulator --port 4566 --polls-per-state 1")
WS = "ws-abcdefgh1"
ENTRY = {"DirectoryId": "d-906734b2c1", "UserName": "alice", "BundleId": "wsb-8gcl2fzsx",
         "WorkspaceProperties": {"RunningMode": "AUTO_STOP"}, "Tags": [{"Key": "team", "Value": "blue"}]}


def answer(body: dict | None = None, status: int = 200) -> Response:
    return Response(status, {"content-type": "application/x-amz-json-1.1"}, json.dumps(body or {}).encode())


def create(ledger: Ledger, workspace_id: str = WS, entry: dict = ENTRY) -> None:
    pending = {key: entry[key] for key in ("DirectoryId", "UserName", "BundleId")}
    ledger.observe("CreateWorkspaces", {"Workspaces": [entry]},
                   answer({"FailedRequests": [], "PendingRequests": [dict(pending, WorkspaceId=workspace_id)]}))


def poll(ledger: Ledger, *states: str, workspace_id: str = WS) -> None:
    for state in states:
        listed = [] if state == "GONE" else [{"WorkspaceId": workspace_id, "State": state}]
        ledger.observe("DescribeWorkspaces", {"WorkspaceIds": [workspace_id]}, answer({"Workspaces": listed}))


def act(ledger: Ledger, operation: str, refused: bool = False, workspace_id: str = WS) -> dict:
    key = operation.replace("Workspaces", "WorkspaceRequests")
    params = {key: [{"WorkspaceId": workspace_id}]}
    failed = [{"WorkspaceId": workspace_id, "ErrorCode": "InvalidResourceState"}] if refused else []
    ledger.observe(operation, params, answer({"FailedRequests": failed}))
    return params


def steps(setup: Setup | None) -> list[tuple]:
    """Each step as (kind, operation or state), the create's entry left out."""
    return [(step.kind, step.operation or step.state or step.count) for step in (setup.steps if setup else ())]


# --- the ledger ---------------------------------------------------------------------------------


def test_requests_naming_nothing_the_run_made_print_as_before():
    ledger = Ledger()
    create(ledger)
    assert ledger.setup("DescribeWorkspaceBundles", {"BundleIds": ["wsb-8gcl2fzsx"]}) is None  # seeded: as it is
    program = reproduce_call(CONNECTION, "DescribeWorkspaces", {"Limit": 1})
    assert program.endswith('print(client.describe_workspaces(**{\n    "Limit": 1\n}))')
    assert "create_workspace" not in program and "try:" not in program
    value = {"Workspaces": [{"A": "x", "B": [1, 2.5], "C": {}}], "D": []}
    assert _literal(value) == json.dumps(value, indent=4)  # JSON's layout ...
    flags = reproduce_call(CONNECTION, "CreateWorkspaces", {"On": True, "Off": False, "None": None, "Name": "é"})
    assert '"On": True' in flags and '"None": None' in flags and "'é'" in flags  # ... with Python's literals
    compile(flags, "reproduce", "exec")


def test_a_stopped_workspace_is_made_anew_with_the_fewest_calls():
    ledger = Ledger()
    create(ledger)
    poll(ledger, "PENDING", "AVAILABLE", "AVAILABLE")
    act(ledger, "RebootWorkspaces")
    poll(ledger, "REBOOTING", "AVAILABLE")
    act(ledger, "StopWorkspaces")
    poll(ledger, "STOPPING", "STOPPED", "STOPPED")
    request = {"StartWorkspaceRequests": [{"WorkspaceId": WS}]}
    setup = ledger.setup("StartWorkspaces", request)
    assert steps(setup) == [("create", 0), ("wait", "AVAILABLE"), ("call", "StopWorkspaces"), ("wait", "STOPPED")]
    assert setup.steps[0].params == ENTRY  # the directory, bundle and user the run used
    program = reproduce_call(CONNECTION, "StartWorkspaces", request, setup)
    compile(program, "reproduce", "exec")
    assert "workspace_1 = create_workspace({" in program and "wait_for(workspace_1, 'STOPPED', 30)" in program
    assert [line for line in program.splitlines() if WS in line] == [f"# {WS} of the run, made anew"]
    assert program.splitlines()[0] == f"# Start the target first: {CONNECTION.start_hint}"


def test_a_transitional_state_is_reached_by_its_action_and_the_polls_since():
    ledger = Ledger()
    create(ledger)
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS})) == [("create", 0)]  # PENDING: just made
    poll(ledger, "PENDING")
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS})) == [("create", 0), ("polls", 1)]
    poll(ledger, "AVAILABLE")
    act(ledger, "StopWorkspaces", refused=True)  # a refusal changes nothing
    act(ledger, "RebootWorkspaces")
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS})) == [
        ("create", 0), ("wait", "AVAILABLE"), ("call", "RebootWorkspaces")]
    poll(ledger, "REBOOTING")
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS}))[-1] == ("polls", 1)


def test_the_running_mode_is_set_where_the_state_rules_need_it():
    ledger = Ledger()
    create(ledger)
    poll(ledger, "AVAILABLE")
    modify = {"WorkspaceId": WS, "WorkspaceProperties": {"RunningMode": "ALWAYS_ON"}}
    ledger.observe("ModifyWorkspaceProperties", modify, answer())
    assert steps(ledger.setup("StopWorkspaces", {"StopWorkspaceRequests": [{"WorkspaceId": WS}]})) == [
        ("create", 0), ("wait", "AVAILABLE"), ("call", "ModifyWorkspaceProperties")]
    # Created ALWAYS_ON, switched to AUTO_STOP, then stopped: made anew in AUTO_STOP, or the stop is refused.
    other = "ws-abcdefgh2"
    create(ledger, other, dict(ENTRY, UserName="bob", WorkspaceProperties={"RunningMode": "ALWAYS_ON"}))
    poll(ledger, "AVAILABLE", workspace_id=other)
    ledger.observe("ModifyWorkspaceProperties", {"WorkspaceId": other, "WorkspaceProperties": {
        "RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 60}}, answer())
    act(ledger, "StopWorkspaces", workspace_id=other)
    poll(ledger, "STOPPED", workspace_id=other)
    setup = ledger.setup("DescribeWorkspaces", {"WorkspaceIds": [other]})
    assert steps(setup) == [("create", 0), ("wait", "AVAILABLE"), ("call", "StopWorkspaces"), ("wait", "STOPPED")]
    assert setup.steps[0].params["WorkspaceProperties"]["RunningMode"] == "AUTO_STOP"


def test_tag_calls_are_made_again_for_tag_requests_until_the_tags_read_as_created():
    ledger = Ledger()
    create(ledger)
    for value in ("Prod", "Test"):
        ledger.observe("CreateTags", {"ResourceId": WS, "Tags": [{"Key": "Env", "Value": value}]}, answer())
    ledger.observe("CreateTags", {"ResourceId": WS, "Tags": [{"Key": "aws:x", "Value": "v"}]},
                   answer({"__type": "InvalidParameterValuesException", "message": "no"}, 400))
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS})) == [
        ("create", 0), ("call", "CreateTags"), ("call", "CreateTags")]
    assert steps(ledger.setup("DescribeWorkspaces", {"WorkspaceIds": [WS]})) == [("create", 0)]
    ledger.observe("DeleteTags", {"ResourceId": WS, "TagKeys": ["Env"]}, answer())
    ledger.observe("DescribeTags", {"ResourceId": WS}, answer({"TagList": [{"Key": "team", "Value": "blue"}]}))
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS})) == [("create", 0)]
    # A seeded directory needs no creation, only the tag calls it got.
    ledger.observe("CreateTags", {"ResourceId": "d-906734b2c1", "Tags": [{"Key": "k", "Value": "v"}]}, answer())
    assert steps(ledger.setup("DescribeTags", {"ResourceId": "d-906734b2c1"})) == [("call", "CreateTags")]


def test_a_terminated_workspace_is_made_and_terminated_again():
    ledger = Ledger()
    create(ledger)
    poll(ledger, "AVAILABLE")
    act(ledger, "TerminateWorkspaces")
    poll(ledger, "TERMINATING", "GONE")
    assert steps(ledger.setup("DescribeTags", {"ResourceId": WS})) == [
        ("create", 0), ("wait", "AVAILABLE"), ("call", "TerminateWorkspaces"), ("wait", "GONE")]


def test_what_only_a_listing_names_is_left_out_of_status_reproductions():
    ledger = Ledger()
    create(ledger)
    listing = answer({"Workspaces": [{"WorkspaceId": WS, "State": "AVAILABLE"}]})
    setup = ledger.observe("DescribeWorkspaces", {}, listing)
    assert steps(setup) == [("create", 0)] and setup.listed == {WS}
    assert setup.without_listing() is None


def test_a_next_token_is_reached_by_walking_the_pages_before_it():
    ledger = Ledger()
    create(ledger)
    request = {"WorkspaceIds": [WS], "Limit": 1}
    ledger.observe("DescribeWorkspaces", request, answer({"Workspaces": [], "NextToken": "t1"}))
    ledger.observe("DescribeWorkspaces", dict(request, NextToken="t1"), answer({"Workspaces": [], "NextToken": "t2"}))
    setup = ledger.setup("DescribeWorkspaces", dict(request, NextToken="t2"))
    assert steps(setup) == [("create", 0), ("walk", "DescribeWorkspaces")] and setup.steps[-1].count == 2
    program = reproduce_call(CONNECTION, "DescribeWorkspaces", dict(request, NextToken="t2"), setup)
    compile(program, "reproduce", "exec")
    assert "token_1 = walk(client.describe_workspaces, {" in program and '"NextToken": token_1' in program
    assert ledger.setup("DescribeWorkspaces", {"NextToken": "never-issued"}) is None


def test_the_last_call_on_a_workspace_carries_the_setup_before_it_and_the_polls_after():
    ledger = Ledger()
    create(ledger)
    poll(ledger, "PENDING", "AVAILABLE")
    params = act(ledger, "StopWorkspaces")
    poll(ledger, "STOPPING", "STOPPED")
    setup, operation, sent, polls = ledger.last_call(WS)
    assert (operation, sent, polls) == ("StopWorkspaces", params, 2)
    assert steps(setup) == [("create", 0), ("wait", "AVAILABLE")]
    program = reproduce_call(CONNECTION, operation, sent, setup, observe=(WS, polls))
    compile(program, "reproduce", "exec")
    assert program.rstrip().endswith("for _ in range(2):\n    print([w['State'] for w in "
                                     "client.describe_workspaces(WorkspaceIds=[workspace_1])['Workspaces']])")


def test_a_raw_body_names_the_new_workspace():
    ledger = Ledger()
    create(ledger)
    body = json.dumps({"StopWorkspaceRequests": [{"WorkspaceId": WS}] * 26}).encode()
    program = reproduce_raw(CONNECTION, "StopWorkspaces", body, setup=ledger.setup("StopWorkspaces", json.loads(body)))
    compile(program, "reproduce", "exec")
    assert f"body = body.replace({json.dumps(WS).encode()!r}, b'\"' + workspace_1.encode() + b'\"')" in program


# --- reproductions of real runs, on fresh emulators ------------------------------------------------

HINT = re.compile(r"^# Start the target first: python -m emulator (?P<args>.*)$", re.M)
ENDPOINT = re.compile(r"endpoint_url='(?P<url>http://127\.0\.0\.1:(?P<port>\d+))'")


@dataclasses.dataclass(frozen=True)
class Case:
    """A fault, the suite's tests that catch it, the failure whose program is run, and how its deviation shows."""

    fault: str
    selection: tuple[str, ...]
    check: str
    operation: str
    shows: Callable[[str], bool]  # whether a program's last printed answer shows the deviation
    exchange: bool = False  # an exchange check: the program's answer has the status the report recorded


def _keys(answer: str) -> list[str]:
    return re.findall(r"'Key': '([^']*)'", answer)


CASES = [
    # Exchange checks: a request that names a WorkSpace the run created; a listing of them.
    Case("content_type_html", ("conformance/test_exchanges.py", "--operations", "ModifyWorkspaceProperties",
                               "-k", "content_type"), "content_type", "ModifyWorkspaceProperties",
         lambda answer: "'content-type': 'text/html" in answer, exchange=True),
    Case("state_outside_enum", ("conformance/test_exchanges.py", "--operations", "DescribeWorkspaces",
                                "-k", "response_enum"), "response_enum", "DescribeWorkspaces",
         lambda answer: "'State': 'RUNNING'" in answer, exchange=True),
    # The lifecycle: a state reached by an action, a precondition, a state that never settles.
    Case("connected_while_stopped", ("conformance/test_lifecycle.py",), "state_transition",
         "DescribeWorkspacesConnectionStatus", lambda answer: "'ConnectionState': 'CONNECTED'" in answer),
    Case("stop_ignores_state", ("conformance/test_lifecycle.py",), "state_precondition",
         "StopWorkspaces", lambda answer: "'FailedRequests': []" in answer),
    Case("stuck_rebooting", ("conformance/test_lifecycle.py",), "async_completion",
         "RebootWorkspaces", lambda answer: answer == "['REBOOTING']"),
    # Tags written on the run's WorkSpace, and a NextToken the run was handed.
    Case("tags_append_duplicate_key", ("conformance/test_tags.py",), "tags", "CreateTags",
         lambda answer: len(_keys(answer)) > len(set(_keys(answer)))),
    Case("token_not_bound_to_filters", ("conformance/test_pagination.py", "--operations", "DescribeWorkspaces"),
         "pagination",
         "DescribeWorkspaces", lambda answer: "'HTTPStatusCode': 200" in answer),
]


def run_suite(tmp: Path, case: Case) -> dict:
    report = tmp / "report.json"
    command = [sys.executable, "-m", "pytest", *case.selection, "-p", "no:cacheprovider", "-q",
               "--report", str(report), "--emulator-fault", case.fault, "--hypothesis-seed", "1"]
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 1 and report.exists(), done.stdout[-3000:] + done.stderr[-2000:]
    return json.loads(report.read_text())


@contextlib.contextmanager
def fresh_emulator(args: list[str]):
    """``python -m emulator`` with ``args``, as a user would start it; yields its URL."""
    server = subprocess.Popen([sys.executable, "-m", "emulator", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"python -m emulator {shlex.join(args)} printed {url!r}"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def replay(program: str, tmp: Path, *, with_fault: bool) -> subprocess.CompletedProcess:
    """Run ``program`` against a fresh emulator started as its first line says (on a free port)."""
    args = shlex.split(HINT.search(program)["args"])
    endpoint = ENDPOINT.search(program)
    assert args[args.index("--port") + 1] == endpoint["port"]  # the program talks to the target it names
    args[args.index("--port") + 1] = "0"  # the run's port may be taken by now
    if not with_fault:
        args = [a for i, a in enumerate(args) if a != "--fault" and (i == 0 or args[i - 1] != "--fault")]
    with fresh_emulator(args) as url:
        return subprocess.run([sys.executable, "-c", program.replace(endpoint["url"], url)], cwd=tmp,
                              capture_output=True, text=True, timeout=300)


def last_answer(done: subprocess.CompletedProcess) -> str:
    # The program prints nothing before its request but the request's answer and the polls after it.
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("case", CASES, ids=[case.fault for case in CASES])
def test_a_reproduction_fails_the_same_way_on_a_fresh_emulator(case, tmp_path):
    report = run_suite(tmp_path, case)
    failure = next((f for f in report["failures"] if (f["check"], f["operation"]) == (case.check, case.operation)),
                   None)
    assert failure is not None, [(f["check"], f["operation"]) for f in report["failures"]]
    program = failure["reproduce"]
    compile(program, "reproduce", "exec")
    assert "create_workspace(" in program  # it makes what the request depended on
    for workspace_id in set(re.findall(r"ws-[0-9a-z]{8,63}", json.dumps(failure["request"]))):
        named = [line for line in program.splitlines() if workspace_id in line]
        assert all(line.startswith("#") for line in named), named  # the run's id stands nowhere in a call

    seen = last_answer(replay(program, tmp_path, with_fault=True))
    assert case.shows(seen), f"{case.fault}: the reproduction answered {seen[:1500]}\n\n{program}"
    if case.exchange:
        recorded = failure["response"]
        assert f"'HTTPStatusCode': {recorded['status']}" in seen
        if isinstance(recorded["body"], dict) and recorded["body"].get("__type"):
            assert f"'Code': '{recorded['body']['__type']}'" in seen

    fixed = last_answer(replay(program, tmp_path, with_fault=False))
    assert not case.shows(fixed), f"{case.fault}: without the fault the reproduction answered {fixed[:1500]}"
