"""The WorkSpace lifecycle: rules.json's state graph as a model, and a state machine over it.

:class:`LifecycleModel` answers what the contract allows: which states an
action may start from, where it leads, which states follow one another
asynchronously, how long a transitional state may last. It judges an
observed *sequence* of states (never a state at a given instant) and
returns :class:`Verdict` objects instead of raising, so that this layer does
not depend on the conformance framework.

:class:`WorkspaceLifecycle` is a Hypothesis ``RuleBasedStateMachine`` over
create, describe, start, stop, reboot, rebuild, modify, terminate and tags.
It talks to the target through a *driver* (see :class:`Driver`), which sends
the requests, polls with backoff and turns verdicts into failures.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Iterable, Protocol

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import specs

__all__ = [
    "ACTIONS",
    "GONE",
    "Driver",
    "LifecycleModel",
    "Outcome",
    "Verdict",
    "WorkspaceLifecycle",
    "lifecycle_machine",
    "model",
]

GONE = "GONE"
# The single-WorkSpace actions of the seed, with the request list each one takes.
ACTIONS = {
    "StartWorkspaces": "StartWorkspaceRequests",
    "StopWorkspaces": "StopWorkspaceRequests",
    "RebootWorkspaces": "RebootWorkspaceRequests",
    "RebuildWorkspaces": "RebuildWorkspaceRequests",
    "TerminateWorkspaces": "TerminateWorkspaceRequests",
}
STATE_CHECKS = ("state_transition", "state_precondition", "async_completion", "use_after_terminate")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A deviation from the lifecycle rules: which check, operation and rule it breaks, and why."""

    check: str
    operation: str
    rule: str
    title: str
    message: str

    @property
    def source(self) -> str:
        try:
            return specs.rule(self.rule)["source"]
        except KeyError:
            return "rules.json"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How the target answered one action on one WorkSpace.

    ``kind`` is ``accepted`` (no refusal), ``refused`` (a FailedRequests entry
    or an exception the rule accepts as a refusal), or ``unexpected`` (an error
    the rule does not name for a refusal); ``code`` is the error code if any.
    """

    kind: str
    code: str | None = None
    detail: str = ""

    def __post_init__(self):
        if self.kind not in ("accepted", "refused", "unexpected"):
            raise ValueError(f"Expected kind accepted, refused or unexpected but got kind={self.kind!r}")


class LifecycleModel:
    """The lifecycle rules of rules.json: states, edges, preconditions and deadlines."""

    def __init__(self, rules: dict | None = None) -> None:
        rules = specs.rules() if rules is None else rules
        self.states = {s["name"]: s for s in rules["states"]}
        self.edges = list(rules["state_graph"])
        self.preconditions = {p["operation"]: p for p in rules["preconditions"]}
        self.timing = list(rules["timing"])
        self._async: dict[str, list[dict]] = {}
        self._reachable: dict[str, frozenset[str]] = {}
        for edge in self.edges:
            if edge["trigger"] == "async":
                for state in edge["from"]:
                    self._async.setdefault(state, []).append(edge)

    # --- states and edges -------------------------------------------------------------------

    def is_settled(self, state: str) -> bool:
        """Whether ``state`` stays put without an action (GONE counts as settled)."""
        if state == GONE:
            return True
        if state not in self.states:
            raise ValueError(f"Expected a WorkspaceState from rules.json but got state={state!r}")
        return self.states[state]["kind"] == "settled"

    def async_edges(self, state: str) -> list[dict]:
        """The asynchronous edges leaving ``state``."""
        return list(self._async.get(state, ()))

    def async_successors(self, state: str) -> set[str]:
        return {edge["to"] for edge in self.async_edges(state)}

    def reachable(self, start: str) -> frozenset[str]:
        """The states reachable from ``start`` through asynchronous edges alone (not ``start`` itself)."""
        if start in self._reachable:
            return self._reachable[start]
        seen, stack = set(), [start]
        while stack:
            for following in self.async_successors(stack.pop()):
                if following not in seen:
                    seen.add(following)
                    stack.append(following)
        self._reachable[start] = frozenset(seen)
        return self._reachable[start]

    def action_edges(self, operation: str, state: str | None, running_mode: str | None = None) -> list[dict]:
        """The edges ``operation`` may take from ``state`` (``None``: not yet created)."""
        found = []
        for edge in self.edges:
            if edge["trigger"] != operation:
                continue
            if state is None and edge["from"]:
                continue
            if state is not None and state not in edge["from"]:
                continue
            modes = edge.get("running_modes")
            if modes and running_mode is not None and running_mode not in modes:
                continue
            found.append(edge)
        return found

    def entry_states(self, operation: str, state: str | None, running_mode: str | None = None) -> set[str]:
        """The states a WorkSpace may be in right after ``operation`` from ``state`` succeeds."""
        return {edge["to"] for edge in self.action_edges(operation, state, running_mode)}

    def transitional_entries(self, operation: str, state: str | None, running_mode: str | None = None) -> set[str]:
        """The transitional states an accepted ``operation`` from ``state`` must show before it settles.

        Empty when the action may also lead straight to a settled state (a modified
        WorkSpace may stay AVAILABLE) or to a state rules.json calls rarely observed:
        then no poll need ever show one.
        """
        entries = self.entry_states(operation, state, running_mode)
        if not entries or any(self.is_settled(s) or self.states[s].get("rarely_observed") for s in entries):
            return set()
        return entries

    # --- preconditions ---------------------------------------------------------------------

    def precondition(self, operation: str) -> dict | None:
        return self.preconditions.get(operation)

    def allows(self, operation: str, state: str, running_mode: str | None,
               seconds_in_state: float = 0.0) -> bool:
        """Whether rules.json allows ``operation`` on a WorkSpace in ``state`` and ``running_mode``."""
        rule = self.precondition(operation)
        if rule is None:
            return bool(self.action_edges(operation, state, running_mode))
        if state not in rule["allowed_states"]:
            return False
        minimum = (rule.get("min_seconds_in_state") or {}).get(state)
        if minimum is not None and seconds_in_state < minimum:
            return False
        modes = rule.get("running_modes")
        return not (modes and running_mode is not None and running_mode not in modes)

    def refusal_codes(self, operation: str) -> set[str]:
        """Error codes of exceptions rules.json accepts as a refusal of ``operation``."""
        rule = self.precondition(operation) or {}
        refusal = rule.get("refusal") or {}
        codes = set()
        if refusal.get("kind") == "exception" and refusal.get("code"):
            codes.add(refusal["code"])
        for alternative in refusal.get("also_accepted") or ():
            if alternative.get("kind") == "exception" and alternative.get("code"):
                codes.add(alternative["code"])
        return codes

    def refuses_with_failed_request(self, operation: str) -> bool:
        refusal = (self.precondition(operation) or {}).get("refusal") or {}
        return refusal.get("kind") == "failed_request"

    def precondition_rule(self, operation: str) -> str:
        rule = self.precondition(operation)
        return rule["id"] if rule else f"precondition.{operation}"

    # --- timing ----------------------------------------------------------------------------

    def deadline(self, state: str) -> tuple[float, str]:
        """Seconds ``state`` may last and the timing rule saying so (the longest rule as a fallback)."""
        for entry in self.timing:
            if entry["transition"][0] == state:
                return float(entry["deadline_seconds"]), entry["id"]
        longest = max(self.timing, key=lambda entry: entry["deadline_seconds"])
        return float(longest["deadline_seconds"]), longest["id"]

    def visibility_deadline(self) -> tuple[float, str]:
        """How long a state change may take to show in DescribeWorkspaces."""
        for entry in self.timing:
            if entry["transition"] == [GONE, "PENDING"]:
                return float(entry["deadline_seconds"]), entry["id"]
        return 120.0, "timing.create.visible"

    # --- judging ---------------------------------------------------------------------------

    def judge_outcome(self, operation: str, state: str, running_mode: str | None, outcome: Outcome,
                      seconds_in_state: float = 0.0) -> Verdict | None:
        """Judge the answer to ``operation`` on a WorkSpace known to be in ``state``."""
        allowed = self.allows(operation, state, running_mode, seconds_in_state)
        rule = self.precondition_rule(operation)
        where = f"{state}" + (f" (running mode {running_mode})" if running_mode else "")
        if allowed and outcome.kind != "accepted":
            return Verdict("state_precondition", operation, rule,
                           f"{operation} refused in {state}, where rules.json allows it",
                           f"The WorkSpace was in {where}; {rule} allows {operation} there, yet the target "
                           f"answered {outcome.code or 'a refusal'}: {outcome.detail}")
        if not allowed and outcome.kind == "accepted":
            return Verdict("state_precondition", operation, rule,
                           f"{operation} accepted in {state}, where rules.json forbids it",
                           f"The WorkSpace was in {where}; {rule} allows {operation} only in "
                           f"{self.precondition(operation)['allowed_states'] if self.precondition(operation) else '?'}"
                           f"{self._modes_text(operation)}, so the target must refuse it "
                           f"({self._refusal_text(operation)}), but it accepted the request.")
        if not allowed and outcome.kind == "unexpected":
            return Verdict("state_precondition", operation, rule,
                           f"{operation} in {state} refused with {outcome.code}, not as rules.json says",
                           f"The WorkSpace was in {where}; the refusal must be {self._refusal_text(operation)}, "
                           f"but the target answered {outcome.code}: {outcome.detail}")
        return None

    def _modes_text(self, operation: str) -> str:
        modes = (self.precondition(operation) or {}).get("running_modes")
        return f" and running modes {modes}" if modes else ""

    def _refusal_text(self, operation: str) -> str:
        parts = []
        if self.refuses_with_failed_request(operation):
            parts.append("a FailedRequests entry with an ErrorCode")
        parts += [f"{code}" for code in sorted(self.refusal_codes(operation))]
        return " or ".join(parts) or "a refusal"

    def judge_sequence(self, operation: str, before: str | None, running_mode: str | None,
                       observed: list[str], *, accepted: bool, strict: bool) -> Verdict | None:
        """Judge the states seen after ``operation`` on a WorkSpace that was in ``before``.

        ``observed`` lists successive observations (repeats allowed). ``strict``
        means every state is visible to at least one poll (the emulator's polled
        clock): each observation must then follow the previous one by a single
        edge. Otherwise a poll may miss states, so an observation need only be
        reachable from the previous one, and the state before the action may
        still show for a while (the change is not yet visible).
        """
        if not observed:
            return None
        check = "use_after_terminate" if operation == "TerminateWorkspaces" and accepted else "state_transition"
        if accepted:
            edges = self.action_edges(operation, before, running_mode)
            entries = {edge["to"] for edge in edges}
            entry_rule = edges[0]["id"] if edges else self.precondition_rule(operation)
        else:
            entries, entry_rule = {before}, self.precondition_rule(operation)
        states = _compress(observed)
        first = states[0]
        allowed_first = set(entries)
        if not strict:
            for entry in entries:
                allowed_first |= self.reachable(entry)
            if before is not None:
                allowed_first.add(before)  # the change may not be visible yet
            else:
                allowed_first.add(GONE)  # a new WorkSpace may not be describable at once
        if first not in allowed_first:
            what = "accepted" if accepted else "refused"
            return Verdict(check, operation, entry_rule,
                           f"After {operation} the WorkSpace was {first}, not {' or '.join(sorted(entries))}",
                           f"The WorkSpace was {before or 'not yet created'} and the target {what} {operation}; "
                           f"by {entry_rule} it must then be {sorted(entries)}"
                           + ("" if strict else f" or a state reachable from there {sorted(allowed_first)}")
                           + f", but the first observation was {first}. Observed sequence: {' -> '.join(observed)}.")
        for previous, current in zip(states, states[1:]):
            lagging = before if before is not None else GONE
            if previous == lagging and not strict and current in allowed_first:
                continue  # the state before the action gave way to its effect
            successors = self.async_successors(previous) if strict else set(self.reachable(previous))
            if current not in successors:
                edges = self.async_edges(previous)
                rule = edges[0]["id"] if edges else entry_rule
                return Verdict(check, operation, rule,
                               f"{previous} -> {current} is not an edge of the state graph",
                               f"After {operation} from {before or 'creation'} the WorkSpace went from {previous} to "
                               f"{current}; the state graph lets {previous} become only "
                               f"{sorted(successors) or 'nothing'} ({', '.join(e['id'] for e in edges) or 'no async edge'})"
                               f". Observed sequence: {' -> '.join(observed)}.")
        return None


def _compress(observed: Iterable[str]) -> list[str]:
    """``observed`` without consecutive repeats."""
    out: list[str] = []
    for state in observed:
        if not out or out[-1] != state:
            out.append(state)
    return out


@functools.lru_cache(maxsize=1)
def model() -> LifecycleModel:
    """The model of the committed rules.json, built once."""
    return LifecycleModel()


# --- the state machine -----------------------------------------------------------------------


class Driver(Protocol):
    """What the state machine needs from the conformance side (see conformance.behaviour)."""

    strict: bool  # every transitional state is visible to one poll (the emulator's polled clock)
    verified: set  # (operation, state) pairs whose effect a poll has shown to enter the graph's state

    def implemented(self, operation: str) -> bool: ...

    def acquire(self, running_mode: str) -> tuple[str, str, str] | None:
        """A WorkSpace for the machine: (id, state, running mode), created or reused; None if none."""

    def create(self, running_mode: str) -> tuple[str, str] | None:
        """Create a WorkSpace: (id, first observed state after settling) or None without budget."""

    def can_create(self) -> bool: ...

    def act(self, operation: str, workspace_id: str, running_mode: str | None) -> Outcome: ...

    def settle(self, operation: str, workspace_id: str, before: str | None, running_mode: str | None,
               *, accepted: bool) -> str:
        """Poll until the WorkSpace settles, judge the sequence and return the settled state."""

    def judge(self, verdict: Verdict | None) -> None:
        """Raise a failure for ``verdict`` (nothing for None)."""

    def check_gone(self, workspace_id: str) -> None:
        """Judge that a terminated WorkSpace refuses actions and is no longer described."""

    def tag_roundtrip(self, workspace_id: str, key: str, value: str) -> None: ...

    halted: bool  # a failure ended the walk

    def halt(self, error: Exception) -> bool:
        """Keep ``error`` if it is a verdict of the target (then the walk halts); False to re-raise it."""

    def release(self, workspace_id: str, state: str, running_mode: str) -> None: ...


RUNNING_MODES = ("AUTO_STOP", "ALWAYS_ON")
MODIFY = "ModifyWorkspaceProperties"


def _halting(method):
    """Run a step unless the walk has halted; hand a failure to the driver, which halts the walk.

    Hypothesis replays a failing walk to report it, but a target's state moved on
    since, so a replay would not fail the same way. The walk therefore never fails
    inside Hypothesis: the driver keeps the first failure and the test raises it.
    """
    @functools.wraps(method)
    def step(self, *args, **kwargs):
        if self.driver.halted:
            return None
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            if not self.driver.halt(error):
                raise
            return None
    return step


class WorkspaceLifecycle(RuleBasedStateMachine):
    """Random walks over one WorkSpace's lifecycle, judged against rules.json at every step.

    Rules carry no preconditions: whether a rule applies depends on the target
    and the run's budget, which Hypothesis must not see change between replays
    of one walk, so an inapplicable rule does nothing instead.

    The model tracks the WorkSpace's settled state and running mode. Every
    action is first judged as allowed or forbidden in the known state; its
    effect is then followed until the WorkSpace settles and the observed
    sequence is judged against the state graph. With a strict driver an
    accepted action is followed by a second action *before* any poll, while
    the WorkSpace is known to be in the action's transitional state.
    """

    driver: Driver = None  # set by lifecycle_machine()
    lifecycle: LifecycleModel = None

    def __init__(self) -> None:
        super().__init__()
        self.workspace: str | None = None
        self.state: str | None = None
        self.mode: str | None = None

    @initialize(mode=st.sampled_from(RUNNING_MODES))
    @_halting
    def acquire(self, mode):
        found = self.driver.acquire(mode)
        if found is not None:
            self.workspace, self.state, self.mode = found

    def alive(self) -> bool:
        return self.workspace is not None and self.state not in (None, GONE)

    @rule(mode=st.sampled_from(RUNNING_MODES))
    @_halting
    def create(self, mode):
        if self.alive() or not self.driver.can_create():
            return
        created = self.driver.create(mode)
        if created is not None:
            self.workspace, self.state = created
            self.mode = mode

    @rule(operation=st.sampled_from(sorted(set(ACTIONS) - {"TerminateWorkspaces"}) + [MODIFY]))
    @_halting
    def act(self, operation):
        if self.alive():
            self._act(operation)

    @rule(first=st.sampled_from(["StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces", "StartWorkspaces"]),
          second=st.sampled_from(sorted(ACTIONS) + [MODIFY]))
    @_halting
    def act_in_transition(self, first, second):
        """Act, then act again while the WorkSpace is in the first action's transitional state."""
        if not (self.alive() and self.driver.strict and self.driver.implemented(first)
                and self.driver.implemented(second)):
            return
        before = self.state
        if (first, before) not in self.driver.verified:
            # Until a poll has shown where ``first`` leads from here, a blind second action
            # could be judged in a state the WorkSpace is not in.
            self._act(first)
            return
        outcome = self.driver.act(first, self.workspace, self.mode)
        self.driver.judge(self.lifecycle.judge_outcome(first, before, self.mode, outcome))
        entries = self.lifecycle.entry_states(first, before, self.mode)
        if outcome.kind != "accepted" or len(entries) != 1:
            self.state = self.driver.settle(first, self.workspace, before, self.mode,
                                            accepted=outcome.kind == "accepted")
            return
        (transitional,) = entries
        if second == "TerminateWorkspaces" and not self.driver.can_create():
            second = MODIFY  # keep the WorkSpace: no budget for a replacement
        second_outcome = self.driver.act(second, self.workspace, self.mode)
        self.driver.judge(self.lifecycle.judge_outcome(second, transitional, self.mode, second_outcome))
        if second_outcome.kind == "accepted" and second != MODIFY:
            # The second action moved the WorkSpace on: follow it from the transitional state.
            self.state = self.driver.settle(second, self.workspace, transitional, self.mode, accepted=True)
        else:
            self.state = self.driver.settle(first, self.workspace, before, self.mode, accepted=True)
        if second == "TerminateWorkspaces" and second_outcome.kind == "accepted":
            self._terminated()

    def _act(self, operation):
        if not self.driver.implemented(operation):
            return
        before = self.state
        outcome = self.driver.act(operation, self.workspace, self.mode)
        self.driver.judge(self.lifecycle.judge_outcome(operation, before, self.mode, outcome))
        self.state = self.driver.settle(operation, self.workspace, before, self.mode,
                                        accepted=outcome.kind == "accepted")

    @rule(mode=st.sampled_from(RUNNING_MODES))
    @_halting
    def switch_running_mode(self, mode):
        """ModifyWorkspaceProperties to another running mode changes which actions are allowed."""
        if not (self.alive() and self.state in ("AVAILABLE", "STOPPED") and self.driver.implemented(MODIFY)):
            return
        outcome = self.driver.act(MODIFY, self.workspace, mode)
        self.driver.judge(self.lifecycle.judge_outcome(MODIFY, self.state, self.mode, outcome))
        before = self.state
        if outcome.kind == "accepted":
            self.mode = mode
        self.state = self.driver.settle(MODIFY, self.workspace, before, self.mode,
                                        accepted=outcome.kind == "accepted")

    @rule(key=st.sampled_from(["conformance:probe", "Conformance:Probe", "team"]),
          value=st.sampled_from(["", "a", "b/c=d+e@f"]))
    @_halting
    def tag(self, key, value):
        if self.alive() and self.driver.implemented("CreateTags") and self.driver.implemented("DescribeTags"):
            self.driver.tag_roundtrip(self.workspace, key, value)

    @rule()
    @_halting
    def terminate(self):
        """Terminate (only while a replacement could be created), then check the WorkSpace is gone."""
        if not (self.alive() and self.driver.can_create() and self.driver.implemented("TerminateWorkspaces")):
            return
        self._act("TerminateWorkspaces")
        self._terminated()

    def _terminated(self):
        if self.state == GONE:
            self.driver.check_gone(self.workspace)
        self.workspace, self.state = None, GONE


    @invariant()
    def state_is_known(self):
        if self.workspace is not None and self.state is not None and self.state != GONE:
            assert self.state in self.lifecycle.states, f"unknown state {self.state!r}"

    def teardown(self):
        if self.alive():
            self.driver.release(self.workspace, self.state, self.mode)


def lifecycle_machine(driver: Driver, lifecycle: LifecycleModel | None = None) -> type[WorkspaceLifecycle]:
    """A state machine class bound to ``driver`` (run it with ``hypothesis.stateful.run_state_machine_as_test``)."""
    if driver is None:
        raise ValueError("Expected a driver (see strategies.lifecycle.Driver) but got driver=None")
    return type("BoundWorkspaceLifecycle", (WorkspaceLifecycle,),
                {"driver": driver, "lifecycle": lifecycle or model()})
