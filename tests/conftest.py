"""Fixtures shared by the self-tests."""
import pytest

from emulator import Emulator
from tests.emulator_env import Env


@pytest.fixture
def emulator():
    """A fresh emulator on an ephemeral loopback port, one poll per transitional state."""
    server = Emulator(port=0, polls_per_state=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def polled_emulator():
    """An emulator for one test module, in the polled mode (one describe per transitional state)."""
    with Emulator(polls_per_state=1) as running:
        yield running


@pytest.fixture
def env(polled_emulator):
    """An Env on the module's emulator, reset to its seeded state and without faults."""
    polled_emulator.set_faults(())
    polled_emulator.reset()
    yield Env(polled_emulator)
    polled_emulator.set_faults(())
