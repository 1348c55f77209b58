"""Asynchronous WorkSpace states: a transitional state settles after a time or after N polls.

Two clocks drive the transitions. With ``polls_per_state=None`` a transitional
state lasts ``transition_seconds`` of wall-clock time. With ``polls_per_state=N``
time is ignored: each transitional state is seen by exactly N DescribeWorkspaces
calls that return the WorkSpace, so tests observe every state without sleeping.
"""
from __future__ import annotations

import time

__all__ = ["GONE", "Lifecycle"]

GONE = "GONE"


class Lifecycle:
    """Moves records with ``state``, ``entered`` and ``polls_left`` along the settle map."""

    def __init__(self, settle: dict[str, str], *, transition_seconds: float = 0.5,
                 polls_per_state: int | None = None, stuck: frozenset[str] = frozenset(),
                 clock=time.monotonic):
        if transition_seconds < 0:
            raise ValueError(
                f"Expected transition_seconds >= 0 but got transition_seconds={transition_seconds!r}")
        if polls_per_state is not None and (not isinstance(polls_per_state, int) or polls_per_state < 1):
            raise ValueError(
                f"Expected polls_per_state to be None or an integer >= 1 but got polls_per_state={polls_per_state!r}")
        self.settle_map = dict(settle)
        self.transition_seconds = transition_seconds
        self.polls_per_state = polls_per_state
        self.stuck = stuck
        self.clock = clock

    def is_transitional(self, state: str) -> bool:
        return state in self.settle_map

    def enter(self, record, state: str) -> None:
        """Put ``record`` in ``state`` now."""
        record.state = state
        record.entered = self.clock()
        record.polls_left = self.polls_per_state or 0

    def advance(self, record) -> None:
        """Bring ``record`` up to date with the wall clock (no-op in the polled mode)."""
        if self.polls_per_state is not None:
            return
        now = self.clock()
        while record.state in self.settle_map and record.state not in self.stuck:
            if now - record.entered < self.transition_seconds:
                return
            record.entered += self.transition_seconds
            record.state = self.settle_map[record.state]

    def observed(self, record) -> None:
        """Count one DescribeWorkspaces that returned ``record`` (polled mode only)."""
        if self.polls_per_state is None or record.state not in self.settle_map:
            return
        if record.state in self.stuck:
            return
        record.polls_left -= 1
        if record.polls_left <= 0:
            self.enter(record, self.settle_map[record.state])
