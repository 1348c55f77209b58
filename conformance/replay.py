"""The ledger of what a run did to live resources, and the fewest calls that redo it on a fresh target.

A request that names a WorkSpace the run created, or a NextToken the run was
handed, describes nothing on a freshly started target. The :class:`Ledger`
sees every exchange of a run (its :class:`~conformance.client.Caller` tells
it) and keeps, for each WorkSpace the run created, the CreateWorkspaces entry
that made it, the last settled state a DescribeWorkspaces showed, what was
accepted since, the tag calls made on it and where each NextToken came from.
From that it derives a :class:`~conformance.client.Setup` for any request: the
calls that bring a fresh target to where the run's target was when the request
was sent. :func:`conformance.client.reproduce_call` prints them before the
request.

The calls are the fewest that rebuild the state, not the run's history: a
WorkSpace seen STOPPED is created, waited for until AVAILABLE, stopped and
waited for until STOPPED, whatever else the run did with it. Resources the run
did not create (the emulator's seeded directories and bundles, which every
fresh emulator holds under the same ids, or an account's own) are named as
they are.
"""
from __future__ import annotations

import dataclasses
import re
import threading
from typing import Any

from strategies.lifecycle import ACTIONS, GONE, MODIFY, LifecycleModel, model

from .client import SETTLED, Setup, Step

TAG_OPERATIONS = ("CreateTags", "DeleteTags", "DescribeTags")
MODE_KEYS = ("RunningMode", "RunningModeAutoStopTimeoutInMinutes")
LOOPBACK_WAIT = 30.0  # seconds a reproduction waits for a state on a loopback target
# The transitional state each settled state is reached through, whose deadline bounds the wait.
WAIT_THROUGH = {"AVAILABLE": "PENDING", "STOPPED": "STOPPING", GONE: "TERMINATING"}
MAX_TOKENS = 20_000  # NextTokens remembered; the oldest are forgotten first
MAX_WALK = 250  # pages a reproduction follows to reach a NextToken
_WORKSPACE_ID = re.compile(rb'"(ws-[0-9a-z]{8,63})"')


@dataclasses.dataclass
class _Workspace:
    """What the ledger knows of one WorkSpace the run created."""

    workspace_id: str
    seq: int
    entry: dict  # the CreateWorkspaces entry that made it
    mode: dict  # the running mode in force (RunningMode, and its timeout when given)
    settled: str | None = None  # the last settled state seen (None: none yet; SETTLED: one outside the contract)
    settled_mode: dict = dataclasses.field(default_factory=dict)  # the running mode when it was seen
    stop_mode: dict | None = None  # the running mode when the last StopWorkspaces was accepted
    since: list[Step] = dataclasses.field(default_factory=list)  # accepted actions and transitional polls since
    trigger: tuple | None = None  # (setup before, operation, params) of the last call naming it
    polls: int = 0  # DescribeWorkspaces that listed it since that call


@dataclasses.dataclass
class _Tags:
    """The tag calls on one resource that a fresh target has not seen."""

    baseline: list | None  # the tags a fresh target holds (sorted pairs); None: not known
    calls: list[tuple[str, dict]] = dataclasses.field(default_factory=list)


class Ledger:
    """What the run did to the resources it created and the NextTokens it was handed, per exchange."""

    def __init__(self, *, remote: bool = False, lifecycle: LifecycleModel | None = None) -> None:
        self.remote = remote
        self.model = lifecycle or model()
        self._lock = threading.RLock()
        self._workspaces: dict[str, _Workspace] = {}
        self._tags: dict[str, _Tags] = {}
        self._tokens: dict[str, tuple[str, dict, str | None]] = {}  # token -> (operation, params, parent token)
        self._seq = 0

    # --- what the target holds ------------------------------------------------------------

    def observe(self, operation: str | None, params: Any, response) -> Setup | None:
        """Note one exchange; return the setup its request needed (from what the target held before it)."""
        if not operation:
            return None
        params = params if isinstance(params, dict) else {}
        with self._lock:
            setup = self.setup(operation, params, response)
            self._note(operation, params, response, setup)
            return setup

    def setup(self, operation: str, params: Any, response=None) -> Setup | None:
        """The calls a fresh target needs before ``params`` means there what it meant to the run's target.

        The request depends on the WorkSpaces of the run it names, those the
        response lists (a listing is about them, e.g. ``DescribeWorkspaces {}``),
        the tag calls made on the resource of a tag operation, and the pages
        walked to reach its NextToken. None when it depends on nothing.
        """
        params = params if isinstance(params, dict) else {}
        with self._lock:
            walk = self._walk(params.get("NextToken"))
            named = set(_strings(params)) | set(_strings(walk.params) if walk else ())
            listed = set()
            if self._workspaces and response is not None and 200 <= response.status < 300:
                # Found in the raw body in one pass: walking every string of a long listing costs more.
                found = {i.decode() for i in _WORKSPACE_ID.findall(response.body)}
                listed = {i for i in found if i in self._workspaces} - named
            ids = named | listed
            steps: list[Step] = []
            for record in sorted((self._workspaces[i] for i in ids if i in self._workspaces), key=lambda r: r.seq):
                steps += self._route(record)
            resource = params.get("ResourceId")
            tags = self._tags.get(resource) if operation in TAG_OPERATIONS and isinstance(resource, str) else None
            gone = resource in self._workspaces and self._workspaces[resource].settled == GONE
            if tags is not None and not gone:
                steps += [Step("call", resource, operation=op, params=p) for op, p in tags.calls]
            if walk is not None:
                steps.append(walk)
            return Setup(tuple(steps), frozenset(listed)) if steps else None

    def last_call(self, workspace_id: str) -> tuple[Setup | None, str, dict, int] | None:
        """The last call naming a WorkSpace of the run: (the setup before it, operation, params, polls since)."""
        with self._lock:
            record = self._workspaces.get(workspace_id)
            if record is None or record.trigger is None:
                return None
            setup, operation, params = record.trigger
            return setup, operation, params, record.polls

    # --- the fewest calls -----------------------------------------------------------------

    def _route(self, record: _Workspace) -> list[Step]:
        """Create the WorkSpace again and bring it where the run's one is: its settled state, then what came since."""
        workspace_id, settled = record.workspace_id, record.settled
        entry = record.entry
        stop_mode = (record.stop_mode or {}).get("RunningMode")
        if settled == "STOPPED" and stop_mode not in (None, _mode_of(entry).get("RunningMode")):
            entry = _with_mode(entry, record.stop_mode)  # StopWorkspaces depends on the mode it was sent in
        steps = [Step("create", workspace_id, params=entry)]
        if settled in ("AVAILABLE", "STOPPED", GONE):
            steps.append(self._wait(workspace_id, "AVAILABLE"))
        if settled == "STOPPED":
            steps += [self._action(workspace_id, "StopWorkspaces"), self._wait(workspace_id, "STOPPED")]
        elif settled == GONE:
            steps += [self._action(workspace_id, "TerminateWorkspaces"), self._wait(workspace_id, GONE)]
        elif settled not in (None, "AVAILABLE"):
            steps.append(self._wait(workspace_id, settled))
        made = _mode_of(entry).get("RunningMode")
        if settled not in (None, GONE) and record.settled_mode.get("RunningMode") not in (None, made):
            steps.append(Step("call", workspace_id, operation=MODIFY,
                              params={"WorkspaceId": workspace_id, "WorkspaceProperties": dict(record.settled_mode)}))
        return steps + list(record.since)

    def _wait(self, workspace_id: str, state: str) -> Step:
        seconds = LOOPBACK_WAIT
        if self.remote:
            seconds = self.model.deadline(WAIT_THROUGH.get(state, state))[0]
        return Step("wait", workspace_id, state=state, seconds=seconds)

    @staticmethod
    def _action(workspace_id: str, operation: str) -> Step:
        params = {ACTIONS[operation]: [{"WorkspaceId": workspace_id}]}
        return Step("call", workspace_id, operation=operation, params=params)

    def _walk(self, token) -> Step | None:
        """The pages to follow from the first one to reach ``token``, if the run was handed it."""
        if not isinstance(token, str) or token not in self._tokens:
            return None
        operation, params, parent = self._tokens[token]
        pages = 1
        while parent is not None:
            issued = self._tokens.get(parent)
            if issued is None or issued[0] != operation or issued[1] != params or pages >= MAX_WALK:
                return None  # a chain the reproduction cannot follow the same way: the token stays as it was
            parent = issued[2]
            pages += 1
        return Step("walk", token, operation=operation, params=params, count=pages)

    # --- taking note ----------------------------------------------------------------------

    def _note(self, operation: str, params: dict, response, setup: Setup | None) -> None:
        body = response.json if isinstance(response.json, dict) else {}
        ok = 200 <= response.status < 300
        if ok and isinstance(body.get("NextToken"), str):
            self._issued(body["NextToken"], operation, params)
        if operation == "CreateWorkspaces":
            if ok:
                self._created(params, body)
            return
        if operation == "DescribeWorkspaces":
            if ok:
                self._polled(params, body)
            return
        for workspace_id in dict.fromkeys(_strings(params)):
            record = self._workspaces.get(workspace_id)
            if record is not None:
                record.trigger, record.polls = (setup, operation, params), 0
        if not ok:
            return  # a refusal changes nothing
        if operation in ACTIONS:
            failed = {f.get("WorkspaceId") for f in body.get("FailedRequests") or [] if isinstance(f, dict)}
            for item in params.get(ACTIONS[operation]) or []:
                workspace_id = item.get("WorkspaceId") if isinstance(item, dict) else None
                record = self._workspaces.get(workspace_id)
                if record is not None and workspace_id not in failed:
                    self._acted(record, operation)
        elif operation == MODIFY:
            record = self._workspaces.get(params.get("WorkspaceId"))
            if record is not None:
                self._modified(record, params)
        elif operation in TAG_OPERATIONS and isinstance(params.get("ResourceId"), str):
            self._tagged(params["ResourceId"], operation, params, body)

    def _issued(self, token: str, operation: str, params: dict) -> None:
        if len(self._tokens) >= MAX_TOKENS:
            self._tokens.pop(next(iter(self._tokens)))
        base = {k: v for k, v in params.items() if k != "NextToken"}
        parent = params.get("NextToken") if isinstance(params.get("NextToken"), str) else None
        self._tokens[token] = (operation, base, parent)

    def _created(self, params: dict, body: dict) -> None:
        entries = [e for e in params.get("Workspaces") or [] if isinstance(e, dict)]
        unused = list(range(len(entries)))
        for pending in body.get("PendingRequests") or []:
            workspace_id = pending.get("WorkspaceId") if isinstance(pending, dict) else None
            if not isinstance(workspace_id, str) or workspace_id in self._workspaces or not unused:
                continue
            # The answer lists the WorkSpaces made in the order asked, without those refused.
            same = [i for i in unused if all(entries[i].get(k) == pending.get(k)
                                             for k in ("DirectoryId", "UserName", "BundleId"))]
            index = (same or unused)[0]
            unused.remove(index)
            entry = entries[index]
            self._seq += 1
            record = _Workspace(workspace_id, self._seq, entry, _mode_of(entry))
            record.trigger = (None, "CreateWorkspaces", {"Workspaces": [entry]})
            self._workspaces[workspace_id] = record
            self._tags[workspace_id] = _Tags(_pairs(entry.get("Tags")))

    def _polled(self, params: dict, body: dict) -> None:
        listed = {w.get("WorkspaceId"): w.get("State") for w in body.get("Workspaces") or [] if isinstance(w, dict)}
        for workspace_id, state in listed.items():
            record = self._workspaces.get(workspace_id)
            if record is not None:
                record.polls += 1
                self._seen(record, state)
        asked = params.get("WorkspaceIds") if isinstance(params.get("WorkspaceIds"), list) else []
        if body.get("NextToken"):
            return  # a later page may still list the others
        for workspace_id in asked:
            record = self._workspaces.get(workspace_id)
            if record is not None and workspace_id not in listed:
                record.polls += 1
                self._seen(record, GONE)

    def _seen(self, record: _Workspace, state) -> None:
        if not isinstance(state, str) or (state != GONE and state not in self.model.states):
            settled = SETTLED  # a state outside the contract: a fresh target is waited for until it settles
        elif self.model.is_settled(state):
            settled = state
        else:
            last = record.since[-1] if record.since else None
            if last is not None and last.kind == "polls":
                record.since[-1] = dataclasses.replace(last, count=last.count + 1)
            else:
                record.since.append(Step("polls", record.workspace_id, count=1))
            return
        record.settled, record.settled_mode, record.since = settled, dict(record.mode), []

    def _acted(self, record: _Workspace, operation: str) -> None:
        if operation == "StopWorkspaces":
            record.stop_mode = dict(record.mode)
        record.since.append(self._action(record.workspace_id, operation))

    def _modified(self, record: _Workspace, params: dict) -> None:
        """Note an accepted ModifyWorkspaceProperties: its running mode, the one property the state rules read."""
        properties = params.get("WorkspaceProperties")
        if not isinstance(properties, dict) or "RunningMode" not in properties:
            return
        record.mode = _mode_of({"WorkspaceProperties": properties})
        if record.since or record.settled is None:
            # Accepted outside a settled state: part of the way to where the WorkSpace is.
            record.since.append(Step("call", record.workspace_id, operation=MODIFY, params=params))
        else:
            record.settled_mode = dict(record.mode)

    def _tagged(self, resource: str, operation: str, params: dict, body: dict) -> None:
        tags = self._tags.setdefault(resource, _Tags(None))
        if operation == "DescribeTags":
            listed = body.get("TagList")
            if not isinstance(listed, list):
                return
            pairs = _pairs(listed)
            if tags.baseline is None and not tags.calls:
                tags.baseline = pairs
            elif pairs == tags.baseline:
                tags.calls = []  # the tags read as a fresh target holds them: what came before is undone
            return
        tags.calls.append((operation, params))


def _strings(value):
    """Every string in a JSON-like value (ids are found by value, whatever member holds them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _pairs(tags) -> list | None:
    if not isinstance(tags, list):
        return [] if tags is None else None
    return sorted((str(t.get("Key")), str(t.get("Value") or "")) for t in tags if isinstance(t, dict))


def _mode_of(entry: dict) -> dict:
    properties = entry.get("WorkspaceProperties") if isinstance(entry.get("WorkspaceProperties"), dict) else {}
    return {key: properties[key] for key in MODE_KEYS if key in properties}


def _with_mode(entry: dict, mode: dict) -> dict:
    """``entry`` creating the WorkSpace in ``mode`` instead of its own running mode."""
    properties = {k: v for k, v in (entry.get("WorkspaceProperties") or {}).items() if k not in MODE_KEYS}
    return dict(entry, WorkspaceProperties={**properties, **mode})
