"""The emulator's resources: seeded directories and bundles, created WorkSpaces, tags."""
from __future__ import annotations

import copy
import ipaddress
import json
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_SEED", "Store", "WorkspaceRecord", "load_seed"]

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
        self.tags: dict[str, list] = {rid: [] for rid in (*self.directories, *self.bundles)}
        self._seq = 0
        self._hosts: dict[str, int] = {}

    def new_workspace_id(self) -> str:
        while True:
            length = self.rng.choice((9, 10))
            candidate = "ws-" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(length))
            if candidate not in self.workspaces:
                return candidate

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
        """Whether ``resource_id`` names a WorkSpace, directory or account-owned bundle."""
        if resource_id in self.workspaces or resource_id in self.directories:
            return True
        bundle = self.bundles.get(resource_id)
        return bundle is not None and bundle.get("Owner") != "AMAZON"

    def tags_of(self, resource_id: str) -> list:
        """The tag list ([key, value] pairs, in insertion order) of a resource."""
        record = self.workspaces.get(resource_id)
        if record is not None:
            return record.tags
        return self.tags.setdefault(resource_id, [])
