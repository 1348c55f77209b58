"""The emulator's resources: seeded directories and bundles, created WorkSpaces, tags."""
from __future__ import annotations

import copy
import ipaddress
import json
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_SEED", "Resource", "Store", "WorkspaceRecord", "load_seed"]

DEFAULT_SEED = Path(__file__).resolve().parent / "seed.json"
_ID_ALPHABET = string.digits + string.ascii_lowercase


def load_seed(seed) -> dict:
    """The seed as a dict: ``None`` (the default file), a path, or a dict (copied)."""
    if seed is None:
        seed = DEFAULT_SEED
    if isinstance(seed, dict):
        data = copy.deepcopy(seed)
    elif isinstance(seed, (str, Path)):
        with open(seed, encoding="utf-8") as handle:
            data = json.load(handle)
    else:
        raise TypeError(f"Expected seed to be None, a path or a dict but got seed={seed!r}")
    for key in ("directories", "bundles"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"Expected the seed to have a list {key!r} but got {key}={data.get(key)!r}")
    data.setdefault("account_id", "123456789012")
    data.setdefault("subnets", {})
    return data


@dataclass
class WorkspaceRecord:
    """One WorkSpace as the emulator keeps it."""

    workspace_id: str
    seq: int
    directory_id: str
    user_name: str
    bundle_id: str
    subnet_id: str
    ip_address: str
    computer_name: str
    properties: dict
    extra: dict
    state: str = "PENDING"
    entered: float = 0.0
    polls_left: int = 0
    tags: list = field(default_factory=list)
    # Clock readings of launch and of the last volume / compute changes (modify rate limits).
    marks: dict = field(default_factory=dict)


@dataclass
class Resource:
    """One resource of a family other than WorkSpaces: its id, its answer body, its state and tags.

    ``body`` is what a describe shows (without the state member, which ``state``
    holds so the lifecycle can move it); ``private`` is what the emulator keeps
    but never shows (associations, the owner account, a deregistered flag).
    """

    kind: str
    id: str
    seq: int
    body: dict
    state: str | None = None
    entered: float = 0.0
    polls_left: int = 0
    tags: list = field(default_factory=list)
    private: dict = field(default_factory=dict)


class Store:
    """All resources of one emulated account and region, with a seeded id generator."""

    def __init__(self, seed_data: dict, rng_seed: int = 20150408):
        self.seed_data = seed_data
        self.account_id = seed_data["account_id"]
        self.rng = random.Random(rng_seed)
        self.directories = {d["DirectoryId"]: copy.deepcopy(d) for d in seed_data["directories"]}
        self.bundles = {b["BundleId"]: copy.deepcopy(b) for b in seed_data["bundles"]}
        self.directory_order = list(self.directories)
        self.bundle_order = list(self.bundles)
        self.workspaces: dict[str, WorkspaceRecord] = {}
        # The tags of bundles; every other kind's resources hold their own (directories: emulator.families.directories).
        self.tags: dict[str, list] = {rid: [] for rid in self.bundles}
        # kind -> id -> Resource, for every family the seed operations do not hold above.
        self.kinds: dict[str, dict[str, Resource]] = {}
        self.taggable_kinds: set[str] = set()
        self._seq = 0
        self._hosts: dict[str, int] = {}

    def new_workspace_id(self) -> str:
        while True:
            length = self.rng.choice((9, 10))
            candidate = "ws-" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(length))
            if candidate not in self.workspaces:
                return candidate

    def new_id(self, prefix: str, length: int | tuple[int, int] = 10, alphabet: str = _ID_ALPHABET) -> str:
        """A fresh id ``prefix`` + ``length`` characters of ``alphabet`` (a (min, max) length draws one)."""
        while True:
            size = self.rng.randint(*length) if isinstance(length, tuple) else length
            candidate = prefix + "".join(self.rng.choice(alphabet) for _ in range(size))
            if not self.holds(candidate):
                return candidate

    def holds(self, resource_id: str) -> bool:
        """Whether any resource of any kind has the id ``resource_id``."""
        return (resource_id in self.workspaces or resource_id in self.directories or resource_id in self.bundles
                or any(resource_id in records for records in self.kinds.values()))

    def of_kind(self, kind: str) -> dict[str, Resource]:
        """The resources of ``kind`` by id (an empty table the first time)."""
        return self.kinds.setdefault(kind, {})

    def add(self, kind: str, resource_id: str, body: dict, *, state: str | None = None,
            tags=(), private: dict | None = None) -> Resource:
        """Store a new resource of ``kind`` (its state entered by the caller's lifecycle, if it has one)."""
        record = Resource(kind=kind, id=resource_id, seq=self.next_seq(), body=body, state=state,
                          tags=[[t["Key"], t.get("Value")] for t in tags], private=dict(private or {}))
        self.of_kind(kind)[resource_id] = record
        return record

    def find(self, resource_id: str) -> Resource | None:
        """The resource of a family kind with id ``resource_id``, of whatever kind, or None."""
        for records in self.kinds.values():
            if resource_id in records:
                return records[resource_id]
        return None

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def allocate_ip(self, subnet_id: str) -> str:
        cidr = self.seed_data["subnets"].get(subnet_id, "10.0.0.0/16")
        network = ipaddress.ip_network(cidr, strict=False)
        # Skip the addresses AWS reserves at the start of each subnet.
        offset = self._hosts.get(subnet_id, 3) + 1
        self._hosts[subnet_id] = offset
        return str(network.network_address + (offset % max(network.num_addresses - 1, 2)))

    def computer_name(self) -> str:
        return "WSAMZN-" + "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))

    def taggable(self, resource_id: str) -> bool:
        """Whether ``resource_id`` names a WorkSpace, directory, account-owned bundle or a resource of a taggable kind."""
        if resource_id in self.workspaces or resource_id in self.directories:
            return True
        bundle = self.bundles.get(resource_id)
        if bundle is not None:
            return bundle.get("Owner") != "AMAZON"
        record = self.find(resource_id)
        return record is not None and record.kind in self.taggable_kinds

    def tags_of(self, resource_id: str) -> list:
        """The tag list ([key, value] pairs, in insertion order) of a resource."""
        record = self.workspaces.get(resource_id) or self.find(resource_id)
        if record is not None:
            return record.tags
        return self.tags.setdefault(resource_id, [])
