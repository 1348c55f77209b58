"""How long a run waits on its target, and what its polls of the lifecycle saw.

A real (remote) WorkSpaces endpoint takes minutes per transition, so it is given
the deadlines of rules.json's ``timing`` section. A loopback or emulated target
(the embedded emulator, moto, a mock on 127.0.0.1) is given deadlines fitted to
what it shows: ``--time-scale`` times the rules.json deadline when that option is
given, otherwise a multiple of the longest transition the run has seen complete,
kept between a floor and a cap. A mock's stuck WorkSpace is then reported in
seconds, not after the hour AWS may take to rebuild one.

- :class:`Deadlines` chooses a transitional state's deadline and says how; it also
  remembers since when each WorkSpace has shown its state, so a WorkSpace found
  stuck by one test is not waited for again by the next.
- :class:`Budget` is ``--max-duration``, the time the whole run may take.
- :class:`Sightings` records, per action, whether a poll ever showed the
  transitional state the state graph sends the WorkSpace to
  (``observation.transitional_states``).
"""
from __future__ import annotations

import dataclasses
import threading
import time

import specs

from . import checks

__all__ = ["Budget", "CAP_S", "Deadline", "Deadlines", "FACTOR", "FLOOR_S", "Sightings", "Timing"]

FLOOR_S = 5.0  # no fitted deadline is shorter: a loaded machine can hold up a mock's clock for a second or two
CAP_S = 30.0  # nor longer: a stuck WorkSpace on a mock must be reported well within a minute
FACTOR = 10.0  # times the longest transition the run has seen complete
SIGHTING_RULE = "observation.transitional_states"


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The seconds a state is given on this target, the timing rule behind them, and how they were chosen."""

    seconds: float
    rule: str
    how: str


class Deadlines:
    """Deadlines for transitional states, fitted to the target (see the module's docstring).

    ``time_scale`` (``--time-scale``) multiplies every rules.json deadline, on any
    target. Without it a remote target keeps the rules.json deadlines and a
    loopback one gets ``factor`` times the longest transition seen so far
    (:meth:`learn`), never under ``floor`` nor over ``cap`` or the rule itself.
    """

    def __init__(self, *, remote: bool, time_scale: float | None = None, floor: float = FLOOR_S,
                 cap: float = CAP_S, factor: float = FACTOR, clock=time.monotonic) -> None:
        if time_scale is not None and not (isinstance(time_scale, (int, float)) and time_scale > 0):
            raise ValueError(f"Expected --time-scale to be a number > 0 but got time_scale={time_scale!r}")
        if not 0 < floor <= cap:
            raise ValueError(f"Expected 0 < floor <= cap but got floor={floor!r}, cap={cap!r}")
        self.remote = remote
        self.time_scale = time_scale
        self.floor, self.cap, self.factor = floor, cap, factor
        self.clock = clock
        self.longest: float | None = None  # the longest transition seen to complete, in seconds
        self._since: dict[str, tuple[str, float]] = {}
        self._overdue: set[str] = set()  # timing rules whose deadline a WorkSpace of this run outlived
        self._lock = threading.Lock()

    @property
    def fitted(self) -> bool:
        """Whether deadlines follow what the target shows (a loopback target without --time-scale)."""
        return self.time_scale is None and not self.remote

    def learn(self, seconds: float) -> None:
        """Note that the target completed a transition in ``seconds`` (from the action or first sighting)."""
        if seconds < 0:
            raise ValueError(f"Expected a duration >= 0 but got seconds={seconds!r}")
        with self._lock:
            self.longest = seconds if self.longest is None else max(self.longest, seconds)

    def overdue(self, rule: str) -> None:
        """Note that a WorkSpace outlived the deadline of timing rule ``rule`` (a failure the run reports)."""
        with self._lock:
            self._overdue.add(rule)

    def deadline(self, rule_seconds: float, rule: str) -> Deadline:
        """The deadline of a state whose timing rule ``rule`` allows ``rule_seconds`` on AWS.

        On a fitted target a rule some WorkSpace already outlived gets the floor:
        the run has reported it, and every further WorkSpace stuck the same way
        would otherwise cost the run a whole deadline again.
        """
        if self.time_scale is not None:
            seconds = rule_seconds * self.time_scale
            return Deadline(seconds, rule, f"{rule}'s {rule_seconds:g} s x --time-scale {self.time_scale:g}")
        if self.remote:
            return Deadline(rule_seconds, rule, f"{rule}'s {rule_seconds:g} s, as on a real account")
        longest = self.longest
        if rule in self._overdue:
            seconds = min(self.floor, rule_seconds)
            how = (f"the loopback floor of {self.floor:g} s, as a WorkSpace of this run already outlived "
                   f"{rule}'s deadline ({rule} allows {rule_seconds:g} s on AWS)")
        elif longest is None:
            seconds = min(self.cap, rule_seconds)
            how = (f"the loopback cap of {self.cap:g} s, as no transition had completed yet "
                   f"({rule} allows {rule_seconds:g} s on AWS)")
        else:
            seconds = min(max(self.factor * longest, self.floor), self.cap, rule_seconds)
            how = (f"{self.factor:g} x the longest transition this run saw complete ({longest:.2f} s), "
                   f"kept within {self.floor:g}-{self.cap:g} s on a loopback target "
                   f"({rule} allows {rule_seconds:g} s on AWS)")
        return Deadline(seconds, rule, how)

    # --- since when each WorkSpace shows its state ------------------------------------------

    def shown(self, workspace_id: str, state: str, now: float | None = None) -> float:
        """Note a poll showing ``workspace_id`` in ``state``; return since when it has shown that state.

        The time carries over from one test's polls to the next: a WorkSpace
        already found stuck is not given a fresh deadline by every later test.
        """
        now = self.clock() if now is None else now
        with self._lock:
            known = self._since.get(workspace_id)
            if known is None or known[0] != state:
                self._since[workspace_id] = (state, now)
                return now
            return known[1]

    def acted(self, workspace_id: str) -> None:
        """Forget since when ``workspace_id`` showed its state: an accepted action starts a new count."""
        with self._lock:
            self._since.pop(workspace_id, None)


class Budget:
    """The time the whole run may take (``--max-duration``), counted from ``started``."""

    def __init__(self, seconds: float | None, *, started: float | None = None, clock=time.monotonic) -> None:
        if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
            raise ValueError(f"Expected --max-duration to be a number of seconds > 0 but got seconds={seconds!r}")
        self.seconds = seconds
        self.clock = clock
        self.started = clock() if started is None else started

    def left(self) -> float | None:
        """Seconds left (None without a budget)."""
        if self.seconds is None:
            return None
        return self.seconds - (self.clock() - self.started)

    def spent(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    @property
    def reason(self) -> str:
        """Why the rest of the run is skipped."""
        return f"budget: --max-duration {self.seconds:g} s spent"


@dataclasses.dataclass
class _Followed:
    states: set = dataclasses.field(default_factory=set)  # the transitional states the action leads to
    times: int = 0  # accepted and followed by polls
    seen: int = 0  # of which a poll showed one of ``states``
    misses: list = dataclasses.field(default_factory=list)  # (workspace id, state before, observed)
    evidence: dict | None = None  # request, response and reproduction of the first miss


class Sightings:
    """Per action: how often it was accepted and followed, and whether a poll showed its transitional state."""

    KEPT_MISSES = 3

    def __init__(self) -> None:
        self._followed: dict[str, _Followed] = {}
        self._lock = threading.Lock()

    def record(self, operation: str, states: set, observed: list[str], workspace_id: str, before: str | None,
               evidence=None) -> bool:
        """Note one accepted ``operation`` followed through ``observed``; return whether it was a miss.

        ``evidence`` is called (once, on the first miss) for the request, response
        and reproduction a failure will carry.
        """
        if not states:
            return False
        with self._lock:
            entry = self._followed.setdefault(operation, _Followed())
            entry.states |= set(states)
            entry.times += 1
            if set(observed) & set(states):
                entry.seen += 1
                return False
            if len(entry.misses) < self.KEPT_MISSES:
                entry.misses.append((workspace_id, before, list(observed)))
            first = entry.evidence is None
        if first and evidence is not None:
            found = evidence()
            with self._lock:
                entry.evidence = entry.evidence or found
        return True

    def followed(self, operation: str) -> int:
        entry = self._followed.get(operation)
        return entry.times if entry else 0

    def failure(self, operation: str, *, target: str):
        """The CheckFailure for ``operation`` when none of its followed actions showed its state, else None."""
        entry = self._followed.get(operation)
        if entry is None or entry.times == 0 or entry.seen:
            return None
        rule = specs.rule(SIGHTING_RULE)
        states = " or ".join(sorted(entry.states))
        sequences = "; ".join(f"{ws} from {before or 'creation'}: {' -> '.join(seen) or 'nothing'}"
                              for ws, before, seen in entry.misses)
        evidence = entry.evidence or {}
        return checks.failure(
            "state_transition", SIGHTING_RULE, f"{states} was never seen after {operation}",
            f"{operation} was accepted and followed by polls {entry.times} time(s) on {target}, and no poll "
            f"showed {states}, the state the state graph sends the WorkSpace to; a loopback target's "
            f"polls come right after the action, so an action that shows no transitional state skips it. "
            f"{rule['description']} Observed (first {len(entry.misses)}): {sequences}.",
            operation=operation, reproduce=evidence.get("reproduce", ""),
            request=evidence.get("request"), response=evidence.get("response"))


class Timing:
    """A run's deadlines, budget and sightings, built from its options and target."""

    def __init__(self, *, remote: bool, time_scale: float | None = None, max_duration: float | None = None,
                 started: float | None = None) -> None:
        self.deadlines = Deadlines(remote=remote, time_scale=time_scale)
        self.budget = Budget(max_duration, started=started)
        self.sightings = Sightings()
