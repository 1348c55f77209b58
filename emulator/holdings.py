"""What the emulator holds: the operations each family serves, and the resource kinds a fresh store seeds.

``python -m emulator --holdings`` prints :func:`holdings_table`, the tables the
README shows (a self-test holds the two to each other).
"""
from __future__ import annotations

from .backend import Backend

__all__ = ["families", "kinds", "holdings_table"]


def _family(handler) -> str:
    module = getattr(handler, "func", handler).__module__
    # The seed operations are methods of Backend; every other family is a module of emulator.families.
    return module.rsplit(".", 1)[1] if ".families." in module else "seed"


def families(backend: Backend | None = None) -> dict[str, list[str]]:
    """Family -> the operations it serves, in name order ("seed": the 14 of the seed client reference)."""
    backend = backend or Backend()
    found: dict[str, list[str]] = {}
    for operation, handler in sorted(backend.handlers.items()):
        found.setdefault(_family(handler), []).append(operation)
    return dict(sorted(found.items()))


def kinds(backend: Backend | None = None) -> list[dict]:
    """Per resource kind a fresh store holds: how many are seeded, its asynchronous states, whether it takes tags."""
    backend = backend or Backend()
    store = backend.store
    counts = {"directories": len(store.directories), "bundles": len(store.bundles),
              "workspaces": len(store.workspaces)}
    counts.update({kind: len(records) for kind, records in store.kinds.items()})
    rows = []
    for kind, count in sorted(counts.items()):
        lifecycle = backend.lifecycle if kind == "workspaces" else backend.lifecycle_of(kind)
        states = dict(lifecycle.settle_map)
        rows.append({"kind": kind, "seeded": count, "settles": states,
                     "taggable": kind in backend.contract.taggable_kinds})
    return rows


def holdings_table() -> str:
    """The README's Markdown tables: operations by family, then the resource kinds and their seeds."""
    backend = Backend()
    served = families(backend)
    lines = [f"| family | operations ({sum(map(len, served.values()))}) |", "|---|---|"]
    lines += [f"| {family} | {len(names)}: {', '.join(names)} |" for family, names in served.items()]
    lines += ["", "| resource kind | seeded | settles by itself | tags |", "|---|---|---|---|"]
    for row in kinds(backend):
        settles = ", ".join(f"{a} → {'gone' if b == 'GONE' else b}" for a, b in row["settles"].items()) or "—"
        lines.append(f"| {row['kind']} | {row['seeded']} | {settles} | {'yes' if row['taggable'] else 'no'} |")
    return "\n".join(lines)
