"""Targets: start the emulator or moto, describe a URL target, find its live resources.

Only this module knows the emulator (to start it). A target is reached through
a :class:`conformance.client.Caller`; everything else talks to that.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re
import socket
import threading
import urllib.parse
import uuid

import botocore.exceptions

import specs

from .client import Caller, Connection

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
    created: list[str] = dataclasses.field(default_factory=list)  # every WorkSpace the run made: cleanup's list
    generated: set[str] = dataclasses.field(default_factory=set)  # those of created a generated request made
    user_names: list[str] = dataclasses.field(default_factory=list)  # directory users for remote creations
    requested: int = 0  # WorkSpaces asked for and not refused: what the budget counts
    uncertain: bool = False  # a CreateWorkspaces got no readable answer: cleanup must search by tag
    # Complete listings of the kinds no operation the suite tests creates, by kind: listed once a run (see discover).
    listed: dict[str, list] = dataclasses.field(default_factory=dict, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _users_taken: set = dataclasses.field(default_factory=set, repr=False)

    @property
    def endpoint(self) -> str:
        return self.connection.endpoint

    def given_ids(self) -> dict[str, str]:
        """The ids the run was given (--directory-id, --bundle-id, --user-name) or provisioned, by the member naming them."""
        given = {"DirectoryId": self.directory_id, "BundleId": self.bundle_id, "UserName": self.user_name}
        return {member: value for member, value in given.items() if value}

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

    Built from the operation's request schema: each required member naming a
    resource gets an id of that kind that exists nowhere, a required list of
    entries that only name resources gets one such entry, and any other
    required list is left empty. A lax endpoint that accepts these still has
    nothing to create or change. An operation naming the tag member also gets
    a request on a live resource (see :func:`live_id`), because some mocks
    crash (HTTP 500, HTML) on unknown ids in an operation they do implement.
    The last probe is always the empty request.
    """
    schema = specs.operation(operation)["input"]
    base = {}
    for member in schema.get("required") or ():
        node = specs.input_member(operation, member)
        if _references(member):
            base[member] = nowhere_id(member)
        elif node.get("type") == "array":
            entry = _resolved_items(schema, node)
            names = list((entry.get("properties") or {}) if entry.get("type") == "object" else ())
            base[member] = [{name: nowhere_id(name) for name in names}] if names and all(map(_references, names)) else []
    probes = [base] if base else []
    tag = specs.tag_member()
    if tag in base:
        probes.append(dict(base, **{tag: live_id(pool, tag) or base[tag]}))
    return (probes or [{}]) + [{}]


def _references(member: str) -> bool:
    return member in specs.reference_members()


def _resolved_items(schema: dict, node: dict) -> dict:
    items = node.get("items") or {}
    while "$ref" in items:
        items = schema.get("definitions", {}).get(items["$ref"].rsplit("/", 1)[-1], {})
    return items


def nowhere_id(member: str) -> str:
    """A well-formed id for ``member`` that names nothing: its kind's prefix and zeros (``ws-000000000``)."""
    named = specs.resources_for_member(member)
    pattern = next((entry["pattern"] for entry in named if entry.get("pattern")), None)
    if pattern is None:
        raise ValueError(f"Expected a member naming a resource with an id pattern but got member={member!r}")
    prefix = re.match(r"\^?\(?([A-Za-z]*-?)", pattern).group(1)
    # As long as a real id (nine characters after the prefix) or as the pattern wants.
    for zeros in range(9, 70):
        if re.fullmatch(pattern, prefix + "0" * zeros):
            return prefix + "0" * zeros
    raise ValueError(f"Expected an id pattern that a prefix and zeros can match but got pattern={pattern!r}")


def live_id(pool, member: str) -> str | None:
    """A live id for ``member`` from ``pool``: the first of the first kind it names (None without one).

    The tag member names every taggable kind; the first in the resources
    section is the directory, whose tags the run never sets, so the tags a
    request counts are its own.
    """
    named = [entry for entry in specs.resources_for_member(member) if specs.held(entry)]
    if pool is None or not named:
        return None
    ids = pool.ids.get(named[0]["kind"]) or []
    return ids[0] if ids else None


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
    """The pool of live resources the target holds, of every kind the resources section says how to find.

    Each kind's discovery requests go to its describe operation, followed to the
    last page; resources in a gone state are left out. A kind that no operation
    the suite tests creates does not change during a run: its complete listing
    is kept on the target and not asked for again (on a real account, at two
    requests a second, every listing counts). The ids the run was given
    (``--directory-id`` ...) come first.
    """
    from strategies import ResourcePool

    found: dict[str, list[str]] = {}
    items: dict[str, list[dict]] = {}  # live items by family, for kinds found in another kind's listing
    for entry in specs.resources():
        discovery = entry["discovery"]
        if "requests" in discovery:
            items[entry["id"]] = _listed(caller, target, entry)
            found[entry["kind"]] = _ids(items[entry["id"]], entry["describe"]["id_key"])
    for entry in specs.resources():
        discovery = entry["discovery"]
        if "from" in discovery:
            # Named by the listed items in no useful order: in name order.
            found[entry["kind"]] = sorted(set(_ids(items.get(discovery["from"], []), discovery["id_key"])))
    for member, value in target.given_ids().items():
        kind = specs.resources_for_member(member)[0]["kind"]
        if value not in found.setdefault(kind, []):
            found[kind].insert(0, value)
    return ResourcePool(found)


def _listed(caller: Caller, target: Target, entry: dict) -> list[dict]:
    """The live items of family ``entry``: every discovery request followed to its end, gone ones left out."""
    stable = not set(entry["create"]) & set(specs.seed_operations())
    if stable and entry["kind"] in target.listed:
        return list(target.listed[entry["kind"]])
    describe, gone = entry["describe"], specs.gone_states(entry)
    state = (entry.get("states") or {}).get("member")
    listed, complete = [], True
    for params in entry["discovery"]["requests"]:
        part, done = _collect(caller, describe["operation"], params, describe["result_key"])
        listed += part
        complete = complete and done
    live = [item for item in listed if not (gone and item.get(state) in gone)]
    if stable and complete:
        target.listed[entry["kind"]] = live
    return live


def _ids(items: list[dict], key: str) -> list[str]:
    return list(dict.fromkeys(item[key] for item in items if isinstance(item.get(key), str) and item[key]))


def _collect(caller: Caller, operation: str, params: dict, key: str, pages: int = 20) -> tuple[list[dict], bool]:
    """The items of one listing, and whether the listing is complete (or the target lacks the operation)."""
    if target_lacks(caller, operation):
        return [], True
    found, token = [], None
    for _ in range(pages):
        request = dict(params, NextToken=token) if token else params
        response = caller.call(operation, request)
        body = response.json
        if response.status != 200 or not isinstance(body, dict):
            return found, looks_not_implemented(response)
        items = body.get(key) if isinstance(body.get(key), list) else []
        found += [item for item in items if isinstance(item, dict)]
        token = body.get("NextToken")
        if not token:
            return found, True
    return found, False


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
