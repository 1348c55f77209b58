"""The remote guard: what the suite may send to a real account.

On a remote target (a URL that is not loopback, or one forced remote with
``--assume-remote``) a request that can change anything is refused before it
leaves unless ``--allow-mutations`` was given, and even then it may name only
resources this run created. Loopback targets are the suite's own: the guard
lets everything through.
"""
from __future__ import annotations

import specs

from . import targets

# Id prefixes of the resources a WorkSpace is placed in (its directory and bundle), which the suite's
# own creations name although the run did not create them.
PLACEMENT_PREFIXES = ("d-", "wsb-")


class UnsafeRequest(RuntimeError):
    """The suite was about to send a request a remote target must never receive (a bug of the suite)."""


def mutating(operation: str) -> bool:
    """Whether ``operation`` can create or change anything (see :func:`specs.read_only`)."""
    return not specs.read_only(operation)


class RemoteGuard:
    """Refuses, before it leaves, a request a remote target must not receive."""

    def __init__(self, target: targets.Target) -> None:
        self.target = target
        # Ids of the remote target's resources this run did not create: no mutating request may name them.
        self.foreign: set[str] = set()

    def may_send(self, operation: str) -> bool:
        """Whether this run may send requests to ``operation`` at all."""
        return self.target.allow_mutations or not mutating(operation)

    def watches(self, operation: str) -> bool:
        """Whether requests to ``operation`` pass the guard: mutating ones, on a remote target."""
        return self.target.remote and mutating(operation)

    def meet(self, pool) -> None:
        """Learn the live resources of a discovered ``pool``: on a remote target, those this run did not create.

        Every family the target holds counts (the resources section of rules.json);
        directory users live in the directory service and are no ids of the target.
        """
        if self.target.remote:
            live = {i for entry in specs.resources() if specs.held(entry) for i in getattr(pool, entry["kind"], ())}
            self.foreign |= live - set(self.target.created)

    def restrict(self, pool, operation: str | None):
        """The part of ``pool`` that generated requests to ``operation`` may name.

        On a remote target a mutating operation gets only the WorkSpaces this run
        created, so no generated request names anything else, and CreateWorkspaces
        gets no live directory, so every generated create names a directory that
        exists nowhere.
        """
        if operation is None or not self.watches(operation):
            return pool
        from strategies import ResourcePool

        return ResourcePool(workspaces=[w for w in pool.workspaces if w in self.target.created])

    def check(self, operation: str, text: str, *, own_create: bool = False) -> None:
        """Raise :class:`UnsafeRequest` when a request to ``operation`` whose body is ``text`` must not be sent.

        ``own_create`` marks the suite's own CreateWorkspaces, which names a live
        directory and bundle of the account, and nothing else of it.
        """
        if not self.watches(operation):
            return
        if not self.target.allow_mutations:
            raise UnsafeRequest(f"Refusing to send {operation} to the remote target {self.target.endpoint}: "
                                "it is read-only without --allow-mutations")
        placement = {i for i in self.foreign if i.startswith(PLACEMENT_PREFIXES)} if own_create else set()
        named = sorted(i for i in self.foreign - set(self.target.created) - placement if i and i in text)
        if named:
            raise UnsafeRequest(f"Refusing to send {operation} to the remote target {self.target.endpoint}: it names "
                                f"{', '.join(named[:5])}, which this run did not create")
