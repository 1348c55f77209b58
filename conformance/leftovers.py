"""What a run leaves on its target: the WorkSpaces it made, and their removal when it ends.

The suite's own creations are recorded when they are made (see
:meth:`conformance.resources.Resources.create_workspaces`); those a generated
CreateWorkspaces made are recorded and tagged here. At the end every one of
them is terminated, on any kind of target, unless ``--keep-resources`` asks to
keep them: then a note names them and the command that removes them later.
"""
from __future__ import annotations

import json

import specs

from .cleanup import WORKSPACES, cleanup_run, deferred_signals, live_workspaces, run_tags, tagged_workspaces
from .client import TargetUnreachable

# How a note about --keep-resources begins; the terminal summary repeats such notes.
KEPT = "kept"
IN_PROCESS_KINDS = ("emulator", "moto")


class Leftovers:
    """The WorkSpaces a run made on its target, and their removal (or, with --keep-resources, a note)."""

    def __init__(self, target, caller, guard, coverage, notes: list[str], *, keep: bool = False) -> None:
        self.target = target
        self.caller = caller
        self.guard = guard
        self.coverage = coverage
        self.notes = notes  # the report's notes, which say what was removed or left
        self.keep = keep
        self.untagged: set[str] = set()  # WorkSpaces of generated requests the target would not tag

    def note_stray_creation(self, operation: str, response) -> None:
        """A generated CreateWorkspaces the target accepted: record, tag and (at the end) terminate what it made.

        Any target: a long-lived mock would otherwise keep every WorkSpace a valid
        generated request created, untagged, and each later run would be slower.
        On a remote target they also count against the budget and a note names them.
        """
        if operation not in specs.resource(WORKSPACES)["create"] or response.status != 200:
            return
        body = response.json if isinstance(response.json, dict) else {}
        if not any(isinstance(p, dict) and p.get("WorkspaceId") for p in body.get("PendingRequests") or []):
            return
        made = self.target.record_creation(0, response, generated=True)
        self._tag(made)
        if self.target.remote:
            self.notes.append(f"the target created {', '.join(made)} from a generated CreateWorkspaces that names "
                              "no live directory; they are terminated at the end of the run")

    def _tag(self, workspace_ids: list[str]) -> None:
        """Give WorkSpaces made by a generated request the run's tags, so a sweep finds them should the run die.

        Best effort: a refusal (the generated request already gave 50 tags, the
        target lacks CreateTags) or a lost answer changes nothing, because the ids
        are recorded and the end of the run terminates them by id.
        """
        tagging = specs.tag_creation()
        if tagging is None or not self.coverage.implemented(tagging["operation"]):
            self.untagged.update(workspace_ids)
            return
        tags = run_tags(self.target.run_id)
        for workspace_id in workspace_ids:
            params = {tagging["member"]: workspace_id, tagging["tags"]: tags}
            self.guard.check(tagging["operation"], json.dumps(params))
            try:
                answer = self.caller.call(tagging["operation"], params)
            except TargetUnreachable:
                answer = None
            if answer is None or answer.status != 200:
                self.untagged.add(workspace_id)

    def sweep_command(self) -> str:
        """The command that removes, later, what this run left on its target."""
        return f"python -m conformance sweep --endpoint {self.target.endpoint} --run-id {self.target.run_id}"

    def remove(self) -> None:
        """Terminate the live WorkSpaces this run created, or with --keep-resources name them; notes say which.

        A target that cannot terminate gets a note, never a failure: cleanup must
        not hide the run's results.
        """
        if not (self.target.created or self.target.uncertain):
            return
        try:
            if self.keep:
                self._keep()
            else:
                self._terminate()
        except Exception as error:
            self.notes.append(f"cleanup failed: {error}; run {self.sweep_command()}")

    def _keep(self) -> None:
        target = self.target
        if target.kind in IN_PROCESS_KINDS:
            self.notes.append(f"{KEPT}: --keep-resources keeps nothing on the in-process {target.kind}, "
                              "which stops with the run")
            return
        kept = live_workspaces(self.caller, list(dict.fromkeys(target.created)))
        if target.uncertain:  # an answer was lost: what it created is known only by its tag
            kept += [w for w in tagged_workspaces(self.caller, run_id=target.run_id) if w not in kept]
        untagged = [w for w in kept if w in self.untagged]
        self.notes.append(
            f"{KEPT}: {len(kept)} WorkSpace(s) this run created remain (--keep-resources)"
            + (f": {', '.join(kept)}" if kept else "") + f"; remove them with {self.sweep_command()}"
            + (f"; {', '.join(untagged)} carry no run tag (the target refused it), the sweep cannot find them"
               if untagged else ""))

    def _terminate(self) -> None:
        target = self.target
        terminating = specs.resource(WORKSPACES)["delete"]["operation"]
        if not self.coverage.implemented(terminating):
            self.notes.append(
                f"cleanup: the target does not implement {terminating}; the {len(target.created)} WorkSpace(s) "
                f"this run created remain: {', '.join(target.created)}")
            return
        with deferred_signals():
            result = cleanup_run(self.caller, target.run_id, target.created, scan=target.uncertain)
        if result.terminated:
            self.notes.append(f"cleanup: terminated {len(result.terminated)} WorkSpace(s) this run "
                              f"created: {', '.join(result.terminated)}")
        if result.refused:
            self.notes.append(
                f"cleanup: the target refused to terminate {', '.join(result.refused)}; run {self.sweep_command()}")
