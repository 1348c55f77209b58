"""Targets: start the emulator or moto, describe a URL target, find its live resources.

Only this module knows the emulator (to start it). A target is reached through
a :class:`conformance.client.Caller`; everything else talks to that.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import socket
import threading
import urllib.parse
import uuid

import botocore.exceptions

import specs

from .client import Caller, Connection

KINDS = ("emulator", "moto", "url", "aws")

# Answers that mean "this endpoint does not implement the operation at all".
NOT_IMPLEMENTED_CODES = {
    "UnknownOperationException",
    "UnknownOperation",
    "NotImplemented",
    "NotImplementedException",
    "UnsupportedOperation",
    "UnsupportedOperationException",
    "InvalidAction",
}
NOT_IMPLEMENTED_WORDS = ("not implemented", "not yet implemented", "notimplemented", "unknown operation")


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Target:
    """A running endpoint under test, with what the suite knows about it."""

    kind: str
    connection: Connection
    remote: bool = False
    allow_mutations: bool = True
    max_workspaces: int = 10
    run_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:12])
    directory_id: str | None = None
    bundle_id: str | None = None
    user_name: str | None = None
    faults: tuple[str, ...] = ()
    polls_per_state: int | None = None  # the emulator's polled clock: each transitional state seen N times
    _stop: object = None
    implemented: dict[str, bool] = dataclasses.field(default_factory=dict)
    created: list[str] = dataclasses.field(default_factory=list)  # every WorkSpace the run made: cleanup's list
    generated: set[str] = dataclasses.field(default_factory=set)  # those of created a generated request made
    user_names: list[str] = dataclasses.field(default_factory=list)  # directory users for remote creations
    requested: int = 0  # WorkSpaces asked for and not refused: what the budget counts
    uncertain: bool = False  # a CreateWorkspaces got no readable answer: cleanup must search by tag
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _users_taken: set = dataclasses.field(default_factory=set, repr=False)

    @property
    def endpoint(self) -> str:
        return self.connection.endpoint

    def room(self) -> int:
        """How many more WorkSpaces this run may ask for under ``max_workspaces``."""
        return max(0, self.max_workspaces - self.requested)

    def reserve(self, wanted: int) -> int:
        """Claim room for up to ``wanted`` new WorkSpaces before asking for them; return the number granted.

        The claim is made before the request is sent, so a request whose answer
        is lost (timeout, interrupt) still counts and the budget is never exceeded.
        """
        if not isinstance(wanted, int) or wanted < 0:
            raise ValueError(f"Expected a count of WorkSpaces >= 0 but got wanted={wanted!r}")
        with self._lock:
            granted = min(wanted, self.room())
            self.requested += granted
            return granted

    def release(self, count: int) -> None:
        """Give back room claimed by :meth:`reserve` for WorkSpaces that were never asked for."""
        with self._lock:
            self.requested = max(0, self.requested - count)

    def record_creation(self, granted: int, response, *, generated: bool = False) -> list[str]:
        """Note what a CreateWorkspaces for ``granted`` WorkSpaces created; give back the room of refusals.

        With ``generated`` the request was drawn by a strategy, not made by the
        suite for its own use: what it created is recorded for cleanup, and counts
        against the budget only on remote targets (mocks accept such requests by
        the dozen, and the budget is there for real accounts).
        """
        body = response.json if isinstance(response.json, dict) else None
        pending = [p["WorkspaceId"] for p in (body or {}).get("PendingRequests") or []
                   if isinstance(p, dict) and isinstance(p.get("WorkspaceId"), str)]
        failed = [f for f in (body or {}).get("FailedRequests") or [] if isinstance(f, dict)]
        with self._lock:
            self.created.extend(w for w in pending if w not in self.created)
            if generated:
                self.generated.update(pending)
                if not self.remote:
                    return pending
            self.requested += max(0, len(pending) - granted)  # a lax target made more than was asked for
            if 400 <= response.status < 500 and body is not None and not pending:
                refused = granted  # a well-formed client error: nothing was created
            elif response.status == 200 and body is not None:
                refused = min(len(failed), granted - min(len(pending), granted))
            else:
                refused = 0  # a server error or an unreadable answer: maybe created, keep counting
                self.uncertain = True
            self.requested -= refused
        return pending

    def users_left(self) -> int:
        """How many --user-name users have no WorkSpace from this run yet."""
        with self._lock:
            return len([name for name in self.user_names if name not in self._users_taken])

    def take_user_name(self) -> str | None:
        """A directory user (from --user-name) who has no WorkSpace from this run yet, or None."""
        with self._lock:
            for name in self.user_names:
                if name not in self._users_taken:
                    self._users_taken.add(name)
                    return name
        return None

    def caller(self) -> Caller:
        return Caller(self.connection)

    def stop(self) -> None:
        if callable(self._stop):
            self._stop()
            self._stop = None


def start_emulator(*, faults=(), polls_per_state: int | None = 1, **connection_options) -> Target:
    """Start the reference emulator in-process on an ephemeral loopback port."""
    from emulator import Emulator  # the only place the judge touches the reference

    server = Emulator(port=0, faults=tuple(faults), polls_per_state=polls_per_state)
    url = server.start()
    port = urllib.parse.urlsplit(url).port
    hint = f"python -m emulator --port {port}" + "".join(f" --fault {f}" for f in faults)
    if polls_per_state:
        hint += f" --polls-per-state {polls_per_state}"
    connection = Connection(url, start_hint=hint, **connection_options)
    return Target("emulator", connection, faults=tuple(faults), polls_per_state=polls_per_state, _stop=server.stop)


def start_moto(**connection_options) -> Target:
    """Start moto's server in-process and provision what WorkSpaces needs."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "Expected moto with its server extra for --endpoint moto; install it with "
            "pip install 'moto[server]'"
        ) from error
    # moto's werkzeug logs a traceback per failing request; the report says what matters.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    connection = Connection(url, start_hint=f"moto_server -H 127.0.0.1 -p {port}", **connection_options)
    target = Target("moto", connection, _stop=server.stop)
    try:
        target.directory_id, target.bundle_id = _provision_moto(connection)
    except botocore.exceptions.ClientError as error:
        server.stop()
        from importlib.metadata import version

        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        raise RuntimeError(f"moto {version('moto')} could not provision a WorkSpaces directory: "
                           f"{error.operation_name} answered HTTP {status}; the suite needs moto>=5.0.4, "
                           "the first release with WorkSpaces") from None
    return target


def _provision_moto(connection: Connection) -> tuple[str, str]:
    session = connection.session()
    kwargs = {"endpoint_url": connection.endpoint, "region_name": connection.region}
    ec2 = session.client("ec2", **kwargs)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [f"{connection.region}a", f"{connection.region}b"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    ds = session.client("ds", **kwargs)
    directory = ds.create_directory(
        Name="corp.example.com",
        Password="Conformance-Passw0rd",
        Size="Small",
        VpcSettings={"VpcId": vpc, "SubnetIds": subnets},
    )["DirectoryId"]
    workspaces = session.client("workspaces", **kwargs)
    workspaces.register_workspace_directory(DirectoryId=directory, SubnetIds=subnets)
    # moto has no bundles: any well-formed id is accepted by its CreateWorkspaces.
    return directory, "wsb-0a1b2c3d4"


def url_target(url: str, *, assume_remote: bool = False, **connection_options) -> Target:
    """A target that is already running at ``url``."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(
            f"Expected --endpoint to be 'emulator', 'moto' or an http(s):// URL but got endpoint={url!r}"
        )
    remote = assume_remote or not is_loopback(url)
    kind = "aws" if (parsed.hostname or "").endswith(".amazonaws.com") else "url"
    if remote:
        connection_options.setdefault("loopback_credentials", False)
    connection = Connection(url, **connection_options)
    return Target(kind, connection, remote=remote)


# --- implementation probe ---------------------------------------------------------------------


def looks_not_implemented(response) -> bool:
    """Whether one response says the operation is not implemented at all.

    The shapes seen in the wild: moto's HTML 500, LocalStack's 501 with an
    InternalFailure "not yet implemented" body, UnknownOperationException, a 404.
    """
    if response.status in (501, 404):
        return True
    if response.error_code in NOT_IMPLEMENTED_CODES or (response.error_code or "").endswith("NotImplemented"):
        return True
    body = response.json
    if response.status == 500 and (not isinstance(body, dict) or "__type" not in body):
        # moto's HTML page for an unimplemented action; a 502/503/504 page is a broken gateway
        # in front of an implementation, judged as a server error rather than left out of the scores.
        return True
    message = (response.error_message or "").lower()
    return response.status >= 400 and any(word in message for word in NOT_IMPLEMENTED_WORDS)


def _probes(operation: str, pool) -> list[dict]:
    """Requests that change nothing: forbidden by the contract, or aimed at ids that exist nowhere.

    A lax endpoint that accepts the forbidden ones still has nothing to create
    or change. Tag operations also get a request on a live directory, because
    some mocks crash (HTTP 500, HTML) on unknown ids in an operation they do
    implement.
    """
    nowhere = "ws-000000000"
    live = (pool.directories[:1] if pool is not None else []) or [nowhere]
    requests = {
        "CreateTags": [{"ResourceId": nowhere, "Tags": []}, {"ResourceId": live[0], "Tags": []}],
        "CreateWorkspaces": [{"Workspaces": []}],
        "DeleteTags": [{"ResourceId": nowhere, "TagKeys": []}, {"ResourceId": live[0], "TagKeys": []}],
        "DescribeTags": [{"ResourceId": nowhere}, {"ResourceId": live[0]}],
        "ModifyWorkspaceProperties": [{"WorkspaceId": nowhere}],
        "RebootWorkspaces": [{"RebootWorkspaceRequests": [{"WorkspaceId": nowhere}]}],
        "RebuildWorkspaces": [{"RebuildWorkspaceRequests": [{"WorkspaceId": nowhere}]}],
        "StartWorkspaces": [{"StartWorkspaceRequests": [{"WorkspaceId": nowhere}]}],
        "StopWorkspaces": [{"StopWorkspaceRequests": [{"WorkspaceId": nowhere}]}],
        "TerminateWorkspaces": [{"TerminateWorkspaceRequests": [{"WorkspaceId": nowhere}]}],
    }
    return requests.get(operation, [{}]) + [{}]


def probe_implemented(caller: Caller, operation: str, pool=None, answers: list | None = None) -> bool:
    """Whether the target implements ``operation``: not every probe may say "not implemented".

    Each probe's response is appended to ``answers`` when given, so a coverage
    failure can say what the target actually sent.
    """
    for params in _probes(operation, pool):
        response = caller.send_raw(operation, json.dumps(params).encode())
        if answers is not None:
            answers.append(response)
        if not looks_not_implemented(response):
            return True
    return False


# --- live resources -----------------------------------------------------------------------


def discover(caller: Caller, target: Target):
    """The pool of live resources the target holds (directories, bundles, WorkSpaces)."""
    from strategies import ResourcePool

    directories = _collect(caller, "DescribeWorkspaceDirectories", {}, "Directories", "DirectoryId")
    bundles = _collect(caller, "DescribeWorkspaceBundles", {"Owner": "AMAZON"}, "Bundles", "BundleId")
    bundles += _collect(caller, "DescribeWorkspaceBundles", {}, "Bundles", "BundleId")
    workspaces = _collect(caller, "DescribeWorkspaces", {}, "Workspaces", None)
    live = [w for w in workspaces if w.get("State") not in ("TERMINATING", "TERMINATED")]
    if target.directory_id and target.directory_id not in directories:
        directories.insert(0, target.directory_id)
    if target.bundle_id and target.bundle_id not in bundles:
        bundles.insert(0, target.bundle_id)
    users = sorted({w["UserName"] for w in live if isinstance(w.get("UserName"), str)})
    if target.user_name and target.user_name not in users:
        users.insert(0, target.user_name)
    return ResourcePool(
        directories=directories,
        bundles=list(dict.fromkeys(bundles)),
        workspaces=[w["WorkspaceId"] for w in live if isinstance(w.get("WorkspaceId"), str)],
        user_names=users,
    )


def _collect(caller: Caller, operation: str, params: dict, key: str, id_key: str | None, pages: int = 20) -> list:
    if target_lacks(caller, operation):
        return []
    found, token = [], None
    for _ in range(pages):
        request = dict(params, NextToken=token) if token else params
        response = caller.call(operation, request)
        body = response.json
        if response.status != 200 or not isinstance(body, dict):
            break
        items = body.get(key) if isinstance(body.get(key), list) else []
        found += [item.get(id_key) if id_key else item for item in items if isinstance(item, dict)]
        token = body.get("NextToken")
        if not token:
            break
    return [item for item in found if item]


def target_lacks(caller: Caller, operation: str) -> bool:
    return getattr(caller, "unimplemented", set()).__contains__(operation)


def workspace_requests(target: Target, pool, count: int) -> list[dict]:
    """CreateWorkspaces entries for up to ``count`` new WorkSpaces in the pool's first directory and bundle.

    On loopback targets the user names are made up (mocks accept any); on remote
    targets each entry needs a real directory user from ``--user-name`` that has
    no WorkSpace from this run yet, so no users means no entries.
    """
    if count <= 0 or not pool.directories or not pool.bundles:
        return []
    entries = []
    for index in range(min(count, 25)):
        if target.remote:
            user = target.take_user_name()
            if user is None:
                break
        else:
            user = f"conformance-{target.run_id}-{len(target.created) + index}"
        # AutoStop and AlwaysOn in turn: Start and Stop act on the one and must refuse the other.
        mode = ("AUTO_STOP", "ALWAYS_ON")[(len(target.created) + index) % 2]
        entries.append({"DirectoryId": pool.directories[0], "UserName": user, "BundleId": pool.bundles[0],
                        "WorkspaceProperties": {"RunningMode": mode}})
    return entries


def operations_under_test(selected: list[str] | None) -> list[str]:
    """The seed operations to test (all when ``selected`` is None), every bad name reported at once."""
    seed = specs.seed_operations()
    if selected is None:
        return seed
    if not selected:
        raise ValueError("Expected operation names in --operations but got operations=''; "
                         f"leave the option out to test all of them, or name some of: {', '.join(seed)}")
    problems = specs.unknown_names("operation name", selected, specs.operation_names())
    outside = [name for name in selected if name in specs.operation_names() and name not in seed]
    if outside:
        problems.append(f"Expected seed operations in --operations but got {', '.join(outside)}; "
                        f"the suite tests: {', '.join(seed)}")
    if problems:
        raise ValueError(" ".join(problems))
    return list(dict.fromkeys(selected))
