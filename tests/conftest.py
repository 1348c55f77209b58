"""Fixtures shared by the self-tests."""
import pytest

from emulator import Emulator


@pytest.fixture
def emulator():
    """A fresh emulator on an ephemeral loopback port, one poll per transitional state."""
    server = Emulator(port=0, polls_per_state=1)
    server.start()
    yield server
    server.stop()
