"""State rules: preconditions, transitions, completion within deadlines, use after terminate.

Three ways in, judged by the same model (``strategies.lifecycle``):

- a *journey*: one WorkSpace created, modified, stopped, started, rebooted,
  rebuilt and terminated, each effect followed until it settles;
- a *survey*: every action tried in every state the suite can reach, refused
  or accepted as rules.json's preconditions say;
- the Hypothesis state machine, which walks the same actions at random; on
  the emulator's polled clock a failing walk replays exactly and is shrunk to
  the shortest, elsewhere the walks halt at the first failure.

The journey and the survey run once per session, when a test first needs
them, and are shared through the ``scenarios`` fixture by the tests of their
operations, so a real account pays for each WorkSpace once.
"""
from __future__ import annotations

import pytest
from hypothesis import Phase, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

import specs
from strategies.lifecycle import GONE, Verdict, WalksEnded, lifecycle_machine

from . import batches
from .behaviour import MODIFY, LifecycleDriver, Unjudgeable, require
from .checks import CheckFailure, batch_shape, judge_all
from .cleanup import run_tags
from .coverage import NotImplementedSkip
from .timing import SIGHTING_RULE

TRANSITION_OPERATIONS = ["CreateWorkspaces", MODIFY, "StopWorkspaces", "StartWorkspaces", "RebootWorkspaces",
                         "RebuildWorkspaces"]
PRECONDITION_OPERATIONS = ["StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces", MODIFY]
# What each journey step needs done before it, beyond its own operation.
NEEDS = {
    "StartWorkspaces": ("StopWorkspaces",),
    "DescribeWorkspacesConnectionStatus": ("StopWorkspaces",),
}


class Findings:
    """What a shared scenario found, per operation: failures, and whether the operation was exercised."""

    def __init__(self) -> None:
        self.failures: dict[str, list[CheckFailure]] = {}
        self.exercised: set[str] = set()
        self.blocked: dict[str, str | NotImplementedSkip] = {}  # why an operation was never exercised

    def add(self, failure: CheckFailure) -> None:
        self.failures.setdefault(failure.operation, []).append(failure)

    def raise_for(self, operation: str, checks: tuple[str, ...]) -> None:
        """Raise the failures of ``operation`` under ``checks``, or skip if it was never exercised."""
        found = [f for f in self.failures.get(operation, []) if f.check in checks]
        if len(found) == 1:
            raise found[0]
        if found:
            raise ExceptionGroup(f"{len(found)} lifecycle failures for {operation}", found)
        if operation not in self.exercised:
            reason = self.blocked.get(operation, f"unjudgeable: {operation} was never reached")
            if isinstance(reason, NotImplementedSkip):  # a fresh one: findings are shared by several tests
                raise NotImplementedSkip(reason.operation, reason.msg)
            pytest.skip(reason)


def _step(findings: Findings, operation: str, run_step) -> bool:
    """Run one scenario step; record its failure. Returns whether the scenario may go on."""
    try:
        run_step()
    except CheckFailure as failure:
        findings.add(failure)
        findings.exercised.add(operation)
        return False
    except Unjudgeable as why:
        findings.blocked[operation] = f"unjudgeable: {why}"
        return False
    findings.exercised.add(operation)
    return True


def _block_rest(findings: Findings, operations, reason: str) -> None:
    for operation in operations:
        if operation not in findings.exercised:
            findings.blocked.setdefault(operation, reason)


def journey(run) -> Findings:
    """Create, modify, stop (and check the connection state), start, reboot, rebuild, terminate."""
    findings = Findings()
    driver = LifecycleDriver(run)
    order = TRANSITION_OPERATIONS + ["DescribeWorkspacesConnectionStatus", "TerminateWorkspaces"]
    if not driver.can_create():
        _block_rest(findings, order, "budget: no WorkSpace may be created (see --max-workspaces)"
                    if driver.implemented("CreateWorkspaces") else
                    NotImplementedSkip("CreateWorkspaces", "not implemented: the journey needs CreateWorkspaces"))
        return findings
    box = {}
    try:
        if not _step(findings, "CreateWorkspaces", lambda: box.update(ws=driver.create("AUTO_STOP"))):
            # A creation judged wrong may still have made a WorkSpace the journey can go on with.
            made = list(driver.mine)
            state = driver.settle(None, made[0], None, "AUTO_STOP", accepted=False, judge=False) if made else None
            if state not in ("AVAILABLE",):
                _block_rest(findings, order, "blocked: the journey's WorkSpace could not be created and settled")
                return findings
            box["ws"] = (made[0], state)
        workspace_id, state = box["ws"]
        mode = "AUTO_STOP"

        def act(operation, expect_from):
            def run_step():
                nonlocal state
                if state != expect_from:
                    raise Unjudgeable(f"the journey's WorkSpace is {state}, not {expect_from}")
                outcome = driver.act(operation, workspace_id, mode)
                driver.judge(driver.model.judge_outcome(operation, state, mode, outcome), workspace_id)
                state = driver.settle(operation, workspace_id, expect_from, mode, accepted=True)
            return run_step

        plan = [
            (MODIFY, "AVAILABLE"),
            ("StopWorkspaces", "AVAILABLE"),
            ("DescribeWorkspacesConnectionStatus", "STOPPED"),
            ("StartWorkspaces", "STOPPED"),
            ("RebootWorkspaces", "AVAILABLE"),
            ("RebuildWorkspaces", "AVAILABLE"),
        ]
        for operation, expect_from in plan:
            missing = [op for op in (operation, *NEEDS.get(operation, ())) if not driver.implemented(op)]
            if missing:
                findings.blocked[operation] = NotImplementedSkip(
                    missing[0], f"not implemented: {missing[0]} is not implemented by the target"
                    + (f" (needed before {operation})" if missing[0] != operation else ""))
                continue
            if operation == "DescribeWorkspacesConnectionStatus":
                _step(findings, operation, lambda: connection_state(driver, workspace_id, state))
                continue
            if not _step(findings, operation, act(operation, expect_from)):
                try:
                    state = driver.settle(None, workspace_id, state, mode, accepted=False, judge=False)
                except Unjudgeable:
                    state = None
        if not driver.implemented("TerminateWorkspaces"):
            findings.blocked["TerminateWorkspaces"] = NotImplementedSkip("TerminateWorkspaces")
        else:
            def terminate():
                nonlocal state
                outcome = driver.act("TerminateWorkspaces", workspace_id, mode)
                if state is not None:
                    driver.judge(driver.model.judge_outcome("TerminateWorkspaces", state, mode, outcome), workspace_id)
                state = driver.settle("TerminateWorkspaces", workspace_id, state, mode,
                                      accepted=outcome.kind == "accepted")
                driver.mine[workspace_id]["state"] = state
                if state == GONE:
                    driver.check_gone(workspace_id)
            _step(findings, "TerminateWorkspaces", terminate)
    finally:
        driver.close()
    return findings


def connection_state(driver: LifecycleDriver, workspace_id: str, state: str) -> None:
    """DescribeWorkspacesConnectionStatus agrees with the WorkSpace's state (rules.json ``connection``)."""
    params = {"WorkspaceIds": [workspace_id]}
    exchange = driver.run.call("DescribeWorkspacesConnectionStatus", params)
    driver.last = exchange
    body = exchange.response.json
    if exchange.response.status != 200 or not isinstance(body, dict):
        raise Unjudgeable(f"DescribeWorkspacesConnectionStatus failed: {exchange.response.describe(300)}")
    for entry in body.get("WorkspacesConnectionStatus") or []:
        if not isinstance(entry, dict) or entry.get("WorkspaceId") != workspace_id:
            continue
        connection = entry.get("ConnectionState")
        for rule in specs.rules()["connection"]:
            if rule["kind"] == "state_implies" and state in rule["states"] and connection not in rule["connection_states"]:
                driver.judge(Verdict("state_transition", "DescribeWorkspacesConnectionStatus", rule["id"],
                                     f"ConnectionState {connection} for a {state} WorkSpace",
                                     f"{rule['description']} The target reported {connection!r} for {workspace_id}."),
                             workspace_id)
            if (rule["kind"] == "connection_requires_states" and connection in rule["connection_states"]
                    and state not in rule["states"]):
                driver.judge(Verdict("state_transition", "DescribeWorkspacesConnectionStatus", rule["id"],
                                     f"ConnectionState {connection} for a {state} WorkSpace",
                                     f"{rule['description']} The WorkSpace is {state}, yet the target reported "
                                     f"{connection!r}."), workspace_id)


@pytest.mark.conformance(checks=["state_transition", "async_completion"], operations=TRANSITION_OPERATIONS)
def test_transitions(operation, check, target_run, scenarios):
    """Each action's effect, followed until it settles, is a path of the state graph within the deadlines."""
    parts = [lambda: journey_of(operation, check, target_run, scenarios)]
    if (operation, check) == STATE_MACHINE_CELL:
        parts.append(lambda: state_machine(target_run))
    if check == "state_transition" and batch_shape(operation) is not None:
        # What a batch answer reports failed or pending agrees with what the target then holds.
        parts.append(lambda: batches.consistency(target_run, operation))
    if check == "state_transition":
        # Last: by now the journey (and, in the first cell, the state machine) has followed the action.
        parts.append(lambda: transitional_states_seen(scenarios, operation))
    judge_all(*parts)


def journey_of(operation, check, target_run, scenarios):
    """The lifecycle journey's verdict on one action and check."""
    require(target_run, "CreateWorkspaces", "DescribeWorkspaces", operation, purpose="the lifecycle journey")
    scenarios.journey().raise_for(operation, (check,))


def transitional_states_seen(scenarios, operation):
    """Some poll after an accepted ``operation`` showed the transitional state it leads to (loopback, strict tier).

    A real endpoint's states last minutes, but its polls are minutes apart too,
    so there a missed state is forgiven; a loopback target is polled right
    after the action, and one that never once shows the state skips it
    (observation.transitional_states).
    """
    run = scenarios.run
    if run.target.remote and specs.rule(SIGHTING_RULE)["scope"] == "loopback":
        pytest.skip(f"unjudgeable: a real target's polls may miss a transitional state; "
                    f"{SIGHTING_RULE} is judged on loopback targets")
    if "strict" not in run.options.tiers():
        pytest.skip(f"tier: {SIGHTING_RULE} is a rule of the strict tier")
    scenarios.journey()
    failure = run.timing.sightings.failure(operation, target=f"the {run.target.kind} target {run.target.endpoint}")
    if failure is not None:
        raise failure
    if not run.timing.sightings.followed(operation):
        pytest.skip(f"unjudgeable: {operation} was never accepted and followed by polls")


@pytest.mark.conformance(checks=["state_transition"], operations=["TerminateWorkspaces"])
def test_termination_path(operation, target_run, scenarios):
    """TerminateWorkspaces leads along the state graph, through TERMINATING, which a loopback target must show."""
    require(target_run, "CreateWorkspaces", "DescribeWorkspaces", purpose="a WorkSpace to terminate")
    judge_all(lambda: scenarios.journey().raise_for(operation, ("state_transition",)),
              lambda: transitional_states_seen(scenarios, operation))


@pytest.mark.conformance(checks=["state_transition"], operations=["DescribeWorkspacesConnectionStatus"])
def test_connection_state_follows_workspace_state(operation, target_run, scenarios):
    """A STOPPED WorkSpace's connection state is UNKNOWN; CONNECTED only while running."""
    require(target_run, "CreateWorkspaces", "StopWorkspaces", purpose="a STOPPED WorkSpace")
    scenarios.journey().raise_for(operation, ("state_transition",))


@pytest.mark.conformance(checks=["use_after_terminate"], operations=["TerminateWorkspaces"])
def test_use_after_terminate(operation, target_run, scenarios):
    """A terminated WorkSpace goes TERMINATING, disappears, and every later action is refused."""
    require(target_run, "CreateWorkspaces", "DescribeWorkspaces", purpose="a WorkSpace to terminate")
    scenarios.journey().raise_for(operation, ("use_after_terminate", "async_completion"))


# --- the precondition survey -------------------------------------------------------------------

# How to bring a WorkSpace from a settled state into each probed state: (from, action).
ROUTES = {
    "STOPPED": ("AVAILABLE", "StopWorkspaces"),
    "STOPPING": ("AVAILABLE", "StopWorkspaces"),
    "STARTING": ("STOPPED", "StartWorkspaces"),
    "REBOOTING": ("AVAILABLE", "RebootWorkspaces"),
    "REBUILDING": ("AVAILABLE", "RebuildWorkspaces"),
    "AVAILABLE": ("STOPPED", "StartWorkspaces"),
}


class Survey:
    """Tries each action in each reachable state and judges acceptance against the preconditions."""

    def __init__(self, run, scenarios: "Scenarios") -> None:
        self.run = run
        self.scenarios = scenarios
        self.driver = LifecycleDriver(run)
        self.findings = Findings()
        self.workspace: str | None = None
        self.state: str | None = None
        self.mode = "AUTO_STOP"

    def trusted(self, action: str) -> bool:
        """Whether the state right after ``action`` is known without a poll.

        Only on the polled clock, and only when the journey saw ``action`` enter
        the state the graph names: otherwise a probe would be judged in a state
        the WorkSpace may not be in (the journey reports the transition itself).
        """
        if not self.driver.strict:
            return False
        seen = self.scenarios.journey()
        failed = [f for f in seen.failures.get(action, []) if f.check == "state_transition"]
        return action in seen.exercised and not failed

    def settle(self) -> None:
        self.state = self.driver.settle(None, self.workspace, self.state, self.mode, accepted=False, judge=False)

    def reach(self, target: str, depth: int = 0) -> bool:
        """Bring the WorkSpace to ``target``; transitional targets only on the polled clock."""
        if self.state == target:
            return True
        if self.state is not None and not self.driver.model.is_settled(self.state):
            self.settle()
            if self.state == target:
                return True
        settled = self.driver.model.is_settled(target)
        route = ROUTES.get(target)
        if depth > 3 or route is None or (not settled and not self.trusted(route[1])):
            return False
        start, action = route
        if not self.driver.implemented(action) or not self.reach(start, depth + 1):
            return False
        outcome = self.driver.act(action, self.workspace, self.mode)
        if outcome.kind != "accepted":
            self.settle()
            return False
        if settled:
            self.settle()
            return self.state == target
        self.state = target  # the polled clock holds it there until the next DescribeWorkspaces
        return True

    def probe(self, operation: str, state: str) -> None:
        """Send ``operation`` to the WorkSpace in ``state`` and judge acceptance or refusal."""
        if not self.driver.implemented(operation) or not self.reach(state):
            return
        outcome = self.driver.act(operation, self.workspace, self.mode)
        verdict = self.driver.model.judge_outcome(operation, state, self.mode, outcome)
        if verdict is not None and not self.driver.strict and outcome.kind != "accepted":
            # A real endpoint may have moved on by itself: judge a refusal only if the state held.
            if self.driver.describe(self.workspace) != state:
                verdict = None
        self.findings.exercised.add(operation)
        try:
            self.driver.judge(verdict, self.workspace)
        except CheckFailure as failure:
            self.findings.add(failure)
        if outcome.kind == "accepted":
            self.settle()

    def run_all(self) -> Findings:
        driver = self.driver
        if not driver.can_create():
            for operation in PRECONDITION_OPERATIONS:
                self.findings.blocked[operation] = "budget: no WorkSpace may be created (see --max-workspaces)"
            return self.findings
        try:
            self._survey()
        except Unjudgeable as why:
            for operation in PRECONDITION_OPERATIONS:
                self.findings.blocked.setdefault(operation, f"unjudgeable: {why}")
        except CheckFailure as failure:  # raised while reaching a state, not by a probe
            for operation in PRECONDITION_OPERATIONS:
                self.findings.blocked.setdefault(operation, f"blocked: {failure.title}")
        finally:
            driver.close()
        return self.findings

    def _survey(self) -> None:
        driver = self.driver
        created = self._create_without_settling() if self.trusted("CreateWorkspaces") else None
        if created:
            # Probe PENDING before the first poll: refusals leave it PENDING, so all can be tried.
            for operation in PRECONDITION_OPERATIONS:
                if self.state != "PENDING":
                    break
                self.probe(operation, "PENDING")
            self.settle()
        else:
            found = driver.create(self.mode, judge=False)
            if found is None:
                return
            self.workspace, self.state = found
        phases = ["AVAILABLE", "STOPPING", "STOPPED", "STARTING", "REBOOTING", "REBUILDING", "AVAILABLE"]
        for phase in phases:
            for operation in PRECONDITION_OPERATIONS:
                self.probe(operation, phase)
        if driver.can_create():
            # Start and Stop also depend on the running mode: an ALWAYS_ON WorkSpace refuses both.
            found = driver.create("ALWAYS_ON", judge=False)
            if found is not None:
                self.workspace, self.state = found
                self.mode = "ALWAYS_ON"
                for operation in ("StopWorkspaces", "StartWorkspaces"):
                    self.probe(operation, "AVAILABLE")

    def _create_without_settling(self) -> bool:
        driver = self.driver
        directory, bundle = driver.placement()
        params = {"Workspaces": [{"DirectoryId": directory, "UserName": driver.user_name(), "BundleId": bundle,
                                  "WorkspaceProperties": {"RunningMode": self.mode},
                                  "Tags": run_tags(driver.target.run_id)}]}
        exchange = self.run.create_workspaces(params["Workspaces"])
        if exchange is None:
            return False  # the budget ran out
        body = exchange.response.json if isinstance(exchange.response.json, dict) else {}
        pending = [p for p in body.get("PendingRequests") or [] if isinstance(p, dict) and p.get("WorkspaceId")]
        if not pending:
            raise Unjudgeable(f"CreateWorkspaces did not create a WorkSpace: {exchange.response.describe(300)}")
        self.workspace = pending[0]["WorkspaceId"]
        driver.mine[self.workspace] = {"state": "PENDING", "mode": self.mode}
        self.state = "PENDING"
        return True


class Scenarios:
    """The session's shared lifecycle scenarios: each runs once, when a test first asks for its findings.

    Lazily, so that a test which skips (an operation the target lacks, a read-only
    run) costs no WorkSpace, and the survey asks for the journey only where it
    trusts what the journey saw (on the polled clock). Findings are kept once a
    scenario ran to its end; one that skipped (no directory to create a
    WorkSpace in) is tried again by the next test that needs it.
    """

    def __init__(self, run) -> None:
        self.run = run
        self._journey: Findings | None = None
        self._survey: Findings | None = None

    def journey(self) -> Findings:
        if self._journey is None:
            self._journey = journey(self.run)
        return self._journey

    def survey(self) -> Findings:
        if self._survey is None:
            self._survey = Survey(self.run, self).run_all()
        return self._survey


@pytest.fixture(scope="session")
def scenarios(conformance) -> Scenarios:
    """The journey and the survey of this session's run, shared by the tests of their operations."""
    return Scenarios(conformance)


@pytest.mark.conformance(checks=["state_precondition"], operations=PRECONDITION_OPERATIONS)
def test_state_preconditions(operation, target_run, scenarios):
    """Each action is accepted exactly in the states (and running modes) rules.json allows."""
    require(target_run, "CreateWorkspaces", "DescribeWorkspaces", operation, purpose="the precondition survey")
    scenarios.survey().raise_for(operation, ("state_precondition",))


# --- the state machine -------------------------------------------------------------------------


def machine_settings(replayable: bool, remote: bool) -> settings:
    """The profile's settings, capped so one run of the machine stays short, and switched by the target.

    Where walks replay (the emulator's polled clock) a failing walk is shrunk as
    the profile says; elsewhere no walk fails inside Hypothesis (the walks halt),
    and the shrink and explain phases are left out so that nothing could ever
    replay a walk on a target whose state moved on.
    """
    current = settings()
    phases = current.phases
    if not replayable:
        phases = [phase for phase in phases if phase not in (Phase.shrink, Phase.explain)]
    return settings(
        current,
        max_examples=1 if remote else min(current.max_examples, 15),
        # Every step of a walk acts (the rules' preconditions leave none idle), and a shrink
        # replays failing walks up to MAX_REPLAYS times: ten steps cost about what fifteen partly
        # idle ones did, shrink in half the time (measured), and still reach every state an
        # action leads to.
        stateful_step_count=min(current.stateful_step_count, 4 if remote else 10),
        deadline=None,  # a step's duration is the target's: it waits for answers and polls
        phases=phases,
        # Stop at the first failing walk and shrink it alone: the journey and the survey
        # judge every operation in its own report cell already.
        report_multiple_bugs=False,
        # A stored walk would replay on the next run's target, which may be another one.
        database=None,
        # The health checks stay on: they time Hypothesis's draws, not the calls and polls of a
        # step, and none fails on the emulator, moto or a forced-remote loopback target (measured).
    )


# The report cell the random walks count in.
STATE_MACHINE_CELL = ("CreateWorkspaces", "state_transition")
# Walks shrinking may replay after the first failure. Each costs a WorkSpace or more and a few
# dozen calls on the emulator; a hundred bring the failing walks of the emulator's lifecycle faults
# down to two to five steps in at most a few seconds, where an unbounded shrink replays up to 500
# walks and, for some faults, runs out of the run's budget of WorkSpaces (measured).
MAX_REPLAYS = 100


def state_machine(target_run, *, overrides: dict | None = None, max_replays: int = MAX_REPLAYS):
    """Random walks over the lifecycle; a failure names the operation and rule at fault.

    On the emulator's polled clock the failure is the one of the shortest walk
    Hypothesis found, and its message lists that walk's steps; elsewhere it is
    the first failure, where the walks halted. ``overrides`` change the
    machine's settings, ``max_replays`` its cap on the walks a shrink replays (self-tests).
    """
    require(target_run, "CreateWorkspaces", "DescribeWorkspaces", purpose="the lifecycle state machine")
    driver = LifecycleDriver(target_run)
    if not driver.can_create() and not driver.mine:
        pytest.skip("budget: no WorkSpace may be created (see --max-workspaces)")
    machine = lifecycle_machine(driver, max_replays=max_replays)
    chosen = settings(machine_settings(machine.replayable, target_run.target.remote), **(overrides or {}))
    try:
        run_state_machine_as_test(machine, settings=chosen)
    except WalksEnded as ended:
        if ended.failure is not None:
            raise_shrunk(ended.failure, f"shrunk by Hypothesis until the cap of {max_replays} replays")
    except CheckFailure as failure:
        raise_shrunk(failure, "shrunk by Hypothesis")
    except Flaky:
        if machine.replayable and machine.shortest is not None:
            # A replay no longer failed: the run's budget or --max-duration ran out while shrinking.
            raise_shrunk(machine.shortest, "shrunk by Hypothesis until a replay no longer failed")
        if machine.replayable:
            raise
        # The target answered the same calls differently in two walks (its clock is not ours,
        # or the run's budget ran out), and Hypothesis stops: what the walks judged stands.
    finally:
        driver.close()
    for failure in driver.failures:
        if isinstance(failure, Unjudgeable):
            pytest.skip(f"unjudgeable: {failure}")
        raise failure


WALK_HEADING = "The shortest failing walk of the lifecycle state machine"


def raise_shrunk(failure, how: str) -> None:
    """Raise the failure of a shrunk walk with the walk's steps in its message.

    The failure's own reproduction rebuilds the WorkSpace and sends the failing
    call again; the walk (each step with what it left) says how the machine
    got there. A failure without a walk (an error of the suite) is raised as it is.
    """
    walk = getattr(failure, "walk", None)
    if isinstance(failure, CheckFailure) and walk:
        listing = "\n".join(f"    {line}" for line in walk)
        failure.message = (f"{failure.message}\n\n{WALK_HEADING} ({len(walk)} steps, {how}; the emulator's "
                           f"polled clock replays it exactly):\n{listing}")
        failure.args = (failure.render(),)
    raise failure
