"""Self-tests: the suite against endpoints that answer badly or not at all, end to end through pytest.

Every case gets a clear outcome: a failure (exit 1) whose message says what was
received, or for an endpoint that cannot be reached one line naming it and the
cause (exit 6, the previous report left in place); never an internal error.
"""
from __future__ import annotations

import json

import socket
import time

import pytest

from conformance import EXIT_UNREACHABLE, targets

from .servers import CannedServer, SuiteProcess, suite_environment

BIG = 10 * 1024 * 1024

# name: (status, body, content type, the check that must catch it)
BROKEN = {
    "non_json": (200, b"hello, this is not JSON", "application/x-amz-json-1.1", "response_schema"),
    "html_502": (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", "not_a_server_error"),
    "empty_200": (200, b"", "application/x-amz-json-1.1", "response_schema"),
    "truncated_json": (200, b'{"Workspaces": [{"WorkspaceId": "ws-', "application/x-amz-json-1.1", "response_schema"),
    "wrong_content_type": (200, b'{"Workspaces": []}', "text/plain", "content_type"),
    "ten_megabytes": (200, b"A" * BIG, "application/x-amz-json-1.1", "response_schema"),
    "invalid_utf8": (200, b'{"Workspaces": "\xff\xfe\xfd"}', "application/x-amz-json-1.1", "response_schema"),
    "json_500_always": (500, b'{"__type": "InternalServerError", "message": "boom"}', "application/x-amz-json-1.1",
                        "not_a_server_error"),
}
SELECTION = ["--operations", "DescribeWorkspaces",
             "-k", "test_exchanges and (not_a_server_error or response_schema or content_type)"]
NO_TRACEBACK = ("Traceback (most recent call last)", "INTERNALERROR")


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory):
    """Every broken endpoint with the suite run against it, all at once (the runs are independent)."""
    servers, runs = [], {}
    try:
        for name, (status, body, content_type, _) in BROKEN.items():
            server = CannedServer(status=status, body=body, content_type=content_type).__enter__()
            servers.append(server)
            runs[name] = SuiteProcess(server.url, SELECTION, tmp_path_factory.mktemp(name), name=name)
        html_500 = CannedServer(status=500, body=b"<html><title>500 Internal Server Error</title></html>",
                                content_type="text/html").__enter__()
        servers.append(html_500)
        runs["html_500_always"] = SuiteProcess(html_500.url, ["--operations", "DescribeWorkspaces,StopWorkspaces",
                                                              "-k", "test_implemented"],
                                               tmp_path_factory.mktemp("html_500"), name="html_500")
        for run in runs.values():
            run.wait(timeout=120)
        yield runs
    finally:
        for server in servers:
            server.__exit__(None, None, None)


def _assert_no_crash(run):
    for marker in NO_TRACEBACK:
        assert marker not in run.output, f"the suite itself crashed:\n{run.output[-3000:]}"


def _assert_clean(run):
    _assert_no_crash(run)
    assert run.report.exists(), f"no report was written:\n{run.output[-2000:]}"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_answer_is_a_failure_saying_what_was_received(broken_runs, name):
    status, body, content_type, check = BROKEN[name]
    run = broken_runs[name]
    assert run.returncode == 1, f"expected failures (exit 1), got {run.returncode}:\n{run.output[-3000:]}"
    _assert_clean(run)
    data = run.data()
    assert not [n for n in data["notes"] if "error in the suite" in n], data["notes"]
    failures = [f for f in data["failures"] if f["check"] == check]
    assert failures, f"no {check} failure in {[(f['check'], f['title']) for f in data['failures']]}"
    received = failures[0]["response"]  # the report holds what came back beside the message
    prefix = body[:16].decode("utf-8", "replace")
    assert (received["status"], received["content_type"]) == (status, content_type), received
    assert str(received["body"]).startswith(prefix) or prefix in json.dumps(received["body"]), received
    # pytest's own output says it too, in the failure's account of the answer
    assert f"Response: HTTP {status}, Content-Type {content_type}" in run.output
    if name == "ten_megabytes":
        assert received["bytes"] == BIG and f"({BIG} bytes)" in run.output
        assert run.report.stat().st_size < 1_000_000, "the report must carry a prefix of a huge body, not all of it"


def test_html_500_everywhere_is_not_implemented_and_says_what_came_back(broken_runs):
    run = broken_runs["html_500_always"]
    # Nothing is implemented: every test is skipped as not implemented, none fails.
    assert run.returncode == 0, run.output[-3000:]
    _assert_clean(run)
    data = run.data()
    assert data["summary"]["coverage"]["not_implemented"] == ["DescribeWorkspaces", "StopWorkspaces"]
    assert data["summary"]["checks"]["failed"] == 0 and data["failures"] == []
    said = [note for note in data["notes"] if note.startswith("not implemented: StopWorkspaces")]
    assert said and "HTTP 500, Content-Type text/html: '<html><title>500" in said[0], data["notes"]


def _dns_fails_fast(host: str) -> bool:
    start = time.monotonic()
    try:
        socket.getaddrinfo(host, 80)
    except OSError:
        return time.monotonic() - start < 3
    return False


def _unreachable(tmp_path, endpoint: str, *args: str) -> SuiteProcess:
    # A non-loopback URL is a real account to the suite: it signs with the standard chain, here fake keys.
    env = suite_environment(tmp_path, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="not-a-real-secret")
    return SuiteProcess(endpoint, ["--operations", "DescribeWorkspaces", *args], tmp_path, env=env,
                        name="unreachable").wait(60)


def _assert_one_line(run, endpoint: str, cause: str):
    assert run.returncode == EXIT_UNREACHABLE, (
        f"expected the unreachable exit code {EXIT_UNREACHABLE}, got {run.returncode}:\n{run.output[-3000:]}")
    _assert_no_crash(run)
    assert not run.report.exists(), "a run that never reached its target wrote a report"
    lines = [line for line in run.output.splitlines() if "cannot reach the target" in line]
    assert len(lines) == 1, run.output[-3000:]
    assert endpoint in lines[0] and cause in lines[0], lines[0]
    assert "no report written" in lines[0] or "is left in place" in lines[0], lines[0]


def test_connection_refused_is_one_line_and_exit_6(tmp_path):
    endpoint = f"http://127.0.0.1:{targets.free_port()}"
    _assert_one_line(_unreachable(tmp_path, endpoint), endpoint, "connection refused")


def test_dns_failure_is_one_line_and_exit_6(tmp_path):
    host = "workspaces-conformance.invalid"  # RFC 6761: never resolves, anywhere
    if not _dns_fails_fast(host):
        pytest.skip(f"resolving {host} does not fail fast on this machine; not testing DNS failure")
    endpoint = f"http://{host}:8080"
    _assert_one_line(_unreachable(tmp_path, endpoint), endpoint, "DNS lookup failed")


def test_a_hanging_server_times_out_per_request(tmp_path):
    with CannedServer(delay=5) as server:
        start = time.monotonic()
        run = _unreachable(tmp_path, server.url, "--request-timeout", "0.5")
        elapsed = time.monotonic() - start
    _assert_one_line(run, server.url, "no response in time")
    assert elapsed < 20, f"--request-timeout 0.5 took {elapsed:.1f} s to give up"
