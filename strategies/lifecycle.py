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
the requests, polls with backoff and turns verdicts into failures. Where the
suite controls the target's clock (the emulator's polled clock) a failing walk
fails the same way when replayed, and Hypothesis shrinks it to the shortest;
elsewhere the walks halt at the first failure.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Iterable, Protocol

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, multiple, precondition, rule

import specs

__all__ = [
    "ACTIONS",
    "GONE",
    "Driver",
    "LifecycleModel",
    "Outcome",
    "WalksEnded",
    "Verdict",
    "WorkspaceLifecycle",
    "lifecycle_machine",
    "model",
]

GONE = "GONE"


def _resolved(schema: dict, node) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = schema.get("definitions", {}).get(node["$ref"].rsplit("/", 1)[-1], {})
    return node if isinstance(node, dict) else {}


def _triggers() -> list[str]:
    """The operations of the model that trigger an edge of the state graph, in the graph's order."""
    known = set(specs.operation_names())
    return list(dict.fromkeys(edge["trigger"] for edge in specs.rules()["state_graph"] if edge["trigger"] in known))


def _first_actions() -> list[str]:
    """The actions with a transitional state: those a newly settled WorkSpace allows first, then in the graph's order.

    A walk's WorkSpaces start settled (AVAILABLE), and Hypothesis starts from and
    shrinks towards the first choice, so it leads with an action that acts there.
    """
    settled = specs.rule("timing.create")["transition"][-1]
    from_settled = {edge["trigger"] for edge in specs.rules()["state_graph"] if settled in edge["from"]}
    actions = [name for name in ACTIONS if name != TERMINATE]
    return sorted(actions, key=lambda name: name not in from_settled)


def _batch_actions() -> dict[str, str]:
    """The WorkSpace actions taken in batches: operation -> the request's list of items.

    An action triggers an edge of the state graph, and its request (by the model)
    is one required list whose items have no member but one naming a WorkSpace.
    """
    ids = set(specs.resource("workspaces")["id_members"])
    found = {}
    for name in _triggers():
        schema = specs.operation(name)["input"]
        required = schema.get("required") or []
        listed = _resolved(schema, (schema.get("properties") or {}).get(required[0])) if len(required) == 1 else {}
        item = _resolved(schema, listed.get("items")) if listed.get("type") == "array" else {}
        if item.get("properties") and set(item["properties"]) <= ids:
            found[name] = required[0]
    return found


def _running_mode_switch() -> str:
    """The action that changes a WorkSpace's running mode: the trigger whose request carries a RunningMode."""
    for name in _triggers():
        schema = specs.operation(name)["input"]
        for node in (schema.get("properties") or {}).values():
            if "RunningMode" in (_resolved(schema, node).get("properties") or {}):
                return name
    raise LookupError("Expected an operation of the state graph whose request carries a RunningMode but found none")


# The single-WorkSpace actions, with the request list each one takes; the one that ends a WorkSpace;
# the one that switches its running mode (all read from the contract).
ACTIONS = _batch_actions()
TERMINATE = specs.resource("workspaces")["delete"]["operation"]
MODIFY = _running_mode_switch()


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A deviation from the lifecycle rules: which check, operation and rule it breaks, and why."""

    check: str
    operation: str
    rule: str
    title: str
    message: str


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
        for alternative in [refusal, *(refusal.get("also_accepted") or ())]:
            if alternative.get("kind") == "exception":
                codes.update(alternative["codes"])
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
        check = "use_after_terminate" if operation == TERMINATE and accepted else "state_transition"
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

    # Every transitional state is visible to one poll (the emulator's polled clock): sequences are judged
    # strictly, and a walk replays exactly, so the machine lets Hypothesis shrink a failing one.
    strict: bool
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

    halted: bool  # the driver keeps a failure: the walks end (where walks replay, only the walk it came from)

    def halt(self, error: Exception) -> bool:
        """Keep ``error`` if it is a verdict of the target (then the walk halts); False to re-raise it."""

    def release(self, workspace_id: str, state: str, running_mode: str) -> None: ...

    def close(self) -> None:
        """Terminate every live WorkSpace the driver created, without waiting."""


RUNNING_MODES = ("AUTO_STOP", "ALWAYS_ON")
# WorkSpaces one walk keeps alive: two let the bundle mix WorkSpaces, and each one costs a creation.
MAX_LIVE = 2


def _step(*, creates: bool = False):
    """A rule's body as one step of a walk; how a failure ends the walk depends on whether walks replay.

    Where walks replay (:attr:`WorkspaceLifecycle.replayable`) a failure of the
    target (an ``AssertionError``, as the driver's failures are) goes to
    Hypothesis, which replays the walk to shrink it: every walk makes its own
    WorkSpaces and the polled clock moves only on the walk's own polls, so a
    replay fails the same way. The failure carries the walk's steps up to it
    as ``walk``, one call a line with what it left. Elsewhere the target's
    state moved on since and a replay would not fail the same way: the driver
    keeps the first failure and halts the walks (the walk's later steps do
    nothing, and no other walk begins), and the test raises it.

    An answer the driver cannot judge (it keeps it, see :meth:`Driver.halt`)
    ends the walk without failing it, so that Hypothesis never shrinks towards
    one. A step of a rule that ``creates`` adds nothing to the bundle then.
    """
    def decorate(method):
        @functools.wraps(method)
        def step(self, **arguments):
            nothing = multiple() if creates else None
            if self.ended or (self.driver.halted and not self.replayable):
                return nothing
            call = f"state.{method.__name__}({', '.join(f'{k}={v!r}' for k, v in sorted(arguments.items()))})"
            self.aside = ""
            try:
                result = method(self, **arguments)
            except Exception as error:
                if self.replayable and isinstance(error, AssertionError):
                    self.steps.append(f"{call}  # fails{self.aside}")
                    error.walk = list(self.steps)
                    if self.shortest is None or len(error.walk) < len(self.shortest.walk):
                        type(self).shortest = error
                    raise
                if not self.driver.halt(error):
                    raise
                self.ended = True
                return nothing
            self.steps.append(f"{call}  # {self._after(arguments, result)}{self.aside}")
            return result
        return step
    return decorate


class WalksEnded(BaseException):
    """The machine's walks end before Hypothesis is done with them; ``failure`` is the one to report, if any.

    Raised once a walk is over: where walks do not replay, when a failure halted
    them (the driver keeps it); where they replay, when shrinking has replayed
    as many walks as :func:`lifecycle_machine` allows (``failure`` is then the
    shortest failing walk's). A ``BaseException``: Hypothesis takes every
    ``Exception`` a walk raises for a failure of that walk, and lets this one end
    the whole run.
    """

    def __init__(self, why: str, failure: AssertionError | None = None) -> None:
        super().__init__(why)
        self.failure = failure


@dataclasses.dataclass
class Tracked:
    """What the model knows of one WorkSpace of a walk: its settled state and running mode."""

    state: str | None
    mode: str | None


class WorkspaceLifecycle(RuleBasedStateMachine):
    """Random walks over the lifecycle of a walk's WorkSpaces, judged against rules.json at every step.

    The WorkSpaces form a bundle: made by :meth:`acquire` and :meth:`create`,
    acted on by the other rules, consumed by :meth:`terminate`, which makes the
    replacement. Preconditions depend on what the target implements, on what
    the walk itself did and (for :meth:`terminate`) on the run's budget, which
    changes between walks only where it is small (a real account, someone
    else's mock), and there walks are not replayed. Hypothesis draws the rules
    it orders first most often, and orders them by their bundles and number of
    arguments: :meth:`act` comes first, and :meth:`terminate`, the dearest, last.

    The model tracks each WorkSpace's settled state and running mode. Every
    action is first judged as allowed or forbidden in the known state; its
    effect is then followed until the WorkSpace settles and the observed
    sequence is judged against the state graph. With a strict driver an
    accepted action is followed by a second action *before* any poll, while
    the WorkSpace is known to be in the action's transitional state.
    """

    driver: Driver = None  # set by lifecycle_machine()
    lifecycle: LifecycleModel = None
    replayable: bool = False  # set by lifecycle_machine(): whether a failing walk is shrunk (see _step)
    max_replays: int | None = None  # set by lifecycle_machine(): walks shrinking may replay
    # Kept on the bound class, across walks: the failure of the shortest failing walk so far,
    # and the walks begun since the first failure.
    shortest: AssertionError | None = None
    replays = 0

    workspaces = Bundle("workspaces")

    def __init__(self) -> None:
        super().__init__()
        self.known: dict[str, Tracked] = {}
        self.steps: list[str] = []  # the walk so far, one call a line (see _step)
        self.aside = ""  # what the current step did other than its name says, for its line
        self.ended = False  # an answer the driver could not judge ended this walk
        self.terminated = False  # the walk's one termination is done
        if self.replayable:
            # What an earlier walk's polls verified would let this walk act blind where its replay,
            # after other walks, might not: each walk learns for itself.
            self.driver.verified.clear()
            if self.shortest is not None:
                type(self).replays += 1

    def _after(self, arguments: dict, result) -> str:
        """What a step left: the WorkSpace it made, or the state of the one it acted on."""
        made = result if isinstance(result, str) else None
        workspace = made or arguments.get("workspace")
        tracked = self.known.get(workspace)
        if tracked is None:
            return "nothing made" if made is None and "workspace" not in arguments else "done"
        return f"{'made ' if made else ''}{workspace}: {tracked.state}, {tracked.mode}"

    def alive(self, workspace: str) -> bool:
        tracked = self.known.get(workspace)
        return tracked is not None and tracked.state not in (None, GONE)

    def live(self) -> int:
        return sum(1 for workspace in self.known if self.alive(workspace))

    def _hold(self, workspace: str, state: str, mode: str) -> str:
        self.known[workspace] = Tracked(state, mode)
        return workspace

    @initialize(target=workspaces, mode=st.sampled_from(RUNNING_MODES))
    @_step(creates=True)
    def acquire(self, mode):
        """The walk's first WorkSpace: a new one where walks replay, else one an earlier walk left (or a new one)."""
        if self.replayable:
            return self._new(mode)
        found = self.driver.acquire(mode)
        return multiple() if found is None else self._hold(*found)

    @precondition(lambda self: self.live() < MAX_LIVE)
    @rule(target=workspaces, mode=st.sampled_from(RUNNING_MODES))
    @_step(creates=True)
    def create(self, mode):
        return self._new(mode)

    def _new(self, mode):
        """A new WorkSpace in the bundle, or nothing once the run's budget is spent."""
        created = self.driver.create(mode) if self.driver.can_create() else None
        return multiple() if created is None else self._hold(*created, mode)

    @rule(workspace=workspaces, operation=st.sampled_from(sorted(set(ACTIONS) - {TERMINATE}) + [MODIFY]))
    @_step()
    def act(self, workspace, operation):
        if self.alive(workspace):
            self._act(workspace, operation)

    @precondition(lambda self: self.driver.strict)
    @rule(workspace=workspaces,
          first=st.sampled_from(_first_actions()),
          second=st.sampled_from(sorted(ACTIONS) + [MODIFY]))
    @_step()
    def act_in_transition(self, workspace, first, second):
        """Act, then act again while the WorkSpace is in the first action's transitional state."""
        if not (self.alive(workspace) and self.driver.implemented(first) and self.driver.implemented(second)):
            return
        tracked = self.known[workspace]
        before, mode = tracked.state, tracked.mode
        if (first, before) not in self.driver.verified:
            # Until a poll has shown where ``first`` leads from here, a blind second action
            # could be judged in a state the WorkSpace is not in.
            self.aside = f" ({first} alone: no poll has shown yet where it leads from {before})"
            self._act(workspace, first)
            return
        outcome = self.driver.act(first, workspace, mode)
        self.driver.judge(self.lifecycle.judge_outcome(first, before, mode, outcome))
        entries = self.lifecycle.entry_states(first, before, mode)
        if outcome.kind != "accepted" or len(entries) != 1:
            tracked.state = self.driver.settle(first, workspace, before, mode, accepted=outcome.kind == "accepted")
            return
        (transitional,) = entries
        if second == TERMINATE and not self.driver.can_create():
            second = MODIFY  # keep the WorkSpace: no budget for a replacement
        second_outcome = self.driver.act(second, workspace, mode)
        self.driver.judge(self.lifecycle.judge_outcome(second, transitional, mode, second_outcome))
        if second_outcome.kind == "accepted" and second != MODIFY:
            # The second action moved the WorkSpace on: follow it from the transitional state.
            tracked.state = self.driver.settle(second, workspace, transitional, mode, accepted=True)
        else:
            tracked.state = self.driver.settle(first, workspace, before, mode, accepted=True)
        if second == TERMINATE and second_outcome.kind == "accepted":
            self._terminated(workspace)

    def _act(self, workspace, operation):
        if not self.driver.implemented(operation):
            return
        tracked = self.known[workspace]
        before = tracked.state
        outcome = self.driver.act(operation, workspace, tracked.mode)
        self.driver.judge(self.lifecycle.judge_outcome(operation, before, tracked.mode, outcome))
        tracked.state = self.driver.settle(operation, workspace, before, tracked.mode,
                                           accepted=outcome.kind == "accepted")

    @precondition(lambda self: self.driver.implemented(MODIFY))
    @rule(workspace=workspaces, mode=st.sampled_from(RUNNING_MODES))
    @_step()
    def switch_running_mode(self, workspace, mode):
        """ModifyWorkspaceProperties to another running mode changes which actions are allowed."""
        tracked = self.known.get(workspace)
        if not (self.alive(workspace) and tracked.state in ("AVAILABLE", "STOPPED")):
            return
        before = tracked.state
        outcome = self.driver.act(MODIFY, workspace, mode)
        self.driver.judge(self.lifecycle.judge_outcome(MODIFY, before, tracked.mode, outcome))
        if outcome.kind == "accepted":
            tracked.mode = mode
        tracked.state = self.driver.settle(MODIFY, workspace, before, tracked.mode,
                                           accepted=outcome.kind == "accepted")

    @precondition(lambda self: self.driver.implemented(specs.tag_creation()["operation"])
                  and self.driver.implemented(specs.tag_listing()["operation"]))
    @rule(workspace=workspaces, key=st.sampled_from(["conformance:probe", "Conformance:Probe", "team"]),
          value=st.sampled_from(["", "a", "b/c=d+e@f"]))
    @_step()
    def tag(self, workspace, key, value):
        if self.alive(workspace):
            self.driver.tag_roundtrip(workspace, key, value)

    # Once a walk, and only while a replacement can be created (a real account's budget may hold a
    # single WorkSpace): a termination and the checks after it cost a dozen calls, and a second one
    # in the same walk would judge nothing the first did not.
    @precondition(lambda self: not self.terminated and self.driver.implemented(TERMINATE)
                  and self.driver.can_create())
    @rule(target=workspaces, workspace=consumes(workspaces), mode=st.sampled_from(RUNNING_MODES))
    @_step(creates=True)
    def terminate(self, workspace, mode):
        """Terminate, check the WorkSpace is gone and refuses every action, and create its replacement in ``mode``."""
        self.terminated = True
        if self.alive(workspace):
            self._act(workspace, TERMINATE)
            self._terminated(workspace)
        return self._new(mode)

    def _terminated(self, workspace):
        if self.known[workspace].state == GONE:
            self.driver.check_gone(workspace)
        self.known[workspace].state = GONE

    def teardown(self):
        # WalksEnded only here, once the walk has drawn all it draws: Hypothesis takes a walk that
        # stops drawing earlier than an earlier one with the same beginning for a flaw of the strategies.
        if self.replayable:
            self.driver.close()  # a replay makes its own WorkSpaces: this walk's are of no further use
            if self.shortest is not None and self.max_replays is not None and self.replays >= self.max_replays:
                raise WalksEnded(f"shrinking replayed {self.replays} walks", self.shortest)
            return
        for workspace, tracked in self.known.items():
            if self.alive(workspace):
                self.driver.release(workspace, tracked.state, tracked.mode)
        if self.driver.halted:
            raise WalksEnded("a failure halted the walks")  # the driver keeps it


def lifecycle_machine(driver: Driver, lifecycle: LifecycleModel | None = None, *,
                      replayable: bool | None = None, max_replays: int | None = None) -> type[WorkspaceLifecycle]:
    """A state machine class bound to ``driver`` (run it with ``hypothesis.stateful.run_state_machine_as_test``).

    ``replayable`` (by default the driver's ``strict``: the emulator's polled
    clock) says whether a walk that fails fails the same way when replayed, so
    that Hypothesis may shrink it; elsewhere the walks halt at the first
    failure. ``max_replays`` caps the walks begun after the first failure:
    shrinking may replay a walk hundreds of times, each on the target, and
    Hypothesis has no setting to bound it. Past the cap the run of the machine
    ends with :class:`WalksEnded`, which carries the shortest failing walk's failure.
    """
    if driver is None:
        raise ValueError("Expected a driver (see strategies.lifecycle.Driver) but got driver=None")
    replayable = bool(driver.strict) if replayable is None else replayable
    if replayable and not driver.strict:
        raise ValueError("Expected replayable=False for a driver whose clock the suite does not control "
                         f"(driver.strict is False) but got replayable={replayable!r}")
    if max_replays is not None and (not isinstance(max_replays, int) or max_replays < 0):
        raise ValueError(f"Expected max_replays to be None or an integer >= 0 but got max_replays={max_replays!r}")
    return type("BoundWorkspaceLifecycle", (WorkspaceLifecycle,),
                {"driver": driver, "lifecycle": lifecycle or model(), "replayable": replayable,
                 "max_replays": max_replays, "shortest": None, "replays": 0})
