"""Small loopback HTTP servers for self-tests: canned answers, a header echo, a counting proxy."""
from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import threading
import time
import urllib.parse


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering each POST with :meth:`answer`."""

    def __init__(self) -> None:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms stall between

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0) or 0)
                status, headers, payload = server.answer(self, self.rfile.read(length))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def answer(self, request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, payload) for one request; ``request`` is the handler (its headers)."""
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class CannedServer(LoopbackServer):
    """Answers every request with a fixed status, headers and body (after an optional delay)."""

    def __init__(self, status=200, body=b"{}", content_type="application/x-amz-json-1.1", delay=0.0):
        super().__init__()
        self.status, self.body, self.content_type, self.delay = status, body, content_type, delay
        self.requests: list[tuple[str, bytes]] = []

    def answer(self, request, body):
        self.requests.append((request.headers.get("X-Amz-Target", ""), body))
        if self.delay:
            time.sleep(self.delay)
        headers = [("Content-Type", self.content_type)] if self.content_type else []
        return self.status, headers, self.body


@contextlib.contextmanager
def canned(**kwargs):
    with CannedServer(**kwargs) as server:
        yield server


class CountingProxy(LoopbackServer):
    """Forwards every POST to ``upstream`` unchanged (Host header included, so signatures still verify)
    and records what arrived: the X-Amz-Target, the parsed request and the answer's status and body."""

    def __init__(self, upstream: str):
        super().__init__()
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname, parsed.port)
        self.records: list[dict] = []
        self._lock = threading.Lock()

    def answer(self, request, body):
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            connection.putrequest("POST", request.path, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            answer = connection.getresponse()
            payload = answer.read()
            headers = answer.getheaders()
            status = answer.status
        finally:
            connection.close()
        self._record(request.headers.get("X-Amz-Target", ""), body, status, payload)
        passed_on = [(name, value) for name, value in headers
                     if name.lower() not in ("content-length", "connection", "transfer-encoding")]
        return status, passed_on, payload

    def _record(self, target: str, body: bytes, status: int, payload: bytes) -> None:
        with self._lock:
            self.records.append({
                "operation": target.rsplit(".", 1)[-1] if target else "",
                "request": _json_or_none(body), "raw": body,
                "status": status, "response": _json_or_none(payload),
            })

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.records)

    def operations(self) -> list[str]:
        """The operation named by each request's X-Amz-Target, in arrival order."""
        return [record["operation"] for record in self.snapshot()]

    def mutating(self) -> list[dict]:
        """The records of requests to any operation but Describe*."""
        return [r for r in self.snapshot() if not r["operation"].startswith("Describe")]

    def created(self) -> list[tuple[dict, dict]]:
        """(request entry, pending answer) for every WorkSpace a CreateWorkspaces created."""
        made = []
        for record in self.snapshot():
            if record["operation"] != "CreateWorkspaces" or record["status"] != 200:
                continue
            entries = (record["request"] or {}).get("Workspaces") or []
            for pending in (record["response"] or {}).get("PendingRequests") or []:
                matching = [e for e in entries if isinstance(e, dict) and e.get("UserName") == pending.get("UserName")]
                made.append((matching[0] if matching else {}, pending))
        return made

    def named_in_mutations(self, workspace_id: str) -> list[str]:
        """The mutating operations whose raw request body mentions ``workspace_id``."""
        return [r["operation"] for r in self.mutating() if workspace_id.encode() in r["raw"]]


def _json_or_none(data: bytes):
    try:
        return json.loads(data.decode("utf-8")) if data else None
    except (UnicodeDecodeError, ValueError):
        return None


class EchoServer(CannedServer):
    """Answers every request with an HTTP 500 AWS error whose message echoes all request headers."""

    def __init__(self):
        super().__init__(status=500)
        self.headers_seen: list[str] = []

    def answer(self, request, body):
        self.requests.append((request.headers.get("X-Amz-Target", ""), body))
        self.headers_seen.append(str(request.headers))
        echoed = "; ".join(f"{name}: {value}" for name, value in request.headers.items())
        payload = json.dumps({"__type": "InternalFailure", "message": f"headers were {echoed}"}).encode()
        return 500, [("Content-Type", "application/x-amz-json-1.1")], payload


REPOSITORY = __import__("pathlib").Path(__file__).resolve().parent.parent


def suite_environment(tmp_path, **credentials) -> dict:
    """An environment for running the suite in a subprocess that cannot pick up a real AWS identity.

    AWS_* variables of the caller are dropped, the config and credential files are
    empty temporary files and the instance metadata service is off; ``credentials``
    (e.g. AWS_ACCESS_KEY_ID=...) are added on top.
    """
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        path = tmp_path / name.lower()
        path.write_text("")
        env[name] = str(path)
    env.update(AWS_EC2_METADATA_DISABLED="true", HYPOTHESIS_PROFILE="ci", PYTHONDONTWRITEBYTECODE="1")
    env.update(credentials)
    return env


class SuiteProcess:
    """``python -m pytest conformance --endpoint URL ...`` in a subprocess, with its report under ``tmp_path``."""

    def __init__(self, endpoint: str, args, tmp_path, env: dict | None = None, name: str = "run"):
        import subprocess
        import sys

        self.report = tmp_path / f"{name}.json"
        self.markdown = tmp_path / f"{name}.md"
        self.junit = tmp_path / f"{name}.xml"
        self._out = open(tmp_path / f"{name}.out", "w+b")
        command = [sys.executable, "-m", "pytest", "conformance", "--endpoint", endpoint, "-q",
                   "-p", "no:cacheprovider", "--report", str(self.report), *args]
        self.process = subprocess.Popen(command, cwd=REPOSITORY, env=env or suite_environment(tmp_path),
                                        stdout=self._out, stderr=subprocess.STDOUT)
        self.returncode: int | None = None
        self.output = ""

    def wait(self, timeout: float = 120) -> "SuiteProcess":
        try:
            self.returncode = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._out.seek(0)
            self.output = self._out.read().decode("utf-8", "replace")
            self._out.close()
        return self

    def data(self) -> dict:
        return json.loads(self.report.read_text(encoding="utf-8"))


def direct_client(url: str):
    """A boto3 client straight to a loopback target: how the tests look at its state."""
    import boto3

    from conformance.client import LOOPBACK_CREDENTIALS

    return boto3.client("workspaces", endpoint_url=url, region_name="us-east-1", **LOOPBACK_CREDENTIALS)


def tags_of(client, workspace_id: str) -> dict[str, str]:
    """A resource's tags as a dict (a tag without a value reads as the empty string)."""
    return {t["Key"]: t.get("Value", "") for t in client.describe_tags(ResourceId=workspace_id)["TagList"]}
