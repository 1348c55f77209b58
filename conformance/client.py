"""Talking to a target: a boto3 client that keeps the raw HTTP, a raw signed sender, redaction.

Both paths sign with botocore's SigV4 signer, so a request differs from what a
user's boto3 would send only where the suite means it to (raw bodies).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import socket
import threading
import time
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.exceptions
import botocore.httpsession
import botocore.session
from botocore import xform_name

import specs
from strategies.wire import PROTOCOL

from .checks import THROTTLING_CODES, Response

SERVICE = "workspaces"
TARGET_PREFIX = "WorkspacesService"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
SENSITIVE_HEADERS = ("authorization", "x-amz-security-token")
LOOPBACK_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class TargetUnreachable(Exception):
    """The target could not be reached or did not answer in time."""


@dataclasses.dataclass
class Connection:
    """How to reach and sign for one target."""

    endpoint: str
    region: str = "us-east-1"
    profile: str | None = None
    loopback_credentials: bool = True
    timeout: float = 30.0
    start_hint: str = ""  # how to start the target again, for reproductions
    rate_limit: float | None = None  # requests per second; None: as fast as the target answers
    burst: int = 5
    throttle_retries: int = 5

    def session(self) -> boto3.Session:
        """A boto3 session speaking :data:`PROTOCOL`: fixed public credentials for mocks, else botocore's chain or ``profile``."""
        core = speaking(PROTOCOL)
        if self.loopback_credentials:
            return boto3.Session(region_name=self.region, botocore_session=core, **LOOPBACK_CREDENTIALS)
        try:
            session = boto3.Session(region_name=self.region, profile_name=self.profile, botocore_session=core)
        except botocore.exceptions.ProfileNotFound:
            raise ValueError(f"Expected a profile of the AWS config files but got profile={self.profile!r}; "
                             "list them with: aws configure list-profiles") from None
        if session.get_credentials() is None:
            raise RuntimeError(f"Expected AWS credentials for {self.endpoint} but botocore's standard chain found "
                               "none; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile")
        return session




class _ProtocolLoader:
    """botocore's data loader, except that the WorkSpaces model lists only one wire protocol."""

    def __init__(self, loader, protocol: str) -> None:
        self._loader = loader
        self._protocol = protocol

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def load_service_model(self, service_name, type_name, api_version=None):
        model = self._loader.load_service_model(service_name, type_name, api_version)
        if service_name != SERVICE or type_name != "service-2":
            return model
        metadata = {**model["metadata"], "protocol": self._protocol, "protocols": [self._protocol]}
        return {**model, "metadata": metadata}


def speaking(protocol: str) -> botocore.session.Session:
    """A new botocore session whose WorkSpaces clients speak ``protocol``.

    botocore picks a client's protocol by its own preference among those the model
    lists; the suite names the one it speaks instead, so a new model or botocore
    release cannot switch the wire format under it.
    """
    core = botocore.session.get_session()
    core.register_component("data_loader", _ProtocolLoader(core.get_component("data_loader"), protocol))
    return core


class RateLimiter:
    """A token bucket: ``rate`` requests per second on average, bursts of ``burst``."""

    def __init__(self, rate: float | None, burst: int = 5) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"Expected a positive rate limit but got rate_limit={rate!r}")
        self.rate, self.burst = rate, max(1, burst)
        self._tokens, self._stamp = float(self.burst), time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate is None:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1
        if wait:
            time.sleep(wait)


class Caller:
    """Sends requests to a target and returns what came back on the wire.

    Throttling answers are retried with exponential backoff and counted in
    ``throttled``, apart from conformance results.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        session = connection.session()
        config = botocore.config.Config(
            parameter_validation=False,
            retries={"total_max_attempts": 1},  # retries are the suite's decision, not botocore's
            connect_timeout=min(connection.timeout, 10),
            read_timeout=connection.timeout,
            max_pool_connections=4,
        )
        self.client = session.client(
            SERVICE, endpoint_url=connection.endpoint, region_name=connection.region, config=config
        )
        spoken = getattr(self.client.meta.service_model, "resolved_protocol", None) or self.client.meta.service_model.protocol
        if spoken != PROTOCOL:
            raise RuntimeError(f"Expected a WorkSpaces client speaking {PROTOCOL} but botocore made one speaking {spoken}")
        self._credentials = session.get_credentials()
        self._secrets = self._credential_secrets()
        self._captured = threading.local()
        # Captured before botocore parses, so a body it cannot parse (invalid UTF-8, truncated JSON)
        # is still judged as what the target sent.
        self.client.meta.events.register(f"before-parse.{SERVICE}", self._capture)
        # Every boto3 call, the suite's own paginators and waiters too, is told to the observer.
        self.client.meta.events.register(f"before-parameter-build.{SERVICE}", self._remember_request)
        self.client.meta.events.register(f"after-call.{SERVICE}", self._observe_call)
        self.observer = None  # told of every exchange (a conformance.replay.Ledger), when set
        self._log_filter = RedactingFilter(self._secrets)
        self._log_filter.install()
        # Headers and body leave in two writes; without TCP_NODELAY each raw request
        # waits ~40 ms for a delayed ACK (botocore's own sessions set it too).
        self._http = botocore.httpsession.URLLib3Session(
            timeout=connection.timeout, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        self._limiter = RateLimiter(connection.rate_limit, connection.burst)
        self.calls = 0
        self.throttled = 0
        self.unimplemented: set[str] = set()

    def _capture(self, response_dict, **_) -> None:
        self._captured.response = response_dict

    def _remember_request(self, params, model, context, **_) -> None:
        context[_REQUEST_KEY] = (model.name, dict(params))

    def _observe_call(self, http_response, model, context, **_) -> None:
        operation, params = context.get(_REQUEST_KEY, (model.name, {}))
        headers = {str(k).lower(): str(v) for k, v in http_response.headers.items()}
        response = Response(http_response.status_code, headers, bytes(http_response.content or b""))
        self._observe(operation, params, response)

    def _observe(self, operation: str | None, params, response: Response) -> None:
        self._captured.observed = True
        if self.observer is not None:
            self._captured.setup = self.observer.observe(operation, params, response)

    def last_setup(self):
        """What a fresh target needs before the last request of this thread (a Setup), or None."""
        return getattr(self._captured, "setup", None)

    def secrets(self) -> list[str]:
        """Credential strings that must never appear in any output."""
        return self._secrets

    def _credential_secrets(self) -> list[str]:
        # The fixed loopback credentials are public and belong in runnable reproductions.
        if self._credentials is None or self.connection.loopback_credentials:
            return []
        frozen = self._credentials.get_frozen_credentials()
        return [s for s in (frozen.secret_key, frozen.token) if s and len(s) >= 4]

    def _with_throttling_retries(self, send) -> Response:
        for attempt in range(self.connection.throttle_retries + 1):
            self._limiter.acquire()
            response = send()
            if response.error_code not in THROTTLING_CODES or attempt == self.connection.throttle_retries:
                return self._redacted(response)
            self.throttled += 1
            time.sleep(min(20.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")

    def _redacted(self, response: Response) -> Response:
        """Blank credentials a target echoes back, before anything judges or prints the body."""
        for secret in self.secrets():
            encoded = secret.encode()
            if encoded in response.body:
                response.body = response.body.replace(encoded, b"***")
        return response

    def call(self, operation: str, params: dict) -> Response:
        """Send ``params`` through boto3 and return the raw response."""
        return self._with_throttling_retries(lambda: self._call_once(operation, params))

    def _call_once(self, operation: str, params: dict) -> Response:
        self._captured.response = None
        self._captured.observed, self._captured.setup = False, None
        self.calls += 1
        method = getattr(self.client, xform_name(operation))
        try:
            method(**params)
        except botocore.exceptions.ClientError:
            pass
        except _NO_ANSWER as error:
            raise TargetUnreachable(unreachable_reason(error)) from error
        except Exception:
            # botocore could not parse what came back; the raw response still tells.
            if self._captured.response is None:
                raise
        captured = self._captured.response
        if captured is None:
            raise TargetUnreachable(f"{self.connection.endpoint}: no HTTP response to {operation}")
        headers = {str(k).lower(): str(v) for k, v in captured["headers"].items()}
        response = Response(captured["status_code"], headers, bytes(captured["body"] or b""))
        if not self._captured.observed:  # botocore gave up parsing before its after-call event
            self._observe(operation, params, response)
        return response

    def send_raw(
        self,
        operation: str | None,
        body: bytes,
        *,
        content_type: str = JSON_CONTENT_TYPE,
        target: str | None = None,
    ) -> Response:
        """POST ``body`` as is, signed, with ``X-Amz-Target`` for ``operation``."""
        return self._with_throttling_retries(
            lambda: self._send_raw_once(operation, body, content_type=content_type, target=target)
        )

    def _send_raw_once(self, operation, body, *, content_type, target) -> Response:
        self._captured.setup = None
        self.calls += 1
        headers = {"Content-Type": content_type}
        header_target = target if target is not None else (f"{TARGET_PREFIX}.{operation}" if operation else None)
        if header_target:
            headers["X-Amz-Target"] = header_target
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.connection.endpoint.rstrip("/") + "/", data=body, headers=headers
        )
        if self._credentials is not None:
            botocore.auth.SigV4Auth(
                self._credentials.get_frozen_credentials(), SERVICE, self.connection.region
            ).add_auth(request)
        try:
            http = self._http.send(request.prepare())
        except _NO_ANSWER as error:
            raise TargetUnreachable(unreachable_reason(error)) from error
        response = Response(http.status_code, {k.lower(): v for k, v in http.headers.items()}, http.content)
        self._observe(operation, _json_object(body), response)
        return response

    def close(self) -> None:
        self._log_filter.remove()
        self._http.close()
        self.client.close()


# Every way botocore says "no HTTP response came back" (refused, DNS, TLS, timeouts, dropped connections).
_NO_ANSWER = (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError)
_REQUEST_KEY = "workspaces_conformance.request"  # where a boto3 call's context keeps its parameters


def _json_object(body: bytes) -> dict:
    """A raw request body as a JSON object ({} when it is none)."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def unreachable_reason(error: Exception) -> str:
    """One line saying why no response came back (the cause, then botocore's detail naming host and port)."""
    cause = error.kwargs.get("error") if isinstance(getattr(error, "kwargs", None), dict) else None
    detail = f"{cause}" if cause is not None else f"{error}"
    text = f"{detail} {error}".lower()
    if isinstance(error, (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError)) \
            or "timed out" in text or "timeout" in text:
        kind = "no response in time (see --request-timeout)"
    elif "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text \
            or "getaddrinfo" in text or "no address associated" in text:
        kind = "DNS lookup failed: the host name does not resolve"
    elif "refused" in text:
        kind = "connection refused: nothing listens there"
    elif isinstance(error, botocore.exceptions.SSLError) or "ssl" in text or "certificate" in text:
        kind = "TLS handshake failed"
    elif isinstance(error, botocore.exceptions.ConnectionClosedError) or "closed" in text or "reset" in text:
        kind = "the connection was closed without a response"
    else:
        kind = "no HTTP response"
    return f"{kind} ({detail.strip()[:300]})"


class RedactingFilter(logging.Filter):
    """A logging filter that blanks credentials in botocore's, boto3's and urllib3's log records.

    botocore logs signed headers and response bodies at DEBUG; a user running
    pytest with ``--log-level=DEBUG`` must not see a secret in the captured logs.
    """

    PREFIXES = ("botocore", "boto3", "urllib3")

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)
        self._loggers: list[logging.Logger] = []

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format is left to the handler
            return True
        clean = redact_text(_SENSITIVE_HEADER_VALUES.sub(r"\1***", message), self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True

    def install(self) -> None:
        """Attach to every logger of the libraries that log requests (filters are not inherited)."""
        names = [name for name in list(logging.root.manager.loggerDict)
                 if name.split(".", 1)[0] in self.PREFIXES]
        for name in sorted(set(names) | set(self.PREFIXES)):
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)
                self._loggers.append(logger)

    def remove(self) -> None:
        for logger in self._loggers:
            logger.removeFilter(self)
        self._loggers = []


# Header values in logged dicts or canonical requests: 'X-Amz-Security-Token': b'...' or x-amz-security-token:...
_SENSITIVE_HEADER_VALUES = re.compile(
    r"((?:authorization|x-amz-security-token)['\"]?\s*[:=]\s*b?['\"]?)[^'\"\n,}]+", re.I
)


# --- reproductions --------------------------------------------------------------------------

SETTLED = "SETTLED"  # a state to wait for: any state that is not transitional


@dataclasses.dataclass(frozen=True)
class Step:
    """One call (or loop of calls) a reproduction makes before its request."""

    kind: str  # "create", "wait", "call", "polls" or "walk"
    resource: str = ""  # create, wait, polls: the run's WorkSpace; call: the resource; walk: the NextToken reached
    operation: str = ""  # call and walk
    params: Any = None  # create: the CreateWorkspaces entry; call and walk: the request
    state: str = ""  # wait: GONE (no longer described), SETTLED, or a WorkspaceState
    count: int = 0  # polls: DescribeWorkspaces calls; walk: pages
    seconds: float = 0.0  # wait: how long at most


@dataclasses.dataclass(frozen=True)
class Setup:
    """The calls that bring a fresh target to where the run's target was when a request was sent.

    Built by :class:`conformance.replay.Ledger`; the run's ids of the WorkSpaces
    created and NextTokens walked to become variables of the program.
    """

    steps: tuple[Step, ...] = ()
    listed: frozenset = frozenset()  # the run's ids that only the response named, not the request

    def without_listing(self) -> "Setup | None":
        """The steps for what the request itself names (None when that is nothing)."""
        return self.keeping(frozenset())

    def keeping(self, listed: frozenset) -> "Setup | None":
        """The steps for what the request names and, of what only the response lists, the ids ``listed``."""
        steps = tuple(step for step in self.steps if step.resource not in self.listed or step.resource in listed)
        return Setup(steps, self.listed & listed) if steps else None

    def names(self) -> dict[str, str]:
        """The run's id -> the program's variable holding its counterpart on the fresh target."""
        names: dict[str, str] = {}
        for step in self.steps:
            if step.kind == "create" and step.resource not in names:
                names[step.resource] = f"workspace_{sum(v.startswith('workspace_') for v in names.values()) + 1}"
            elif step.kind == "walk" and step.resource not in names:
                names[step.resource] = f"token_{sum(v.startswith('token_') for v in names.values()) + 1}"
        return names


def _literal(value: Any, names: dict[str, str] | None = None, level: int = 0) -> str:
    """Python source for a JSON-like value, laid out as ``json.dumps(indent=4)``, ids replaced by variables."""
    names = names or {}
    pad, end = "    " * (level + 1), "    " * level
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{_literal(str(k))}: {_literal(v, names, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{end}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{pad}{_literal(v, names, level + 1)}" for v in value) + f"\n{end}]"
    if isinstance(value, str):
        if value in names:
            return names[value]
        # JSON's escapes mean the same in Python for ASCII; repr keeps any other character exactly.
        return json.dumps(value) if value.isascii() else repr(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else f"float({str(value)!r})"
    return _literal(str(value))


def _client_lines(connection: Connection, imports: tuple[str, ...] = ()) -> list[str]:
    lines = []
    if connection.start_hint:
        lines.append(f"# Start the target first: {connection.start_hint}")
    if imports:
        lines += [*imports, ""]
    lines += ["import boto3", "from botocore.config import Config", ""]
    args = [f'"{SERVICE}"', f"region_name={connection.region!r}", f"endpoint_url={connection.endpoint!r}"]
    if connection.loopback_credentials:
        args += [f"{k}={v!r}" for k, v in LOOPBACK_CREDENTIALS.items()]
    session = f"boto3.Session(profile_name={connection.profile!r})" if connection.profile else "boto3"
    lines.append(f"client = {session}.client(")
    lines += [f"    {arg}," for arg in args]
    lines.append("    config=Config(parameter_validation=False, retries={'total_max_attempts': 1}),")
    lines.append(")")
    return lines


# The functions a reproduction's setup calls, each defined only where it is used.
_CREATE_HELPER = '''
def create_workspace(request):
    """CreateWorkspaces for one WorkSpace; returns its id."""
    answer = client.create_workspaces(Workspaces=[request])
    if not answer.get("PendingRequests"):
        raise SystemExit(f"CreateWorkspaces made no WorkSpace: {answer.get('FailedRequests')}")
    return answer["PendingRequests"][0]["WorkspaceId"]
'''
_WAIT_HELPER = '''
def wait_for(workspace_id, state, seconds):
    """Poll DescribeWorkspaces until the WorkSpace is in state (GONE: not described; SETTLED: not transitional)."""
    pause, deadline = 0.05, time.monotonic() + seconds
    while True:
        found = [w["State"] for w in client.describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"]]
        if found == [state] or (state == "GONE" and not found) or (
                state == "SETTLED" and found and found[0] not in TRANSITIONAL):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{workspace_id} is {found or 'not described'}, not {state}, after {seconds} s")
        time.sleep(pause)
        pause = min(pause * 1.5, 30)
'''
_WALK_HELPER = '''
def walk(list_page, params, pages):
    """Follow NextToken from the first page of a listing; returns the token that page ``pages`` carries."""
    token = None
    for page in range(1, pages + 1):
        token = list_page(**params, **({"NextToken": token} if token else {})).get("NextToken")
        if not token:
            raise SystemExit(f"page {page} of {params} carries no NextToken")
    return token
'''


def _imports(setup: Setup) -> tuple[str, ...]:
    return ("import time",) if any(step.kind == "wait" for step in setup.steps) else ()


def _setup_lines(setup: Setup, names: dict[str, str]) -> list[str]:
    """The helpers, then the setup's calls; they print nothing, so the request's answer is what shows."""
    from strategies.lifecycle import model

    kinds = {step.kind for step in setup.steps}
    lines = []
    if "wait" in kinds:
        lifecycle = model()
        transitional = sorted(state for state in lifecycle.states if not lifecycle.is_settled(state))
        lines += ["", "", f"TRANSITIONAL = {transitional}"]
    for kind, helper in (("create", _CREATE_HELPER), ("wait", _WAIT_HELPER), ("walk", _WALK_HELPER)):
        if kind in kinds:
            lines += ["", "", *helper.strip("\n").split("\n")]
    lines += ["", ""]
    for step in setup.steps:
        var = names.get(step.resource, _literal(step.resource))
        if step.kind == "create":
            lines.append(f"# {step.resource} of the run, made anew")
            lines.append(f"{var} = create_workspace({_literal(step.params, names)})")
        elif step.kind == "wait":
            lines.append(f"wait_for({var}, {step.state!r}, {step.seconds:g})")
        elif step.kind == "polls":
            lines.append(f"for _ in range({step.count}):  # the polls the run made since")
            lines.append(f"    client.describe_workspaces(WorkspaceIds=[{var}])")
        elif step.kind == "call":
            lines.append(f"client.{xform_name(step.operation)}(**{_literal(step.params, names)})")
        elif step.kind == "walk":
            lines.append(f"# the NextToken of page {step.count}, as the run was handed it")
            lines.append(f"{var} = walk(client.{xform_name(step.operation)}, {_literal(step.params, names)}, "
                         f"{step.count})")
        else:
            raise ValueError(f"Expected a step kind of create, wait, polls, call or walk but got kind={step.kind!r}")
    return lines + [""]


def reproduce_call(connection: Connection, operation: str, params: Any, setup: Setup | None = None, *,
                   observe: tuple[str, int] | None = None) -> str:
    """A runnable boto3 program that sends ``params`` to ``operation`` again and prints the answer.

    With ``setup`` it first makes what the request depends on (see
    :class:`Setup`) and names the new resources where the run's ids stood.
    ``observe`` (the run's WorkSpace id, a count) prints that WorkSpace's state
    that many times after the answer, as the run's polls saw it. Such a
    program prints an error answer too (status, headers, code), so what it
    shows can be held against what the run saw.
    """
    setup = setup or Setup()
    names = setup.names()
    lines = _client_lines(connection, _imports(setup))
    if setup.steps:
        lines += _setup_lines(setup, names)
    call = f"client.{xform_name(operation)}(**{_literal(params, names)})"
    if observe is not None and observe[0] not in names and operation in specs.resource("workspaces")["create"]:
        names[observe[0]] = "workspace_id"
        lines += [f"created = {call}", "print(created)", "workspace_id = created['PendingRequests'][0]['WorkspaceId']"]
    elif setup.steps or observe is not None:
        lines += ["try:", f"    print(client.{xform_name(operation)}(**{_literal(params, names, 1)}))",
                  "except client.exceptions.ClientError as error:",
                  "    print(error.response)"]
    else:
        lines.append(f"print({call})")
    if observe is not None and observe[1] > 0:
        var = names.get(observe[0], _literal(observe[0]))
        lines.append(f"for _ in range({observe[1]}):")
        lines.append(f"    print([w['State'] for w in client.describe_workspaces(WorkspaceIds=[{var}])['Workspaces']])")
    return "\n".join(lines)


def reproduce_raw(connection: Connection, operation: str | None, body: bytes, *, content_type=JSON_CONTENT_TYPE,
                  target=None, setup: Setup | None = None) -> str:
    """A runnable Python program that sends the raw ``body`` again, signed, and prints the answer.

    With ``setup`` a boto3 client first makes what the request depends on, and
    the body names the new resources where the run's ids stood.
    """
    header_target = target if target is not None else (f"{TARGET_PREFIX}.{operation}" if operation else None)
    imports = [
        "import urllib.request",
        "import botocore.session",
        "from botocore.auth import SigV4Auth",
        "from botocore.awsrequest import AWSRequest",
        "from botocore.credentials import Credentials",
    ]
    lines = []
    if setup is not None and setup.steps:
        names = setup.names()
        lines += _client_lines(connection, (*_imports(setup), *imports)) + _setup_lines(setup, names)
        lines.append(f"body = {body!r}")
        for run_id, var in names.items():
            quoted = json.dumps(run_id).encode()
            if quoted in body:
                lines.append(f"body = body.replace({quoted!r}, b'\"' + {var}.encode() + b'\"')")
    else:
        if connection.start_hint:
            lines.append(f"# Start the target first: {connection.start_hint}")
        lines += [*imports, "", f"body = {body!r}"]
    lines += [
        f"headers = {{'Content-Type': {content_type!r}" + (f", 'X-Amz-Target': {header_target!r}" if header_target else "") + "}",
        f"request = AWSRequest(method='POST', url={connection.endpoint.rstrip('/') + '/'!r}, data=body, headers=headers)",
    ]
    if connection.loopback_credentials:
        lines.append("credentials = Credentials('testing', 'testing')")
    else:
        profile = f"profile={connection.profile!r}" if connection.profile else ""
        lines.append(f"credentials = botocore.session.Session({profile}).get_credentials()")
    lines += [
        f"SigV4Auth(credentials, 'workspaces', {connection.region!r}).add_auth(request)",
        "prepared = request.prepare()",
        "http = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method='POST')",
        "try:",
        "    with urllib.request.urlopen(http) as answer:",
        "        print(answer.status, answer.headers.get('Content-Type'), answer.read())",
        "except urllib.error.HTTPError as answer:",
        "    print(answer.code, answer.headers.get('Content-Type'), answer.read())",
    ]
    return "\n".join(lines)


# --- redaction ------------------------------------------------------------------------------

_AUTH_PATTERN = re.compile(r"(Credential=)[^,\s]+|(Signature=)[0-9a-f]+", re.I)


def redact_text(text: str, secrets: list[str]) -> str:
    """``text`` with every secret and every SigV4 credential or signature blanked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _AUTH_PATTERN.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def redact(value: Any, secrets: list[str]) -> Any:
    """A copy of a JSON-like ``value`` with secrets and sensitive headers removed."""
    if isinstance(value, dict):
        return {
            k: ("***" if str(k).lower() in SENSITIVE_HEADERS else redact(v, secrets)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value
