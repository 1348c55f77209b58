"""Driving WorkSpaces through their lifecycle on a target, and judging what is observed.

:class:`LifecycleDriver` implements ``strategies.lifecycle.Driver``: it creates
WorkSpaces through ``Run.create_workspaces`` (within the run's budget, tagged
with the run id), sends actions,
polls DescribeWorkspaces with backoff under deadlines fitted to the target
(rules.json's ``timing`` on real accounts, seconds on loopback ones; see
conformance.timing) and turns the model's verdicts into :class:`CheckFailure` with a
runnable reproduction of the calls that led there.

On the emulator (the plugin starts it with ``polls_per_state=1``) every
transitional state is seen by exactly one poll, so sequences are judged
strictly and a state that outlives a few polls is stuck; elsewhere a poll
may miss states and deadlines are measured in seconds.
"""
from __future__ import annotations

import time

import pytest

import specs
from strategies.lifecycle import ACTIONS, GONE, MODIFY, LifecycleModel, Outcome, Verdict, model

from . import checks
from .checks import CheckFailure, Exchange
from .cleanup import run_tags
from .client import reproduce_call
from .coverage import skip_not_implemented

STRICT_MAX_POLLS = 5  # polls a transitional state may last under the polled clock
REMOTE_BACKOFF = (5.0, 60.0)  # first and longest pause between polls on real endpoints
LOOPBACK_BACKOFF = (0.05, 1.0)


def strict_clock(target) -> bool:
    """Whether every transitional state of ``target`` is visible to a poll (the emulator's polled clock)."""
    return target.kind == "emulator" and bool(target.polls_per_state)


def require(run, *operations: str, purpose: str = "") -> None:
    """Skip unless the target implements, and the run may send, every one of ``operations``."""
    for operation in operations:
        if not run.implemented(operation):
            skip_not_implemented(operation, f" ({purpose})" if purpose else "")
        if not run.may_send(operation):
            pytest.skip(f"read-only: {operation} may change resources; pass --allow-mutations")


class Unjudgeable(Exception):
    """The target answered in a way the lifecycle cannot be judged from (reported as a skip)."""


class LifecycleDriver:
    """The conformance side of the lifecycle: requests, polling, budget and failures."""

    def __init__(self, run, lifecycle: LifecycleModel | None = None) -> None:
        self.run = run
        self.target = run.target
        self.model = lifecycle or model()
        self.strict = strict_clock(self.target)
        self.loopback = not self.target.remote
        self.mine: dict[str, dict] = {}  # WorkSpaces this driver created: state, running mode
        self.last: Exchange | None = None
        self.current: str | None = None  # the WorkSpace of the latest call, whose state a failure rebuilds
        self.verified: set[tuple[str, str | None]] = set()  # (action, state) seen to enter the graph's state
        self.halted = False
        self.failures: list[Exception] = []  # what halted a walk of the state machine
        self._placement: tuple[str, str] | None = None
        self._users = 0

    # --- the driver protocol ---------------------------------------------------------------

    def implemented(self, operation: str) -> bool:
        return self.run.implemented(operation) and self.run.may_send(operation)

    def room(self) -> int:
        return self.target.room()

    def can_create(self) -> bool:
        """Whether the budget, the target and (on real accounts) the --user-name list allow one more WorkSpace."""
        users = not self.target.remote or self.target.users_left() > 0
        return self.room() > 0 and users and self.implemented("CreateWorkspaces")

    def acquire(self, running_mode: str):
        """A WorkSpace for a new walk: a live one this driver made, else a new one."""
        for workspace_id, info in self.mine.items():
            if info["state"] not in (GONE, None) and not info.get("busy"):
                state = self.settle(None, workspace_id, info["state"], info["mode"], accepted=False, judge=False)
                info["state"] = state
                if state != GONE:
                    info["busy"] = True
                    return workspace_id, state, info["mode"]
        created = self.create(running_mode)
        if created is None:
            return None
        self.mine[created[0]]["busy"] = True
        return created[0], created[1], running_mode

    def halt(self, error: Exception) -> bool:
        """Keep a failure or an unjudgeable answer and halt the walk; anything else is the suite's bug."""
        if isinstance(error, (CheckFailure, Unjudgeable)):
            self.failures.append(error)
            self.halted = True
            return True
        return False

    def release(self, workspace_id: str, state: str, running_mode: str) -> None:
        info = self.mine.setdefault(workspace_id, {})
        info.update(state=state, mode=running_mode, busy=False)

    def placement(self) -> tuple[str, str]:
        """The directory and bundle new WorkSpaces go to (options first, else the first listed)."""
        if self._placement is None:
            directory, bundle = self.target.directory_id, self.target.bundle_id
            if directory is None:
                directory = _first(self.run, "DescribeWorkspaceDirectories", {}, "Directories", "DirectoryId")
            if bundle is None:
                bundle = _first(self.run, "DescribeWorkspaceBundles", {"Owner": "AMAZON"}, "Bundles", "BundleId")
            if not directory or not bundle:
                pytest.skip("unjudgeable: no registered directory or bundle to create a WorkSpace in "
                            "(pass --directory-id and --bundle-id)")
            self._placement = (directory, bundle)
        return self._placement

    def user_name(self) -> str:
        if self.target.remote:
            name = self.target.take_user_name()
            if name is None:
                pytest.skip("unjudgeable: creating a WorkSpace on a real account needs a --user-name "
                            "without a WorkSpace from this run (--user-name a,b lists several)")
            return name
        self._users += 1
        return f"cf{self.target.run_id[:10]}-{len(self.target.created)}-{self._users}"

    def create(self, running_mode: str, *, judge: bool = True):
        """Create a WorkSpace in ``running_mode`` and follow it until it settles: (id, state).

        With ``judge`` false the WorkSpace is only a means (e.g. for the precondition
        survey) and its creation is not judged.
        """
        if not self.can_create():
            return None
        directory, bundle = self.placement()
        properties = {"RunningMode": running_mode}
        request = {"DirectoryId": directory, "UserName": self.user_name(), "BundleId": bundle,
                   "WorkspaceProperties": properties, "Tags": run_tags(self.target.run_id)}
        exchange = self.run.create_workspaces([request])
        if exchange is None:
            return None  # the budget ran out
        self.last = exchange
        body = exchange.response.json if isinstance(exchange.response.json, dict) else {}
        pending = [p for p in body.get("PendingRequests") or [] if isinstance(p, dict) and p.get("WorkspaceId")]
        if exchange.response.status != 200 or not pending:
            raise Unjudgeable(f"CreateWorkspaces did not create a WorkSpace: {exchange.response.describe(300)}")
        workspace_id = pending[0]["WorkspaceId"]
        self.mine[workspace_id] = {"state": None, "mode": running_mode}
        first = pending[0].get("State")
        if judge and first is not None and first != "PENDING":
            self.judge(Verdict("state_transition", "CreateWorkspaces", "defaults.state",
                               f"CreateWorkspaces returned the new WorkSpace in {first}, not PENDING",
                               f"PendingRequests[0].State is {first!r}; {specs.rule('defaults.state')['description']}"),
                       workspace_id)
        state = self.settle("CreateWorkspaces", workspace_id, None, running_mode, accepted=True, judge=judge)
        self.mine[workspace_id]["state"] = state
        return workspace_id, state

    def action_params(self, operation: str, workspace_id: str, running_mode: str | None) -> dict:
        if operation == MODIFY:
            properties = {"RunningMode": running_mode or "AUTO_STOP"}
            if properties["RunningMode"] == "AUTO_STOP":
                properties["RunningModeAutoStopTimeoutInMinutes"] = 60
            return {"WorkspaceId": workspace_id, "WorkspaceProperties": properties}
        if operation not in ACTIONS:
            raise ValueError(f"Expected an action of {sorted(ACTIONS) + [MODIFY]} but got operation={operation!r}")
        return {ACTIONS[operation]: [{"WorkspaceId": workspace_id}]}

    def act(self, operation: str, workspace_id: str, running_mode: str | None) -> Outcome:
        """Send ``operation`` for one WorkSpace and classify the answer."""
        params = self.action_params(operation, workspace_id, running_mode)
        self.current = workspace_id
        exchange = self.run.call(operation, params)
        self.last = exchange
        outcome = self.classify(operation, workspace_id, exchange)
        if outcome.kind == "accepted":
            self.run.timing.deadlines.acted(workspace_id)  # the time in the state before counts no more
        return outcome

    def classify(self, operation: str, workspace_id: str, exchange: Exchange) -> Outcome:
        response = exchange.response
        if response.status == 200:
            body = response.json if isinstance(response.json, dict) else {}
            for entry in body.get("FailedRequests") or []:
                if isinstance(entry, dict) and entry.get("WorkspaceId") in (workspace_id, None):
                    code = entry.get("ErrorCode")
                    if code:
                        return Outcome("refused", code, str(entry.get("ErrorMessage", "")))
                    return Outcome("unexpected", None, "a FailedRequests entry without an ErrorCode")
            return Outcome("accepted")
        code = response.error_code
        if 400 <= response.status < 500 and code in self.model.refusal_codes(operation):
            return Outcome("refused", code, response.error_message or "")
        return Outcome("unexpected", code or f"HTTP {response.status}", response.describe(300))

    def describe(self, workspace_id: str) -> str:
        """The WorkSpace's state now, or GONE when DescribeWorkspaces no longer returns it."""
        params = {"WorkspaceIds": [workspace_id]}
        self.current = workspace_id
        exchange = self.run.call("DescribeWorkspaces", params)
        self.last = exchange
        body = exchange.response.json
        if exchange.response.status != 200 or not isinstance(body, dict):
            raise Unjudgeable(f"DescribeWorkspaces failed while polling {workspace_id}: "
                              f"{exchange.response.describe(300)}")
        for item in body.get("Workspaces") or []:
            if isinstance(item, dict) and item.get("WorkspaceId") == workspace_id:
                state = item.get("State")
                if state not in self.model.states:
                    raise Unjudgeable(f"{workspace_id} is in state {state!r}, which is not a WorkspaceState "
                                      "(the response_enum check reports it)")
                return state
        return GONE

    def settle(self, operation: str | None, workspace_id: str, before: str | None, running_mode: str | None,
               *, accepted: bool, judge: bool = True) -> str:
        """Poll until the WorkSpace settles (or is gone after a termination); judge the sequence.

        A state is given the deadline the run's timing fits to the target
        (conformance.timing): the rules.json deadline on a real account, seconds
        on a loopback one. Each transition seen to complete teaches that timing,
        and an accepted action's polls are recorded as sightings of its
        transitional state (judged across the run, observation.transitional_states).
        """
        until_gone = operation == "TerminateWorkspaces" and accepted
        followed = accepted and operation is not None
        entries = self.model.entry_states(operation, before, running_mode) if followed else {before}
        timing = self.run.timing
        observed: list[str] = []
        delay, longest = (LOOPBACK_BACKOFF if self.loopback else REMOTE_BACKOFF)
        polls = 0
        # Upper bounds of when the state shown began: the action for the first one (known only after
        # an accepted action), else the last poll that showed another state.
        last_poll = time.monotonic()
        began = last_poll if followed else None
        try:
            while True:
                if timing.budget.spent():
                    raise Unjudgeable(f"{timing.budget.reason} while polling {workspace_id}")
                state = self.describe(workspace_id)
                now = time.monotonic()
                if observed and observed[-1] == state:
                    polls += 1
                else:
                    if observed and began is not None and not self.model.is_settled(observed[-1]):
                        timing.deadlines.learn(now - began)
                    began = last_poll if observed else began
                    polls = 1
                last_poll = now
                since = timing.deadlines.shown(workspace_id, state, now)
                observed.append(state)
                if judge and operation:
                    self.judge(self.model.judge_sequence(operation, before, running_mode, observed,
                                                         accepted=accepted, strict=self.strict), workspace_id)
                if self.strict and followed and len(observed) == 1 and entries == {state}:
                    self.verified.add((operation, before))
                lagging = (not self.strict and accepted and before is not None and before not in entries
                           and all(s == before for s in observed))
                invisible = state == GONE and before is None and not until_gone
                if until_gone:
                    if state == GONE:
                        break
                elif self.model.is_settled(state) and not lagging and not invisible:
                    break
                if lagging or invisible:
                    deadline = timing.deadlines.deadline(*self.model.visibility_deadline())
                else:
                    deadline = timing.deadlines.deadline(*self.model.deadline(state))
                stuck = self.strict and polls > STRICT_MAX_POLLS and not self.model.is_settled(state)
                if now - since > deadline.seconds or stuck:
                    timing.deadlines.overdue(deadline.rule)
                    if not (judge and operation):
                        return state
                    self.judge(self._late(operation, before, state, observed, deadline, now - since,
                                          until_gone, lagging), workspace_id)
                if not self.strict:  # the polled clock moves on polls, not on time
                    time.sleep(delay)
                    delay = min(delay * 1.5, longest)
        except CheckFailure:
            if followed:
                self._sighted(operation, workspace_id, before, running_mode, observed)
            raise
        if followed:
            self._sighted(operation, workspace_id, before, running_mode, observed)
        if workspace_id in self.mine:
            self.mine[workspace_id]["state"] = state
        return state

    def _sighted(self, operation: str, workspace_id: str, before: str | None, running_mode: str | None,
                 observed: list[str]) -> None:
        """Record whether the polls after an accepted ``operation`` showed the transitional state it leads to."""
        states = self.model.transitional_entries(operation, before, running_mode)
        if not observed or not states:
            return
        exchange = self.last

        def evidence() -> dict:
            return {"request": exchange.request_for_report() if exchange else {},
                    "response": exchange.response.to_report() if exchange else {},
                    "reproduce": self.reproduction(workspace_id)}

        self.run.timing.sightings.record(operation, states, observed, workspace_id, before, evidence)

    def _late(self, operation, before, state, observed, deadline, waited, until_gone, lagging) -> Verdict:
        sequence = " -> ".join(observed)
        if self.strict:
            bound = f"{len(observed)} polls"
            applied = (f"the limit is {STRICT_MAX_POLLS} polls, as the emulator's polled clock shows each "
                       f"transitional state to exactly one poll")
        else:
            bound = f"{waited:.1f} s"
            applied = f"the deadline applied was {deadline.seconds:.1f} s: {deadline.how}"
        rule = deadline.rule
        if until_gone:
            return Verdict("use_after_terminate", operation, "timing.terminate" if not lagging else rule,
                           f"The terminated WorkSpace is still {state}",
                           f"TerminateWorkspaces was accepted, but after {bound} the WorkSpace is still described "
                           f"as {state}; it must become TERMINATING and then disappear "
                           f"(edge.terminate, edge.terminated.gone); {applied}. Observed: {sequence}.")
        if lagging:
            return Verdict("state_transition", operation, rule,
                           f"{operation} was accepted but the WorkSpace stayed {state}",
                           f"After {bound} the WorkSpace is still {state}, as before {operation}, although the "
                           f"action was accepted and must lead to "
                           f"{sorted(self.model.entry_states(operation, before))}; {applied}. "
                           f"Observed: {sequence}.")
        return Verdict("async_completion", operation, rule,
                       f"{state} did not settle",
                       f"After {operation} the WorkSpace stayed {state} for {bound}; {applied}. "
                       f"Observed: {sequence}.")

    def judge(self, verdict: Verdict | None, workspace_id: str | None = None) -> None:
        """Raise ``verdict`` as a CheckFailure carrying the calls that led to it."""
        if verdict is None:
            return
        exchange = self.last
        workspace_id = workspace_id or self.current
        if workspace_id:
            reproduce = self.reproduction(workspace_id)
        else:
            reproduce = exchange.reproduction() if exchange else ""
        raise checks.failure(verdict.check, verdict.rule, verdict.title, verdict.message, exchange=exchange,
                             operation=verdict.operation, reproduce=reproduce)

    def reproduction(self, workspace_id: str) -> str:
        """A boto3 program that sends the last call on ``workspace_id`` again, then polls as the run did.

        A new WorkSpace stands for this one: the run's ledger knows the fewest
        calls that bring it to where this one was before that call (see
        conformance.replay), and the polls print the states the verdict was drawn from.
        """
        last = self.run.ledger.last_call(workspace_id)
        if last is None:
            return self.last.reproduction() if self.last else ""
        setup, operation, params, polls = last
        return reproduce_call(self.target.connection, operation, params, setup, observe=(workspace_id, polls))

    # --- after termination -----------------------------------------------------------------

    def check_gone(self, workspace_id: str) -> None:
        """A terminated WorkSpace is not described and refuses every action."""
        if self.describe(workspace_id) != GONE:
            self.judge(Verdict("use_after_terminate", "DescribeWorkspaces", "edge.terminated.gone",
                               "A terminated WorkSpace is described again",
                               f"{workspace_id} was gone from DescribeWorkspaces and came back."), workspace_id)
        for operation in ("StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces"):
            if not self.implemented(operation):
                continue
            outcome = self.act(operation, workspace_id, "AUTO_STOP")
            if outcome.kind == "accepted":
                self.judge(Verdict("use_after_terminate", operation, "errors.not_found.batch_action",
                                   f"{operation} accepted for a terminated WorkSpace",
                                   f"{workspace_id} was terminated and is gone, yet {operation} answered without a "
                                   "FailedRequests entry for it."), workspace_id)
        for operation, params, rule in (
            (MODIFY, self.action_params(MODIFY, workspace_id, "AUTO_STOP"), "errors.not_found.single_resource"),
            ("DescribeTags", {"ResourceId": workspace_id}, "tags.unknown_resource"),
        ):
            if not self.implemented(operation):
                continue
            exchange = self.run.call(operation, params)
            self.last = exchange
            if exchange.response.status < 400:
                self.judge(Verdict("use_after_terminate", operation, rule,
                                   f"{operation} succeeded for a terminated WorkSpace",
                                   f"{workspace_id} was terminated and is gone, yet {operation} answered "
                                   f"HTTP {exchange.response.status}; it must fail with ResourceNotFoundException."),
                           workspace_id)

    # --- tags on a live WorkSpace ----------------------------------------------------------

    def tag_roundtrip(self, workspace_id: str, key: str, value: str) -> None:
        """CreateTags then DescribeTags: the key is there once, with the value last written."""
        params = {"ResourceId": workspace_id, "Tags": [{"Key": key, "Value": value}]}
        exchange = self.run.call("CreateTags", params)
        self.last = exchange
        if exchange.response.status != 200:
            self.judge(Verdict("tags", "CreateTags", "tags.characters",
                               f"CreateTags refused a valid tag ({exchange.response.error_code})",
                               f"The tag {key!r}={value!r} is valid by tags.characters and tags.key_length, "
                               f"yet the target answered {exchange.response.describe(300)}"), workspace_id)
        tags = self.describe_tags(workspace_id)
        matching = [tag for tag in tags if tag.get("Key") == key]
        if len(matching) != 1 or (matching[0].get("Value") or "") != value:
            self.judge(Verdict("tags", "CreateTags", "tags.overwrite",
                               f"Tag {key!r} reads back as {matching}",
                               f"After CreateTags {key!r}={value!r} DescribeTags must list the key once with that "
                               f"value (tags.overwrite; keys are case-sensitive, tags.case_sensitive), "
                               f"but it lists {matching}."), workspace_id)

    def describe_tags(self, resource_id: str) -> list[dict]:
        params = {"ResourceId": resource_id}
        exchange = self.run.call("DescribeTags", params)
        self.last = exchange
        body = exchange.response.json
        if exchange.response.status != 200 or not isinstance(body, dict) or not isinstance(body.get("TagList"), list):
            raise Unjudgeable(f"DescribeTags failed for {resource_id}: {exchange.response.describe(300)}")
        return [tag for tag in body["TagList"] if isinstance(tag, dict)]

    # --- cleanup ---------------------------------------------------------------------------

    def close(self) -> None:
        """Terminate every live WorkSpace this driver created (without waiting)."""
        live = [w for w, info in self.mine.items() if info.get("state") != GONE]
        if not live or not self.run.may_send("TerminateWorkspaces") or not self.run.implemented("TerminateWorkspaces"):
            return
        for start in range(0, len(live), 25):
            chunk = live[start:start + 25]
            self.run.call("TerminateWorkspaces", {"TerminateWorkspaceRequests": [{"WorkspaceId": w} for w in chunk]})
        for workspace_id in live:
            self.mine[workspace_id]["state"] = GONE


def _first(run, operation: str, params: dict, key: str, id_key: str) -> str | None:
    if not run.implemented(operation):
        return None
    body = run.call(operation, params).response.json
    items = body.get(key) if isinstance(body, dict) else None
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get(id_key), str):
            return item[id_key]
    return None
