"""Self-tests of the suite's safety on real accounts, all on loopback with "remote" forced (--assume-remote).

What arrives at the target is counted at the target: a proxy in front of an
in-process emulator records every request and answer. Proven here: read-only
runs send no mutating request; with --allow-mutations the budget holds, every
creation is tagged, nothing this run did not create is named by a mutating
request, and cleanup removes the run's WorkSpaces at the end and on SIGINT or
SIGTERM; the sweep removes what carries the tag and nothing else; credentials
never appear in any output.
"""
from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

import specs
from conformance import EXIT_UNREACHABLE, behaviour, targets
from conformance.cleanup import CREATED_TAG, RUN_TAG, cleanup_run, run_tags
from conformance.checks import Response
from conformance.client import RedactingFilter
from conformance.run import Options, Run
from conformance.safety import RemoteGuard, UnsafeRequest
from emulator import Emulator

from .servers import (REPOSITORY, CannedServer, CountingProxy, EchoServer, SuiteProcess, direct_client,
                      suite_environment, tags_of)

FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret-key"}
GONE = specs.gone_states(specs.resource("workspaces"))


# --- helpers ------------------------------------------------------------------------------------


def someone_elses_workspace(client) -> str:
    """A WorkSpace created before the run, without our tag: the run must never touch it."""
    directory = client.describe_workspace_directories()["Directories"][0]["DirectoryId"]
    bundle = client.describe_workspace_bundles(Owner="AMAZON")["Bundles"][0]["BundleId"]
    created = client.create_workspaces(Workspaces=[{
        "DirectoryId": directory, "UserName": "someone", "BundleId": bundle,
        "Tags": [{"Key": "owner", "Value": "finance"}],
    }])
    return created["PendingRequests"][0]["WorkspaceId"]


def states(client) -> dict[str, str]:
    return {w["WorkspaceId"]: w["State"] for w in client.describe_workspaces()["Workspaces"]}


def live_with_run_tag(client, run_id: str) -> list[str]:
    return [w for w, state in states(client).items()
            if state not in GONE and tags_of(client, w).get(RUN_TAG) == run_id]


def run_ids(proxy: CountingProxy) -> set[str]:
    """The run ids carried by the creations the target saw."""
    return {t["Value"] for entry, _ in proxy.created() for t in entry.get("Tags") or [] if t["Key"] == RUN_TAG}


@pytest.fixture
def remote_env(monkeypatch, tmp_path):
    """In-process runs against a forced-remote target sign with fake keys, never a real profile."""
    for name, value in suite_environment(tmp_path, **FAKE_KEYS).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def remote_run(url: str, **options) -> Run:
    return Run(Options(endpoint=url, assume_remote=True, rate_limit=1000.0,
                       operations=options.pop("operations", ["DescribeWorkspaces", "CreateWorkspaces",
                                                             "TerminateWorkspaces", "CreateTags"]),
                       **options))


# --- the budget ---------------------------------------------------------------------------------


def test_the_budget_is_claimed_before_sending_and_refusals_give_it_back():
    target = targets.Target("url", None, remote=True, max_workspaces=2)
    assert target.reserve(3) == 2 and target.room() == 0 and target.reserve(1) == 0
    refused = Response(400, {}, b'{"__type": "ValidationException", "message": "no"}')
    target.record_creation(2, refused)
    assert target.room() == 2 and not target.uncertain
    assert target.reserve(2) == 2
    partly = Response(200, {}, json.dumps({"PendingRequests": [{"WorkspaceId": "ws-aaaaaaaa1"}],
                                           "FailedRequests": [{"ErrorCode": "ResourceExists.WorkSpace"}]}).encode())
    assert target.record_creation(2, partly) == ["ws-aaaaaaaa1"]
    assert target.created == ["ws-aaaaaaaa1"] and target.room() == 1
    assert target.reserve(1) == 1
    target.record_creation(1, Response(502, {}, b"<html>bad gateway</html>"))  # maybe created: still counted
    assert target.room() == 0 and target.uncertain
    with pytest.raises(ValueError, match="wanted=-1"):
        target.reserve(-1)


def test_the_guard_passes_reads_and_refuses_changes_on_a_read_only_remote_target():
    account = SimpleNamespace(endpoint="https://workspaces.us-east-1.amazonaws.com")
    guard = RemoteGuard(targets.Target("url", account, remote=True, allow_mutations=False))
    for reading in ("DescribeWorkspaces", "ListAccountLinks", "GetAccountLink"):
        assert guard.may_send(reading) and not guard.watches(reading), reading
        guard.check(reading, "{}")
    for changing in ("CreateTags", "TerminateWorkspaces", "NoSuchOperation"):
        assert not guard.may_send(changing) and guard.watches(changing), changing
        with pytest.raises(UnsafeRequest, match="read-only"):
            guard.check(changing, "{}")
    loopback = RemoteGuard(targets.Target("emulator", None, remote=False))
    assert loopback.may_send("TerminateWorkspaces") and not loopback.watches("TerminateWorkspaces")


def test_remote_pools_name_only_the_runs_own_workspaces(emulator, remote_env):
    client = direct_client(emulator.url)
    theirs = someone_elses_workspace(client)
    run = remote_run(emulator.url, allow_mutations=True, max_workspaces=1, user_name="alice")
    try:
        describe = run.pool(operation="DescribeWorkspaces")
        assert theirs in describe.workspaces and describe.directories  # reading sees everything
        mine = run.target.created
        assert len(mine) == 1 and theirs not in mine
        for operation in ("TerminateWorkspaces", "CreateTags", "CreateWorkspaces"):
            pool = run.pool(operation=operation)
            assert pool.workspaces == mine, operation
            assert not (pool.directories or pool.bundles or pool.user_names), operation
        assert run.target.requested == 1  # later pools found the budget spent and created nothing
        assert tags_of(client, mine[0])[RUN_TAG] == run.target.run_id
        with pytest.raises(UnsafeRequest, match=theirs):
            run.call("TerminateWorkspaces", {"TerminateWorkspaceRequests": [{"WorkspaceId": theirs}]})
        with pytest.raises(UnsafeRequest, match=theirs):
            run.call("CreateTags", {"ResourceId": theirs, "Tags": [{"Key": "k", "Value": "v"}]})
    finally:
        run.close()
    assert states(client)[theirs] == "AVAILABLE" and tags_of(client, theirs) == {"owner": "finance"}
    assert live_with_run_tag(client, run.target.run_id) == []  # close() cleaned up


def test_read_only_runs_refuse_every_mutating_request_before_it_leaves(emulator, remote_env):
    with CountingProxy(emulator.url) as proxy:
        run = remote_run(proxy.url)
        try:
            for operation, params in (("CreateWorkspaces", {"Workspaces": []}),
                                      ("StopWorkspaces", {"StopWorkspaceRequests": [{"WorkspaceId": "ws-abcdefgh1"}]})):
                with pytest.raises(UnsafeRequest, match="read-only"):
                    run.call(operation, params)
            assert run.pool(workspaces=3).workspaces == []  # nothing is created to fill the pool
        finally:
            run.close()
        assert proxy.operations() and proxy.mutating() == []


def test_the_lifecycle_driver_creates_within_the_budget_and_tags(emulator, remote_env, monkeypatch):
    monkeypatch.setattr(behaviour, "REMOTE_BACKOFF", (0.01, 0.05))  # the emulator settles in a poll or two
    client = direct_client(emulator.url)
    run = remote_run(emulator.url, allow_mutations=True, max_workspaces=1, user_name="alice,bob")
    try:
        driver = behaviour.LifecycleDriver(run)
        workspace_id, state = driver.create("AUTO_STOP", judge=False)
        assert state == "AVAILABLE" and run.target.created == [workspace_id]
        assert tags_of(client, workspace_id)[RUN_TAG] == run.target.run_id
        assert not driver.can_create() and driver.create("AUTO_STOP") is None  # the budget of 1 is spent
    finally:
        run.close()
    assert live_with_run_tag(client, run.target.run_id) == []


def test_a_lax_target_that_creates_from_a_generated_request_is_counted(remote_env):
    created = {"PendingRequests": [{"WorkspaceId": "ws-stray0001", "State": "PENDING"}], "FailedRequests": []}
    with CannedServer(body=json.dumps(created).encode()) as server:
        run = remote_run(server.url, allow_mutations=True, max_workspaces=1)
        try:
            run.call("CreateWorkspaces", {"Workspaces": [{"DirectoryId": "d-0000000000", "UserName": "u",
                                                          "BundleId": "wsb-000000000"}]})
            assert "ws-stray0001" in run.target.created and run.target.room() == 0
            assert any("ws-stray0001" in note for note in run.collector.notes)
        finally:
            run.caller.close()
            run.target.stop()


def test_cleanup_finds_by_tag_what_a_lost_answer_created(emulator):
    client = direct_client(emulator.url)
    theirs = someone_elses_workspace(client)
    directory = client.describe_workspace_directories()["Directories"][0]["DirectoryId"]
    bundle = client.describe_workspace_bundles(Owner="AMAZON")["Bundles"][0]["BundleId"]
    lost = client.create_workspaces(Workspaces=[{"DirectoryId": directory, "UserName": "lost", "BundleId": bundle,
                                                 "Tags": run_tags("run-lost")}])["PendingRequests"][0]["WorkspaceId"]
    caller = targets.url_target(emulator.url).caller()
    try:
        assert cleanup_run(caller, "run-lost", [], scan=False).terminated == []
        result = cleanup_run(caller, "run-lost", [], scan=True)
    finally:
        caller.close()
    assert result.terminated == [lost] and result.refused == []
    assert states(client).get(lost, "TERMINATED") in GONE and states(client)[theirs] == "AVAILABLE"


def test_log_records_of_the_libraries_are_redacted():
    record_texts = []

    class Keep(logging.Handler):
        def emit(self, record):
            record_texts.append(record.getMessage())

    log = logging.getLogger("botocore.endpoint")
    handler, level = Keep(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    redactor = RedactingFilter(["CANARY-SECRET"])
    redactor.install()
    try:
        log.debug("Sending http request: %s", {"X-Amz-Security-Token": b"CANARY-TOKEN", "body": "CANARY-SECRET",
                                               "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/x, Signature=ab12"})
    finally:
        redactor.remove()
        log.removeHandler(handler)
        log.setLevel(level)
    assert record_texts and not any(s in record_texts[0] for s in ("CANARY-TOKEN", "CANARY-SECRET", "ab12"))
    assert redactor not in log.filters


# --- end to end through pytest ------------------------------------------------------------------

MUTATING_OPERATIONS = ",".join(name for name in specs.seed_operations() if not specs.read_only(name))


def test_read_only_remote_run_sends_no_mutating_request(emulator, tmp_path):
    with CountingProxy(emulator.url) as proxy:
        run = SuiteProcess(proxy.url, [
            "--assume-remote", "--rate-limit", "1000", "--operations", "DescribeTags," + MUTATING_OPERATIONS,
            "-k", "not_a_server_error or implemented or test_tags or test_lifecycle or test_client_features",
        ], tmp_path, env=suite_environment(tmp_path, **FAKE_KEYS)).wait()
        seen = proxy.operations()
    assert run.returncode == 0, run.output[-3000:]
    assert seen and [op for op in seen if not specs.read_only(op)] == []
    assert "DescribeTags" in seen  # invalid and valid requests went to the describe operation
    data = run.data()
    for operation in MUTATING_OPERATIONS.split(","):
        statuses = set(data["operations"][operation]["checks"].values())
        assert statuses <= {"skip", "pass"}, (operation, statuses)


def test_mutating_remote_run_keeps_the_budget_tags_and_spares_the_rest(emulator, tmp_path):
    client = direct_client(emulator.url)
    theirs = someone_elses_workspace(client)
    with CountingProxy(emulator.url) as proxy:
        run = SuiteProcess(proxy.url, [
            "--assume-remote", "--allow-mutations", "--max-workspaces", "2", "--user-name", "alice,bob,carol",
            "--rate-limit", "1000", "--operations", "CreateWorkspaces,TerminateWorkspaces,CreateTags,DescribeWorkspaces",
            "-k", "not_a_server_error or positive_data_acceptance",
        ], tmp_path, env=suite_environment(tmp_path, **FAKE_KEYS)).wait()
        created = proxy.created()
        named = proxy.named_in_mutations(theirs)
        mutating = proxy.mutating()
    assert run.returncode == 0, run.output[-3000:]
    assert len([r for r in mutating if r["operation"] == "CreateWorkspaces"]) > 10  # generated creates were sent
    assert 1 <= len(created) <= 2, f"the budget of 2 was exceeded: {[p['WorkspaceId'] for _, p in created]}"
    ids = run_ids(proxy)
    assert len(ids) == 1 and all(RUN_TAG in {t["Key"] for t in entry.get("Tags") or []} for entry, _ in created)
    assert named == [], f"mutating requests named {theirs}, which the run did not create: {named}"
    assert states(client)[theirs] == "AVAILABLE" and tags_of(client, theirs) == {"owner": "finance"}
    assert live_with_run_tag(client, ids.pop()) == []


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_nothing_with_its_tag(emulator, tmp_path, signal_number):
    client = direct_client(emulator.url)
    theirs = someone_elses_workspace(client)
    with CountingProxy(emulator.url) as proxy:
        run = SuiteProcess(proxy.url, [
            "--assume-remote", "--allow-mutations", "--max-workspaces", "2", "--user-name", "alice,bob",
            "--rate-limit", "40", "--operations", "CreateWorkspaces,DescribeWorkspaces,CreateTags",
            "-k", "test_exchanges",
        ], tmp_path, env=suite_environment(tmp_path, **FAKE_KEYS))
        deadline = time.monotonic() + 60
        while not proxy.created() and run.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.created(), f"the run never created a WorkSpace:\n{run.wait(5).output[-2000:]}"
        time.sleep(0.3)  # into the generated requests
        assert run.process.poll() is None, "the run ended before it could be interrupted"
        run.process.send_signal(signal_number)
        run.wait(timeout=60)
        ids = run_ids(proxy)
    assert run.returncode == 2, f"expected pytest's interrupted exit code 2:\n{run.output[-3000:]}"
    assert "Traceback (most recent call last)" not in run.output
    assert len(ids) == 1
    assert live_with_run_tag(client, ids.pop()) == []
    assert states(client)[theirs] == "AVAILABLE" and tags_of(client, theirs) == {"owner": "finance"}


def test_no_credential_appears_in_any_output(tmp_path):
    """A canary secret key and session token, signed with and echoed back, appear nowhere."""
    secret, token = "CANARYsecretKEY0123456789abcdefghijklmnop", "CANARYsessionTOKEN9876543210zyxwvu"
    env = suite_environment(tmp_path, AWS_ACCESS_KEY_ID="AKIACANARYKEYID00001", AWS_SECRET_ACCESS_KEY=secret,
                            AWS_SESSION_TOKEN=token)
    verifying = Emulator(port=0, polls_per_state=1, access_key="AKIACANARYKEYID00001", secret_key=secret)
    verifying.start()
    common = ["--assume-remote", "--rate-limit", "1000", "-o", "log_level=DEBUG", "-rA"]
    try:
        with EchoServer() as echo:
            runs = [
                SuiteProcess(verifying.url, common + ["--operations", "DescribeWorkspaces,DescribeTags",
                                                      "-k", "test_exchanges and (not_a_server_error or error_shape)",
                                                      "--report-md", str(tmp_path / "signed.md"),
                                                      "--junitxml", str(tmp_path / "signed.xml")],
                             tmp_path, env=env, name="signed"),
                SuiteProcess(echo.url, common + ["--operations", "DescribeWorkspaces",
                                                 "-k", "test_exchanges and not_a_server_error",
                                                 "--report-md", str(tmp_path / "echo.md"),
                                                 "--junitxml", str(tmp_path / "echo.xml")],
                             tmp_path, env=env, name="echo"),
            ]
            for run in runs:
                run.wait()
            echoed = "\n".join(echo.headers_seen)
    finally:
        verifying.stop()
    signed, echo_run = runs
    assert signed.returncode == 0, signed.output[-3000:]  # every request was signed with the canary secret
    assert echo_run.returncode == 1 and token in echoed  # the echo sent the token back in its bodies
    assert "headers were" in echo_run.output  # and the echoed bodies did reach the output
    outputs = {f.name: f.read_text(encoding="utf-8") for f in tmp_path.iterdir()
               if f.suffix in (".out", ".json", ".md", ".xml")}
    assert {"signed.json", "signed.md", "signed.xml", "echo.json", "echo.md", "echo.xml"} <= set(outputs)
    for name, text in outputs.items():
        assert secret not in text and token not in text, f"a credential leaked into {name}"


def test_sweep_terminates_what_carries_the_tag_and_nothing_else(emulator):
    client = direct_client(emulator.url)
    theirs = someone_elses_workspace(client)
    directory = client.describe_workspace_directories()["Directories"][0]["DirectoryId"]
    bundle = client.describe_workspace_bundles(Owner="AMAZON")["Bundles"][0]["BundleId"]

    def create(user, tags):
        answer = client.create_workspaces(Workspaces=[{"DirectoryId": directory, "UserName": user,
                                                       "BundleId": bundle, "Tags": tags}])
        return answer["PendingRequests"][0]["WorkspaceId"]

    old = create("left-behind", run_tags("run-old", now=time.time() - 3 * 3600))
    fresh = create("still-running", run_tags("run-new"))

    def sweep(*args):
        return subprocess.run([sys.executable, "-m", "conformance", "sweep", "--endpoint", emulator.url, *args],
                              cwd=REPOSITORY, capture_output=True, text=True, timeout=60)

    dry = sweep("--older-than", "0s", "--dry-run")
    assert dry.returncode == 0 and old in dry.stdout and fresh in dry.stdout, dry.stdout + dry.stderr
    assert all(state == "AVAILABLE" for state in states(client).values())
    recent = sweep("--older-than", "2h")
    assert recent.returncode == 0, recent.stderr
    assert states(client)[fresh] == "AVAILABLE" and states(client).get(old, "TERMINATED") in GONE
    everything = sweep("--older-than", "0s")
    assert everything.returncode == 0, everything.stderr
    assert states(client).get(fresh, "TERMINATED") in GONE
    assert states(client)[theirs] == "AVAILABLE" and tags_of(client, theirs) == {"owner": "finance"}
    assert CREATED_TAG not in tags_of(client, theirs)


def test_sweep_of_an_unreachable_endpoint_says_why_in_one_line():
    endpoint = f"http://127.0.0.1:{targets.free_port()}"
    answer = subprocess.run([sys.executable, "-m", "conformance", "sweep", "--endpoint", endpoint],
                            cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert answer.returncode == EXIT_UNREACHABLE and "Traceback" not in answer.stderr
    assert answer.stderr.strip().count("\n") == 0 and endpoint in answer.stderr and "connection refused" in answer.stderr


def test_throttling_that_outlasts_the_retries_is_a_skip_and_a_note_not_a_failure():
    throttled = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
    with CannedServer(status=200, body=b"{}") as server:
        run = Run(Options(endpoint=server.url, operations=["DescribeWorkspaces"]))
        run.target.connection.throttle_retries = 1  # one retry after 0.5 s keeps the test short
        server.status, server.body = 400, throttled  # from now on the account is over its limit
        before = len(server.requests)
        try:
            with pytest.raises(pytest.skip.Exception, match="throttled: DescribeWorkspaces"):
                run.call("DescribeWorkspaces", {})
            assert len(server.requests) - before == 2  # the first answer and one retry
        finally:
            run.close()
    assert any(note.startswith("throttling: ") for note in run.collector.notes)
