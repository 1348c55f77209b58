"""Coverage: which of the operations under test the target implements, found by probing each once.

An operation the target lacks is left out of the scores: its report cells are
``not_implemented``. A test that cannot run because the target lacks an
operation (its own or one it depends on) raises :class:`NotImplementedSkip`,
which carries that operation, so the report needs no reading of skip texts.
"""
from __future__ import annotations

from typing import NoReturn

import pytest

# How skips and notes tell a person that the target lacks an operation.
NOT_IMPLEMENTED = "not implemented"


class NotImplementedSkip(pytest.skip.Exception):
    """A skip because the target lacks ``operation``: the report counts its cells as not_implemented."""

    def __init__(self, operation: str, reason: str | None = None, *, why: str = "") -> None:
        if not isinstance(operation, str) or not operation:
            raise ValueError(f"Expected the name of the operation the target lacks but got operation={operation!r}")
        super().__init__(reason or f"{NOT_IMPLEMENTED}: {operation} is not implemented by the target{why}")
        self.operation = operation


def skip_not_implemented(operation: str, why: str = "") -> NoReturn:
    """Skip the running test because the target lacks ``operation``; ``why`` is added to the standard reason."""
    __tracebackhide__ = True
    raise NotImplementedSkip(operation, why=why)


class Coverage:
    """Which operations the target implements: probed once when the run starts.

    The operations found missing are kept on the caller (``caller.unimplemented``),
    where discovery also looks, so nothing asks an operation the target lacks.
    """

    def __init__(self, caller, target, guard, collector) -> None:
        self.caller = caller
        self.target = target
        self.guard = guard
        self.collector = collector
        self.answers: dict[str, str] = {}  # operation -> the last probe's response, described

    def probe(self, operations: list[str], pool) -> None:
        """Probe each of ``operations`` with requests drawn from ``pool``; record and note what is missing."""
        for operation in operations:
            implemented = True  # an operation the run may not send to (read-only mode) is not probed
            if self.guard.may_send(operation):
                # Where the guard watches, probes name only ids that exist nowhere.
                implemented = self._probe(operation, None if self.guard.watches(operation) else pool)
            self.collector.set_implemented(operation, implemented)
            if not implemented:
                self.caller.unimplemented.add(operation)
                answer = self.answers.get(operation)
                self.collector.notes.append(f"{NOT_IMPLEMENTED}: {operation}"
                                            + (f" answered {answer}" if answer else ""))

    def _probe(self, operation: str, pool) -> bool:
        from . import targets  # here, so that checks can raise NotImplementedSkip without importing targets

        answers: list = []
        implemented = targets.probe_implemented(self.caller, operation, pool, answers)
        if answers:
            self.answers[operation] = answers[-1].describe(300)
        return implemented

    def implemented(self, operation: str) -> bool:
        """Whether the target implements ``operation`` (as far as the probes showed)."""
        return operation not in self.caller.unimplemented
