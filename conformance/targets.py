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
import urllib.parse
import uuid

import specs

from .cleanup import run_tags
from .client import Caller, Connection, TargetUnreachable

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
    created: list[str] = dataclasses.field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.connection.endpoint

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
    target.directory_id, target.bundle_id = _provision_moto(connection)
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
    if response.status >= 500 and (not isinstance(body, dict) or "__type" not in body):
        return True  # an HTML or text page instead of an AWS JSON error
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


def probe_implemented(caller: Caller, operation: str, pool=None) -> bool:
    """Whether the target implements ``operation``: not every probe may say "not implemented"."""
    for params in _probes(operation, pool):
        if not looks_not_implemented(caller.send_raw(operation, json.dumps(params).encode())):
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
        try:
            response = caller.call(operation, request)
        except TargetUnreachable:
            raise
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


def ensure_workspaces(caller: Caller, target: Target, pool, count: int):
    """Create WorkSpaces until the pool holds ``count`` live ones (loopback targets only)."""
    missing = count - len(pool.workspaces)
    room = target.max_workspaces - len(target.created)
    if missing <= 0 or not target.allow_mutations or room <= 0 or target_lacks(caller, "CreateWorkspaces"):
        return pool
    if not pool.directories or not pool.bundles:
        return pool
    requests = [
        {
            "DirectoryId": pool.directories[0],
            "UserName": f"conformance-{target.run_id}-{len(target.created) + i}",
            "BundleId": pool.bundles[0],
            "Tags": run_tags(target.run_id),
        }
        for i in range(min(missing, room, 25))
    ]
    response = caller.call("CreateWorkspaces", {"Workspaces": requests})
    body = response.json if isinstance(response.json, dict) else {}
    for pending in body.get("PendingRequests") or []:
        if isinstance(pending, dict) and isinstance(pending.get("WorkspaceId"), str):
            target.created.append(pending["WorkspaceId"])
            pool.workspaces.append(pending["WorkspaceId"])
            if isinstance(pending.get("UserName"), str):
                pool.user_names.append(pending["UserName"])
    return pool


def operations_under_test(selected: list[str] | None) -> list[str]:
    """The seed operations to test, validated against the specs."""
    seed = specs.seed_operations()
    if not selected:
        return seed
    chosen = []
    for name in selected:
        specs.operation(name)  # raises with a suggestion for unknown names
        if name not in seed:
            raise ValueError(
                f"Expected seed operations in --operations but got operations={name!r}; "
                f"the suite tests: {', '.join(seed)}"
            )
        chosen.append(name)
    return chosen
