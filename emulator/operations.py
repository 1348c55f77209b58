"""The registry of the emulator's operation handlers, filled by the family modules.

A handler is ``handler(backend, params) -> dict``: it runs on params already
validated against the operation's input schema, under the backend's lock, and
raises ``ApiError`` for an AWS error. A handler registered for several
operations is called with the one asked for as ``operation=``. A seeder is
``seeder(backend)``: it fills a freshly made store with the family's seeded
resources.

Records only the emulator names (an association, an import workflow) have no
entry in rules.json's resources section: a family declares where their
transitional states settle with :func:`settles`, and a fault that holds a kind
in one state with :func:`stuck_by`; ``Backend.lifecycle_of`` reads both.
"""
from __future__ import annotations

import functools

__all__ = ["HANDLERS", "SEEDERS", "SETTLES", "STUCK", "handles", "seeds", "settles", "stuck_by"]

HANDLERS: dict = {}
SEEDERS: list = []
SETTLES: dict = {}  # kind -> {transitional state: the state it settles in}, or a function returning that
STUCK: dict[str, tuple[str, str]] = {}  # fault -> (kind, the state it never leaves while the fault is in force)


def handles(*operations: str):
    """Register the decorated function as the handler of ``operations`` (names of the model).

    A backend serves the handlers of the operations of the contract in force (an older installed model may
    lack some); a self-test holds the registry to the committed contract's operations, one handler each.
    """
    def register(function):
        for name in operations:
            handler = functools.partial(function, operation=name) if len(operations) > 1 else function
            if name in HANDLERS:
                known = getattr(HANDLERS[name], "func", HANDLERS[name])
                raise ValueError(f"Expected one handler per operation but {name} has two: "
                                 f"{known.__module__}.{known.__name__} and {function.__module__}.{function.__name__}")
            HANDLERS[name] = handler
        return function
    return register


def seeds(function):
    """Register the decorated function as a seeder, run on every new store (start and reset)."""
    SEEDERS.append(function)
    return function


def settles(kind: str, settle) -> None:
    """Declare where the transitional states of ``kind``, a kind rules.json does not describe, settle.

    ``settle`` maps each transitional state to the state it settles in, or is a function returning that
    map, called when a backend first needs the kind's lifecycle (to read the contract in force lazily).
    """
    if kind in SETTLES:
        raise ValueError(f"Expected one declaration of the states of {kind!r} but got a second: {settle!r}")
    SETTLES[kind] = settle


def stuck_by(fault: str, kind: str, state: str) -> None:
    """Declare that while ``fault`` is in force, resources of ``kind`` never leave ``state`` by themselves."""
    STUCK[fault] = (kind, state)
