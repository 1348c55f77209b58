"""A pytest plugin that records what a conformance run sends, for the suite benchmark.

Loaded with ``-p bench.recorder`` and ``BENCH_RECORD=<path>``: every request the
suite's :class:`conformance.client.Caller` sends is kept (boto3 calls as
operation and parameters, raw ones as operation, body, content type and
target header), and at the end the path receives a pickle with the requests,
their count and the wall time of the test loop (first test's setup to last
test's teardown, so pytest's start-up and collection are left out).
"""
from __future__ import annotations

import os
import pickle
import time

import pytest

ENV = "BENCH_RECORD"

_sent: list[tuple] = []
_clock: dict[str, float] = {}


def _install() -> None:
    """Wrap the Caller's two ways of sending so each request is kept as it leaves."""
    from conformance import client

    if getattr(client.Caller, "_bench_recorded", False):
        return
    call, send_raw = client.Caller.call, client.Caller.send_raw

    def recorded_call(self, operation, params):
        _sent.append(("call", operation, params))
        return call(self, operation, params)

    def recorded_send_raw(self, operation, body, **options):
        _sent.append(("raw", operation, body, options))
        return send_raw(self, operation, body, **options)

    client.Caller.call, client.Caller.send_raw = recorded_call, recorded_send_raw
    client.Caller._bench_recorded = True


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(ENV):
        _install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session: pytest.Session):
    _clock["start"] = time.perf_counter()
    yield
    _clock["end"] = time.perf_counter()


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get(ENV)
    if not path or "start" not in _clock:
        return
    record = {
        "requests": len(_sent),
        "seconds": _clock.get("end", time.perf_counter()) - _clock["start"],
        "sent": _sent,
    }
    with open(path, "wb") as handle:
        pickle.dump(record, handle)
