"""Sending requests to the target: through boto3 or raw, guarded, and returned as exchanges ready to judge.

Every exchange carries a way to write its reproduction (rebuilding, on a fresh
target, what its request depended on). A request that gets no answer at all is
a failure of ``not_a_server_error``; a throttling answer that outlasted the
retries skips the test, since it is the account's limit and no conformance result.
"""
from __future__ import annotations

import json

import pytest

import specs
from strategies import to_boto3
from strategies.wire import boto3_sends_exactly, encode

from . import checks
from .checks import THROTTLING_CODES, CheckFailure, Exchange
from .client import TargetUnreachable, reproduce_call, reproduce_raw


class Sender:
    """Sends requests to one target and turns each answer into an :class:`Exchange`.

    ``guard`` (a :class:`~conformance.safety.RemoteGuard`) sees every request
    before it leaves; ``leftovers`` (a :class:`~conformance.leftovers.Leftovers`)
    every answer to a request the suite generated, so what such a request
    created is removed at the end of the run.
    """

    def __init__(self, caller, target, ledger, guard, leftovers) -> None:
        self.caller = caller
        self.target = target
        self.ledger = ledger
        self.guard = guard
        self.leftovers = leftovers
        # The ids the target was last seen to hold: an exchange names them to tell a live reference from an unknown one.
        self.known_ids: frozenset | None = None
        self._installed_model_differs = specs.drift() is not None

    def call(self, operation: str, params: dict, *, own_create: bool = False) -> Exchange:
        """Send ``params`` to ``operation`` through boto3 and return the exchange.

        ``own_create`` marks the suite's own CreateWorkspaces (see :meth:`RemoteGuard.check`).
        """
        if self._installed_model_differs and not boto3_sends_exactly(operation, params):
            # The installed botocore's model lacks a member or shape the contract has (an older
            # release): boto3 would drop or refuse it, so the request goes out as the contract writes it.
            return self.send_raw(operation, encode(params), None, params, own_create=own_create)
        self.guard.check(operation, json.dumps(params, default=str), own_create=own_create)
        try:
            response = self.caller.call(operation, to_boto3(operation, params))
        except TargetUnreachable as error:
            reproduce = reproduce_call(self.target.connection, operation, params, self.ledger.setup(operation, params))
            raise _no_answer(operation, {"operation": operation, "params": params}, reproduce, error)
        writer = self._writer(lambda setup: reproduce_call(self.target.connection, operation, params, setup))
        return self._answered(Exchange(operation, params, response, writer=writer, known_ids=self.known_ids),
                              own_create)

    def send_raw(self, operation: str, body: bytes, violation, params, *, own_create: bool = False) -> Exchange:
        """Send ``body`` to ``operation`` as it is (signed), for requests boto3 cannot carry."""
        self.guard.check(operation, body.decode("utf-8", "replace"), own_create=own_create)
        try:
            response = self.caller.send_raw(operation, body)
        except TargetUnreachable as error:
            setup = self.ledger.setup(operation, params if isinstance(params, dict) else {})
            reproduce = reproduce_raw(self.target.connection, operation, body, setup=setup)
            request = {"operation": operation, "raw_body": body.decode("utf-8", "replace")[:4000]}
            raise _no_answer(operation, request, reproduce, error)
        writer = self._writer(lambda setup: reproduce_raw(self.target.connection, operation, body, setup=setup))
        return self._answered(Exchange(operation, params, response, raw=True, body=body, violation=violation,
                                       writer=writer, known_ids=self.known_ids), own_create)

    def send_invalid(self, invalid) -> Exchange:
        """Send an ``InvalidRequest`` through boto3, or raw when boto3 cannot carry it."""
        if invalid.raw:
            return self.send_raw(invalid.operation, invalid.body, invalid.violation, invalid.params)
        exchange = self.call(invalid.operation, invalid.params)
        exchange.violation = invalid.violation
        return exchange

    def send_case(self, case) -> Exchange:
        """Send a boundary case (raw or through boto3); an invalid one carries its violation."""
        if case.raw:
            return self.send_raw(case.operation, json.dumps(case.params).encode(), case.violation, case.params)
        exchange = self.call(case.operation, case.params)
        exchange.violation = case.violation
        return exchange

    def throttling_note(self) -> str | None:
        """A note for the report when answers were throttled (retried, never judged)."""
        if not self.caller.throttled:
            return None
        return (f"throttling: {self.caller.throttled} answers were throttling errors, retried with backoff; "
                "they are not conformance results")

    def _answered(self, exchange: Exchange, own_create: bool) -> Exchange:
        if not own_create:
            self.leftovers.note_stray_creation(exchange.operation, exchange.response)
        response = exchange.response
        if response.error_code in THROTTLING_CODES:
            pytest.skip(f"throttled: {exchange.operation} was still answered {response.error_code} after "
                        f"{self.target.connection.throttle_retries} retries with backoff; lower --rate-limit")
        return exchange

    def _writer(self, render):
        """What writes the last exchange's reproduction: ``render`` after the setup it needed (see Exchange.writer)."""
        setup = self.caller.last_setup()

        def write(listing) -> str:
            if setup is None or listing is True:
                return render(setup)
            return render(setup.keeping(frozenset(listing or ())))
        return write


def _no_answer(operation: str, request: dict, reproduce: str, error: Exception) -> CheckFailure:
    """The failure of a request that got no HTTP response at all."""
    return checks.failure("not_a_server_error", "errors.server_error", "No answer from the target",
                          f"The request got no HTTP response: {error}", operation=operation, reproduce=reproduce,
                          request=request)
