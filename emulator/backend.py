"""One emulated account: the WorkSpaces of the seed operations here, the other families in ``families``.

The seed operations (WorkSpaces, their actions, tags and the seeded describes)
are methods of ``Backend``; every other operation is a handler registered by a
module of ``emulator.families`` and called with the backend, whose helpers
(``find``, ``listing``, ``refuse``, ``lifecycle_of``) they share.
"""
from __future__ import annotations

import functools
import os
import threading
import time

import specs

from .contract import contract
from .errors import ApiError
from .faults import validate_fault_names
from . import families  # noqa: F401  (registers the family handlers and seeders)
from .families import directories as directory_family
from .lifecycle import GONE, Lifecycle
from .operations import HANDLERS, SEEDERS, SETTLES, STUCK
from .paging import Paginator
from .store import Resource, Store, WorkspaceRecord, load_seed

__all__ = ["Backend"]

_UNDEFINED_USER = "[UNDEFINED]"
_STUCK_FAULTS = {"stuck_pending": "PENDING", "stuck_rebooting": "REBOOTING", "stuck_rebuilding": "REBUILDING"}
# Faults that send a transitional state somewhere the state graph does not: (state, where it settles instead).
_SETTLE_FAULTS = {"rebuild_ends_stopped": ("REBUILDING", "STOPPED")}
# Which transitional state each action enters.
_ACTION_STATE = {
    "StartWorkspaces": "STARTING",
    "StopWorkspaces": "STOPPING",
    "RebootWorkspaces": "REBOOTING",
    "RebuildWorkspaces": "REBUILDING",
    "TerminateWorkspaces": "TERMINATING",
}
_ACTION_KEY = {
    "StartWorkspaces": "StartWorkspaceRequests",
    "StopWorkspaces": "StopWorkspaceRequests",
    "RebootWorkspaces": "RebootWorkspaceRequests",
    "RebuildWorkspaces": "RebuildWorkspaceRequests",
    "TerminateWorkspaces": "TerminateWorkspaceRequests",
}
_IGNORE_STATE_FAULTS = {"StopWorkspaces": "stop_ignores_state", "RebootWorkspaces": "reboot_ignores_state"}
_OS_BY_NAME = (("Windows 10", "WINDOWS_10"), ("Windows 11", "WINDOWS_11"),
               ("Amazon Linux 2", "AMAZON_LINUX_2"), ("Ubuntu 22.04", "UBUNTU_22_04"))


class Backend:
    """One emulated account: handles a validated request of a seed operation, thread-safely."""

    def __init__(self, seed=None, *, transition_seconds: float = 0.5, polls_per_state: int | None = None,
                 faults=(), rng_seed: int = 20150408, region: str = "us-east-1"):
        self.seed_data = load_seed(seed)
        self.region = region
        self.rng_seed = rng_seed
        self.lock = threading.RLock()
        self.contract = contract()
        self.paginator = Paginator(os.urandom(16))
        self.faults = validate_fault_names(faults)
        self.lifecycle = Lifecycle(self._settle_map(), transition_seconds=transition_seconds,
                                   polls_per_state=polls_per_state, stuck=self._stuck())
        self._available_polls: dict[str, int] = {}  # describes that showed each WorkSpace AVAILABLE
        self.transition_seconds = transition_seconds
        self.polls_per_state = polls_per_state
        self._lifecycles: dict[str, Lifecycle] = {}
        self.store = self._new_store()
        # The operations of the contract in force when the backend is made (an older installed model may lack some).
        self.operations = frozenset(specs.operation_names())
        self.handlers = {name: functools.partial(handler, self) for name, handler in HANDLERS.items()
                         if name in self.operations}
        self.handlers.update({
            "CreateTags": self.create_tags,
            "CreateWorkspaces": self.create_workspaces,
            "DeleteTags": self.delete_tags,
            "DescribeTags": self.describe_tags,
            "DescribeWorkspaceBundles": self.describe_workspace_bundles,
            "DescribeWorkspaceDirectories": self.describe_workspace_directories,
            "DescribeWorkspaces": self.describe_workspaces,
            "DescribeWorkspacesConnectionStatus": self.describe_connection_status,
            "ModifyWorkspaceProperties": self.modify_workspace_properties,
            "RebootWorkspaces": self.act,
            "RebuildWorkspaces": self.act,
            "StartWorkspaces": self.act,
            "StopWorkspaces": self.act,
            "TerminateWorkspaces": self.act,
        })

    def _stuck(self) -> frozenset:
        return frozenset(state for fault, state in _STUCK_FAULTS.items() if fault in self.faults)

    def _settle_map(self) -> dict[str, str]:
        settle = dict(self.contract.settle)
        for fault, (state, instead) in _SETTLE_FAULTS.items():
            if fault in self.faults:
                settle[state] = instead
        return settle

    def set_faults(self, names) -> None:
        """Switch to exactly the faults ``names`` (ValueError for an unknown one)."""
        chosen = validate_fault_names(names)
        with self.lock:
            self.faults = chosen
            self.lifecycle.stuck = self._stuck()
            self.lifecycle.settle_map = self._settle_map()
            for kind, lifecycle in self._lifecycles.items():
                lifecycle.stuck = self._stuck_of(kind)

    def reset(self) -> None:
        """Forget every WorkSpace and tag: back to the seeded start state."""
        with self.lock:
            self.store = self._new_store()
            self._available_polls = {}

    def _new_store(self) -> Store:
        store = Store(self.seed_data, self.rng_seed)
        store.taggable_kinds = set(self.contract.taggable_kinds)
        previous, self.store = getattr(self, "store", None), store
        try:
            for seeder in SEEDERS:
                seeder(self)
        except Exception:
            self.store = previous
            raise
        return store

    def handle(self, operation: str, params: dict) -> dict:
        """Run ``operation`` on validated ``params``; raises ApiError for AWS errors."""
        handler = self.handlers[operation]
        with self.lock:
            if operation in _ACTION_KEY:
                return self.act(params, operation)
            return handler(params)

    # -- for the families --------------------------------------------------------------------

    def lifecycle_of(self, kind: str) -> Lifecycle:
        """The lifecycle of a resource kind: its settle map from rules.json, or as its family declares it."""
        found = self._lifecycles.get(kind)
        if found is None:
            declared = SETTLES.get(kind, {})
            found = Lifecycle(self.contract.settle_of(kind) or (declared() if callable(declared) else declared),
                              transition_seconds=self.transition_seconds, polls_per_state=self.polls_per_state,
                              stuck=self._stuck_of(kind))
            self._lifecycles[kind] = found
        return found

    def _stuck_of(self, kind: str) -> frozenset:
        """The states the faults in force hold resources of ``kind`` in (declared with ``stuck_by``)."""
        return frozenset(state for fault, (held, state) in STUCK.items() if held == kind and fault in self.faults)

    def add(self, kind: str, resource_id: str, body: dict, *, state: str | None = None, tags=(),
            private: dict | None = None) -> Resource:
        """Store a new resource of ``kind``, entering ``state`` on the kind's lifecycle; its tags are checked first."""
        self.check_tags(list(tags))
        record = self.store.add(kind, resource_id, body, tags=tags, private=private)
        if state is not None:
            self.lifecycle_of(kind).enter(record, state)
        return record

    def enter(self, record: Resource, state: str) -> None:
        """Put ``record`` in ``state`` now, on its kind's clock."""
        self.lifecycle_of(record.kind).enter(record, state)

    def _current(self, record: Resource) -> bool:
        """Bring ``record``'s state up to date on its kind's clock; False (and the record dropped) once it is gone."""
        if record.state is not None:
            self.lifecycle_of(record.kind).advance(record)
            if record.state == GONE:
                self.store.of_kind(record.kind).pop(record.id, None)
                return False
        return True

    def records(self, kind: str) -> list[Resource]:
        """The live resources of ``kind`` in creation order, their states brought up to date."""
        live = [record for record in list(self.store.of_kind(kind).values()) if self._current(record)]
        live.sort(key=lambda r: r.seq)
        return live

    def find(self, kind: str, resource_id, operation: str, what: str | None = None) -> Resource:
        """The live resource of ``kind`` with id ``resource_id``; else the not-found error ``operation`` models."""
        record = self.store.of_kind(kind).get(resource_id) if isinstance(resource_id, str) else None
        if record is None or not self._current(record):
            raise self.refuse(operation, "not_found",
                              f"The {what or kind.rstrip('s').replace('_', ' ')} {resource_id} could not be found.")
        return record

    def observed(self, records) -> None:
        """Count one describe that showed each of ``records`` (the polled clock); drop those it made gone."""
        for record in records:
            if isinstance(record, Resource) and record.state is not None:
                self.lifecycle_of(record.kind).observed(record)
                if record.state == GONE:
                    self.store.of_kind(record.kind).pop(record.id, None)

    def listing(self, operation: str, params: dict, items: list, result_key: str, render=None) -> dict:
        """One page of ``items`` (Resources in order, or (sort key, item) pairs) under ``result_key``.

        Pages are cut by the request's ``Limit`` or ``MaxResults`` (the contract's
        default page size without one) and continued by a signed NextToken bound
        to the request; each Resource shown counts as one observation of its state.
        """
        keyed = [(item.seq, item) if isinstance(item, Resource) else item for item in items]
        page, token = self.paginator.page(operation, params, keyed, self._limit(params), self.faults)
        out = {result_key: [render(item) if render else item for item in page]}
        self.observed(page)
        if token:
            out["NextToken"] = token
        return out

    def refuse(self, operation: str, kind: str, message: str) -> ApiError:
        """The error of ``kind`` (a rules.json error kind) that ``operation`` answers with, to raise."""
        code, status = self.contract.error_for(operation, kind)
        return ApiError(code, message, status)

    def directory(self, directory_id, operation: str) -> dict:
        """The registered directory ``directory_id``; else the not-found error ``operation`` models."""
        found = self.store.directories.get(directory_id) if isinstance(directory_id, str) else None
        if found is None:
            raise self.refuse(operation, "not_found", f"The directory {directory_id} could not be found.")
        return found

    def launch(self, request: dict) -> WorkspaceRecord:
        """A new WorkSpace made from a WorkspaceRequest-shaped dict that has passed its checks, PENDING."""
        return self._new_workspace(request)

    def check_tags(self, tags: list) -> None:
        """Refuse, as CreateTags does, tags breaking the characters, reserved prefix or count rules."""
        self._check_tags(tags)
        if len({tag["Key"] for tag in tags}) > self.contract.max_tags and "tags_no_limit" not in self.faults:
            raise ApiError.of_kind("limit_exceeded", f"A resource can have at most {self.contract.max_tags} tags.")

    def wall_time(self, reading: float) -> float:
        """Epoch seconds of a reading of the lifecycle clock (the clock of ``entered`` and ``marks``)."""
        return time.time() - (self.lifecycle.clock() - reading)

    def live_workspace(self, workspace_id) -> WorkspaceRecord | None:
        """The WorkSpace ``workspace_id`` if it exists and is not gone, its state brought up to date."""
        return self._live(workspace_id)

    def all_workspaces(self) -> list[WorkspaceRecord]:
        """Every WorkSpace that is not gone, states brought up to date."""
        return self._all_live()

    # -- helpers ---------------------------------------------------------------------------

    def _live(self, workspace_id) -> WorkspaceRecord | None:
        record = self.store.workspaces.get(workspace_id) if isinstance(workspace_id, str) else None
        if record is None:
            return None
        self.lifecycle.advance(record)
        if record.state == GONE:
            del self.store.workspaces[workspace_id]
            return None
        return record

    def _all_live(self) -> list[WorkspaceRecord]:
        return [r for r in [self._live(w) for w in list(self.store.workspaces)] if r is not None]

    def _check_filters(self, operation: str, params: dict) -> None:
        if "exclusive_filters_accepted" in self.faults:
            return
        for rule in self.contract.filters:
            if rule.get("operation") != operation:
                continue
            given = [m for m in rule.get("members", []) if params.get(m) is not None]
            code = rule["codes"][0]
            if rule["kind"] == "exclusive" and len(given) > 1:
                raise ApiError(code, f"An invalid number of parameters provided with {operation}. "
                                     f"Only one of the following are allowed to be specified: "
                                     f"{', '.join(rule['members'])}.")
            if rule["kind"] == "requires" and given:
                required = rule.get("requires") or []
                required = [required] if isinstance(required, str) else required
                missing = [m for m in required if params.get(m) is None]
                if missing:
                    raise ApiError(code, f"The {' and '.join(missing)} parameter is required when "
                                         f"{' and '.join(given)} is used.")

    def _limit(self, params: dict) -> int:
        limit = params.get("Limit", params.get("MaxResults"))
        return self.contract.page_size if limit is None else max(1, int(limit))

    def render_workspace(self, record: WorkspaceRecord) -> dict:
        """The Workspace structure of ``record`` as DescribeWorkspaces returns it."""
        state = record.state
        if state == "AVAILABLE" and "state_outside_enum" in self.faults:
            state = "RUNNING"
        properties = dict(record.properties)
        if "volume_size_as_string" in self.faults:
            for key in ("RootVolumeSizeGib", "UserVolumeSizeGib"):
                if key in properties:
                    properties[key] = str(properties[key])
        if "compute_type_lowercase" in self.faults and isinstance(properties.get("ComputeTypeName"), str):
            properties["ComputeTypeName"] = properties["ComputeTypeName"].lower()
        out = {
            "WorkspaceId": record.workspace_id,
            "DirectoryId": record.directory_id,
            "UserName": record.user_name,
            "IpAddress": record.ip_address,
            "State": state,
            "BundleId": record.bundle_id,
            "SubnetId": record.subnet_id,
            "ComputerName": record.computer_name,
            "WorkspaceProperties": properties,
        }
        out.update(record.extra)
        return out

    def _tag_target(self, resource_id: str, operation: str) -> list | None:
        """The tag list of ``resource_id``, or None when a fault lets an unknown id through."""
        if self.store.taggable(resource_id) and self._live_or_other(resource_id):
            return self.store.tags_of(resource_id)
        if "tags_unknown_resource_accepted" in self.faults:
            return None
        # DescribeTags models only ResourceNotFoundException, which the rule also accepts.
        if not resource_id.startswith(self.contract.taggable_prefixes) and operation != "DescribeTags":
            raise ApiError.of_kind("invalid_parameter",
                                   f"The resource id {resource_id!r} does not name a taggable resource "
                                   f"(ids start with {', '.join(self.contract.taggable_prefixes)}).")
        message = f"The resource {resource_id} could not be found."
        if "not_found_as_invalid_parameter" in self.faults:
            raise ApiError.of_kind("invalid_parameter", message)
        raise ApiError.of_kind("not_found", message)

    def _live_or_other(self, resource_id: str) -> bool:
        if resource_id.startswith("ws-"):
            return self._live(resource_id) is not None
        record = self.store.find(resource_id)
        return record is None or self._current(record)

    # -- tags ------------------------------------------------------------------------------

    def create_tags(self, params: dict) -> dict:
        # The request's own tags are judged before the resource is looked up, as validation is.
        new = params["Tags"]
        self.check_tags(new)
        tags = self._tag_target(params["ResourceId"], "CreateTags")
        if tags is None:
            return {}
        merged = list(tags)
        for tag in new:
            key, value = tag["Key"], tag.get("Value")
            position = next((i for i, (k, _) in enumerate(merged) if k == key), None)
            if position is None or "tags_append_duplicate_key" in self.faults:
                merged.append([key, value])
            else:
                merged[position] = [key, value]
        if len(merged) > self.contract.max_tags and "tags_no_limit" not in self.faults:
            raise ApiError.of_kind("limit_exceeded", f"A resource can have at most {self.contract.max_tags} tags; "
                                                     f"this request would leave {len(merged)}.")
        tags[:] = merged
        return {}

    def _reserved(self, text: str) -> bool:
        prefix = self.contract.reserved_prefix
        return text.lower().startswith(prefix) and "tags_reserved_prefix_accepted" not in self.faults

    def _check_tags(self, new: list) -> None:
        for tag in new:
            key, value = tag["Key"], tag.get("Value") or ""
            if self._reserved(key) or self._reserved(value):
                raise ApiError.of_kind("invalid_parameter",
                                       f"The tag {key!r} uses the reserved prefix {self.contract.reserved_prefix!r}.")
            for text in (key, value):
                if not self.contract.tag_characters.fullmatch(text) or text != text.strip(" "):
                    raise ApiError.of_kind(
                        "invalid_parameter",
                        f"The tag {key!r} may contain only letters, digits, spaces and + - = . _ : / @, "
                        "without leading or trailing spaces.")

    def delete_tags(self, params: dict) -> dict:
        gone = set(params["TagKeys"])
        reserved = [key for key in params["TagKeys"] if self._reserved(key)]
        if reserved:
            raise ApiError.of_kind("invalid_parameter",
                                   f"The tag key {reserved[0]!r} uses the reserved prefix {self.contract.reserved_prefix!r}.")
        tags = self._tag_target(params["ResourceId"], "DeleteTags")
        if tags is None or "tags_delete_ignored" in self.faults:
            return {}
        tags[:] = [pair for pair in tags if pair[0] not in gone]
        return {}

    def describe_tags(self, params: dict) -> dict:
        tags = self._tag_target(params["ResourceId"], "DescribeTags") or []
        if "tag_list_as_map" in self.faults:
            return {"TagList": {k: v for k, v in tags}}
        return {"TagList": [{"Key": k, "Value": v} if v is not None else {"Key": k} for k, v in tags]}

    # -- creation --------------------------------------------------------------------------

    def create_workspaces(self, params: dict) -> dict:
        failed, pending = [], []
        for request in params["Workspaces"]:
            problem = self._request_problem(request.get("WorkspaceProperties") or {}) or self._naming_problem(request)
            if problem:
                raise ApiError.of_kind("invalid_parameter", problem)
        for request in params["Workspaces"]:
            self.check_tags(request.get("Tags") or [])
        for request in params["Workspaces"]:
            code, message = self._creation_refusal(request)
            if code:
                if code == "ResourceExists.WorkSpace" and "create_keeps_refused_workspace" in self.faults:
                    self._new_workspace(request)  # stored before the user check refused it
                failed.append({"WorkspaceRequest": request, "ErrorCode": code, "ErrorMessage": message})
                continue
            record = self._new_workspace(request)
            pending.append({k: v for k, v in self.render_workspace(record).items()
                            if k not in ("IpAddress", "ComputerName", "SubnetId")})
        return {"FailedRequests": failed, "PendingRequests": pending}

    def _creation_refusal(self, request: dict) -> tuple[str | None, str | None]:
        directory_id, bundle_id, user = request["DirectoryId"], request["BundleId"], request["UserName"]
        if directory_id not in self.store.directories:
            return "ResourceNotFound.Directory", "The specified directory could not be found in the specified region."
        if bundle_id not in self.store.bundles:
            return "ResourceNotFound.Bundle", f"The specified bundle {bundle_id} could not be found."
        if "create_fails_every_request" in self.faults:  # the directory's user table is never filled
            return "ResourceNotFound.User", f"The user {user} could not be found in the directory {directory_id}."
        if user != _UNDEFINED_USER:
            for other in self._all_live():
                if other.directory_id == directory_id and other.user_name.lower() == user.lower():
                    return "ResourceExists.WorkSpace", "A WorkSpace already exists for the specified user."
        properties = self._default_properties(self.store.bundles[bundle_id])
        properties.update(request.get("WorkspaceProperties") or {})
        problem = self._properties_problem(properties)
        if problem:
            return "InvalidParameterValuesException", problem
        return None, None

    @staticmethod
    def _naming_problem(request: dict) -> str | None:
        decoupled = request.get("UserName") == _UNDEFINED_USER
        if decoupled and "WorkspaceName" not in request:
            return "WorkspaceName is required when UserName is [UNDEFINED]."
        if not decoupled and "WorkspaceName" in request:
            return "WorkspaceName applies only to user-decoupled WorkSpaces (UserName [UNDEFINED])."
        return None

    def _request_problem(self, given: dict, modification: bool = False) -> str | None:
        """Why the WorkspaceProperties of a request break a documented rule on their own, or None."""
        contract = self.contract
        timeout = given.get("RunningModeAutoStopTimeoutInMinutes")
        if isinstance(timeout, int) and (timeout <= 0 or timeout % contract.timeout_step):
            return (f"RunningModeAutoStopTimeoutInMinutes must be a positive multiple of {contract.timeout_step}; "
                    f"got {timeout!r}.")
        if given.get("RunningMode") == "MANUAL" and contract.manual_refused:
            return "RunningMode MANUAL is available only to WorkSpaces Core accounts."
        root, user = given.get("RootVolumeSizeGib"), given.get("UserVolumeSizeGib")
        root = root if isinstance(root, int) else None
        user = user if isinstance(user, int) else None
        if (root is not None or user is not None) and not any(
                (root is None or g["root"][0] <= root <= g["root"][1]) and
                (user is None or g["user"][0] <= user <= g["user"][1]) for g in contract.volume_groups):
            return f"The volume sizes root={root} GB, user={user} GB are not a supported combination."
        if modification and sum(k in given for k in ("RootVolumeSizeGib", "UserVolumeSizeGib", "ComputeTypeName")) > 1:
            return "One call may change only one of the root volume, the user volume and the compute type."
        return None

    def _properties_problem(self, properties: dict) -> str | None:
        """Why a complete set of WorkspaceProperties is refused, or None."""
        contract = self.contract
        mode = properties.get("RunningMode")
        if mode == "MANUAL" and contract.manual_refused:
            return "RunningMode MANUAL is available only to WorkSpaces Core accounts."
        timeout = properties.get("RunningModeAutoStopTimeoutInMinutes")
        if mode == "AUTO_STOP" and timeout is not None and (
                not isinstance(timeout, int) or timeout <= 0 or timeout % contract.timeout_step):
            return (f"RunningModeAutoStopTimeoutInMinutes must be a positive multiple of {contract.timeout_step}; "
                    f"got {timeout!r}.")
        root, user = properties.get("RootVolumeSizeGib"), properties.get("UserVolumeSizeGib")
        if isinstance(root, int) and isinstance(user, int) and not contract.volumes_valid(root, user):
            return f"The volume sizes root={root} GB, user={user} GB are not a supported combination."
        return None

    def _new_workspace(self, request: dict) -> WorkspaceRecord:
        store = self.store
        directory = store.directories[request["DirectoryId"]]
        bundle = store.bundles[request["BundleId"]]
        subnets = directory.get("SubnetIds") or ["subnet-00000000"]
        subnet = subnets[len(store.workspaces) % len(subnets)]
        properties = self._default_properties(bundle)
        properties.update(request.get("WorkspaceProperties") or {})
        self._normalise_mode(properties)
        extra = {key: request[key] for key in ("VolumeEncryptionKey", "UserVolumeEncryptionEnabled",
                                                "RootVolumeEncryptionEnabled", "WorkspaceName", "Ipv6Address")
                 if key in request}
        extra.setdefault("UserVolumeEncryptionEnabled", False)
        extra.setdefault("RootVolumeEncryptionEnabled", False)
        record = WorkspaceRecord(
            workspace_id=store.new_workspace_id(), seq=store.next_seq(),
            directory_id=request["DirectoryId"], user_name=request["UserName"], bundle_id=request["BundleId"],
            subnet_id=subnet, ip_address=store.allocate_ip(subnet), computer_name=store.computer_name(),
            properties=properties, extra=extra,
            tags=[[t["Key"], t.get("Value")] for t in request.get("Tags") or []],
        )
        self.lifecycle.enter(record, "AVAILABLE" if "skip_pending" in self.faults else "PENDING")
        record.marks["launched"] = record.entered
        store.workspaces[record.workspace_id] = record
        return record

    def _normalise_mode(self, properties: dict) -> None:
        # The timeout belongs to AUTO_STOP only; AWS fills in its default there.
        if properties.get("RunningMode") == "AUTO_STOP":
            properties.setdefault("RunningModeAutoStopTimeoutInMinutes", self.contract.default_auto_stop)
        else:
            properties.pop("RunningModeAutoStopTimeoutInMinutes", None)

    def _default_properties(self, bundle: dict) -> dict:
        properties = {"RunningMode": self.contract.default_running_mode}
        for key, storage in (("RootVolumeSizeGib", "RootStorage"), ("UserVolumeSizeGib", "UserStorage")):
            capacity = (bundle.get(storage) or {}).get("Capacity")
            if capacity is not None and str(capacity).isdigit():
                properties[key] = int(capacity)
        compute = (bundle.get("ComputeType") or {}).get("Name")
        if compute:
            properties["ComputeTypeName"] = compute
        name = bundle.get("Name", "")
        for fragment, os_name in _OS_BY_NAME:
            if fragment in name:
                properties["OperatingSystemName"] = os_name
        linux = properties.get("OperatingSystemName", "").startswith(("AMAZON_LINUX", "UBUNTU", "RHEL", "ROCKY"))
        properties["Protocols"] = ["WSP"] if linux else ["PCOIP"]
        return properties

    # -- describes -------------------------------------------------------------------------

    def describe_workspaces(self, params: dict) -> dict:
        self._check_filters("DescribeWorkspaces", params)
        records = self._all_live()
        if "filters_ignored" not in self.faults:
            ids = params.get("WorkspaceIds")
            if ids is not None and "describe_ids_drops_last" in self.faults:
                ids = ids[:-1]  # the loop over the requested ids stops one short
            if ids is not None:
                records = [r for r in records if r.workspace_id in ids]
            for member, attribute in (("DirectoryId", "directory_id"), ("UserName", "user_name"),
                                      ("BundleId", "bundle_id")):
                if params.get(member) is not None:
                    records = [r for r in records if getattr(r, attribute) == params[member]]
            if params.get("WorkspaceName") is not None:
                records = [r for r in records if r.extra.get("WorkspaceName") == params["WorkspaceName"]]
        records.sort(key=lambda r: r.seq)
        page, token = self.paginator.page("DescribeWorkspaces", params, [(r.seq, r) for r in records],
                                          self._limit(params), self.faults)
        out = {"Workspaces": [self.render_workspace(r) for r in page]}
        if "available_regresses_to_pending" in self.faults:
            self._stale_launch_state(page, out["Workspaces"])
        for record in page:
            self.lifecycle.observed(record)
            if record.state == GONE:
                self.store.workspaces.pop(record.workspace_id, None)
        if token:
            out["NextToken"] = token
        return out

    def _stale_launch_state(self, page: list, rendered: list) -> None:
        """available_regresses_to_pending: the launch cache behind State is refreshed one describe late, once.

        The second describe that finds a WorkSpace AVAILABLE still reads PENDING from the cache.
        """
        for record, item in zip(page, rendered):
            if record.state != "AVAILABLE":
                continue
            shown = self._available_polls.get(record.workspace_id, 0)
            self._available_polls[record.workspace_id] = shown + 1
            if shown == 1:
                item["State"] = "PENDING"

    def describe_workspace_directories(self, params: dict) -> dict:
        self._check_filters("DescribeWorkspaceDirectories", params)
        # Registration states move on the directories' lifecycle (REGISTERING, DEREGISTERING, then removal).
        found = directory_family.registered(self)
        if params.get("DirectoryIds") is not None:
            found = [r for r in found if r.id in params["DirectoryIds"]]
        if params.get("WorkspaceDirectoryNames") is not None:
            found = [r for r in found if r.body.get("WorkspaceDirectoryName") in params["WorkspaceDirectoryNames"]]
        members = {"USER_IDENTITY_TYPE": "UserIdentityType", "WORKSPACE_TYPE": "WorkspaceType"}
        for condition in params.get("Filters") or []:
            member = members.get(condition["Name"])
            if member:
                found = [r for r in found if r.body.get(member) in condition["Values"]]
        return self.listing("DescribeWorkspaceDirectories", params, found, "Directories",
                            render=directory_family.render)

    def describe_workspace_bundles(self, params: dict) -> dict:
        self._check_filters("DescribeWorkspaceBundles", params)
        store = self.store
        found = [(i, store.bundles[b]) for i, b in enumerate(store.bundle_order)]
        if params.get("BundleIds") is not None:
            found = [(i, b) for i, b in found if b["BundleId"] in params["BundleIds"]]
        elif "bundle_owner_ignored" not in self.faults:
            owner = params.get("Owner")
            if owner is None or owner == store.account_id:
                found = [(i, b) for i, b in found if b.get("Owner") != "AMAZON"]
            else:
                found = [(i, b) for i, b in found if b.get("Owner") == owner]
        page, token = self.paginator.page("DescribeWorkspaceBundles", params, found,
                                          self.contract.page_size, self.faults)
        out = {"Bundles": [self._render_bundle(b) for b in page]}
        if token:
            out["NextToken"] = token
        return out

    def _render_bundle(self, bundle: dict) -> dict:
        if not self.faults:
            return bundle
        bundle = dict(bundle)
        if "bundle_storage_without_capacity" in self.faults:
            bundle["UserStorage"], bundle["RootStorage"] = {}, {}
        if "compute_type_lowercase" in self.faults and "ComputeType" in bundle:
            bundle["ComputeType"] = {"Name": bundle["ComputeType"]["Name"].lower()}
        return bundle

    def describe_connection_status(self, params: dict) -> dict:
        records = self._all_live()
        if params.get("WorkspaceIds") is not None:
            records = [r for r in records if r.workspace_id in params["WorkspaceIds"]]
        records.sort(key=lambda r: r.seq)
        page, token = self.paginator.page("DescribeWorkspacesConnectionStatus", params,
                                          [(r.seq, r) for r in records], self.contract.page_size, self.faults)
        now = time.time()
        stamp = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
                 if "timestamp_as_string" in self.faults else now)
        statuses = []
        for record in page:
            connection = "DISCONNECTED" if record.state == "AVAILABLE" else "UNKNOWN"
            if record.state == "STOPPED" and "connected_while_stopped" in self.faults:
                connection = "CONNECTED"
            if connection == "DISCONNECTED" and "connection_status_omits_available" in self.faults:
                continue  # no connection was ever recorded for it
            statuses.append({"WorkspaceId": record.workspace_id, "ConnectionState": connection,
                             "ConnectionStateCheckTimestamp": stamp})
        out = {"WorkspacesConnectionStatus": statuses}
        if token:
            out["NextToken"] = token
        return out

    # -- state changes ---------------------------------------------------------------------

    def modify_workspace_properties(self, params: dict) -> dict:
        workspace_id = params["WorkspaceId"]
        changes = dict(params.get("WorkspaceProperties") or {})
        problem = self._request_problem(changes, modification=True)
        if problem:
            raise ApiError.of_kind("invalid_parameter", problem)
        record = self._live(workspace_id)
        if record is None:
            raise ApiError.of_kind("not_found", f"The WorkSpace {workspace_id} could not be found.")
        allowed, _, code = self.contract.preconditions["ModifyWorkspaceProperties"]
        if record.state not in allowed and "modify_ignores_state" not in self.faults:
            raise ApiError(code if code.endswith("Exception") else "InvalidResourceStateException",
                           f"The WorkSpace {workspace_id} is in state {record.state}; "
                           f"its properties can be modified only in {', '.join(allowed)}.")
        self._check_modification(record, changes)
        properties = record.properties
        properties.update(changes)
        self._normalise_mode(properties)
        if params.get("DataReplication") is not None:
            record.extra["DataReplicationSettings"] = {"DataReplication": params["DataReplication"]}
        return {}

    def _check_modification(self, record: WorkspaceRecord, changes: dict) -> None:
        """Raise the refusal of the documented volume, compute and rate rules, if any applies."""
        contract, current = self.contract, record.properties
        merged = dict(current, **changes)
        problem = self._properties_problem(merged) if changes else None
        if problem:
            raise ApiError.of_kind("invalid_parameter", problem)
        grown = [k for k in ("RootVolumeSizeGib", "UserVolumeSizeGib")
                 if isinstance(changes.get(k), int) and isinstance(current.get(k), int) and changes[k] > current[k]]
        shrunk = [k for k in ("RootVolumeSizeGib", "UserVolumeSizeGib")
                  if isinstance(changes.get(k), int) and isinstance(current.get(k), int) and changes[k] < current[k]]
        compute = changes.get("ComputeTypeName")
        compute_changed = compute is not None and compute != current.get("ComputeTypeName")
        if shrunk:
            raise ApiError.of_kind("invalid_parameter", f"{shrunk[0]} cannot be made smaller.")
        if len(grown) == 2:
            raise ApiError.of_kind("invalid_parameter", "The root and user volumes cannot be grown in the same call.")
        if grown and compute_changed:
            raise ApiError.of_kind("invalid_parameter",
                                   "A volume size and the compute type cannot be changed in the same call.")
        now, rate, marks = self.lifecycle.clock(), contract.modify_rate, record.marks
        if grown:
            if now - marks.get("launched", now) < rate["after_launch_seconds"] or \
                    now - marks.get("volume", -1e18) < rate["volume_growth_seconds"]:
                raise ApiError.of_kind("invalid_state", "Volumes can be grown once per 6 hours and not within "
                                                        "6 hours of launch.")
            marks["volume"] = now
        if compute_changed:
            order = contract.compute_order
            old = current.get("ComputeTypeName")
            up = old not in order or compute not in order or order.index(compute) > order.index(old)
            key, wait = ("compute_up", rate["compute_up_seconds"]) if up else ("compute_down", rate["compute_down_seconds"])
            if now - marks.get(key, -1e18) < wait:
                raise ApiError.of_kind("invalid_state", "The compute type was changed too recently.")
            marks[key] = now

    def act(self, params: dict, operation: str) -> dict:
        """Start, Stop, Reboot, Rebuild or Terminate: refusals become FailedRequests entries."""
        allowed, modes, code = self.contract.preconditions[operation]
        failed, requests = [], params[_ACTION_KEY[operation]]

        def refuse(index: int, entry: dict) -> None:
            if "failed_entry_off_by_one" in self.faults and index + 1 < len(requests):
                entry = dict(entry, WorkspaceId=requests[index + 1].get("WorkspaceId"))
            failed.append({k: v for k, v in entry.items() if v is not None})

        for index, request in enumerate(requests):
            workspace_id = request.get("WorkspaceId")
            if failed and "batch_fails_after_first_refusal" in self.faults:
                refuse(index, dict(failed[0], WorkspaceId=workspace_id))  # the first error is never cleared
                continue
            record = self._live(workspace_id)
            if record is None:
                refuse(index, {"WorkspaceId": workspace_id, "ErrorCode": "ResourceNotFound.Workspace",
                               "ErrorMessage": f"The WorkSpace {workspace_id} could not be found."}
                       if workspace_id else
                       {"ErrorCode": "InvalidParameterValuesException",
                        "ErrorMessage": "The request does not name a WorkspaceId."})
                continue
            if operation == "TerminateWorkspaces":
                if "terminate_removes_at_once" in self.faults:
                    del self.store.workspaces[workspace_id]  # deleted in the request, never TERMINATING
                    continue
                if record.state not in ("TERMINATING", "TERMINATED") and "terminated_stays_available" not in self.faults:
                    self.lifecycle.enter(record, "TERMINATING")
                continue
            ignore = _IGNORE_STATE_FAULTS.get(operation) in self.faults
            mode = record.properties.get("RunningMode")
            waited = self.lifecycle.clock() - record.entered
            too_soon = waited < self.contract.min_seconds_in_state.get(operation, {}).get(record.state, 0)
            if not ignore and (record.state not in allowed or too_soon or (modes and mode not in modes)):
                why = (f"state {record.state}" if record.state not in allowed or too_soon else f"running mode {mode}")
                refuse(index, {"WorkspaceId": workspace_id, "ErrorCode": code,
                               "ErrorMessage": f"The WorkSpace {workspace_id} cannot be changed by {operation} "
                                               f"in {why}."})
                if "refused_action_still_applied" not in self.faults:
                    continue
            target = _ACTION_STATE[operation]
            if operation == "StopWorkspaces" and "skip_stopping" in self.faults:
                target = "STOPPED"
            if operation == "StartWorkspaces" and mode == "AUTO_STOP" and "start_leaves_stopped" in self.faults:
                continue  # AutoStop WorkSpaces are left to resume on a user's connection, which never comes
            self.lifecycle.enter(record, target)
            if ("start_stop_report_done_as_failed" in self.faults and operation in ("StartWorkspaces", "StopWorkspaces")
                    and record.state not in allowed):
                refuse(index, {"WorkspaceId": workspace_id, "ErrorCode": code,
                               "ErrorMessage": f"The WorkSpace {workspace_id} cannot be changed by {operation} "
                                               f"in state {record.state}."})
        return {"FailedRequests": failed}
