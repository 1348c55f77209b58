"""A reference Amazon WorkSpaces endpoint: faithful to ``specs``, with switchable faults.

In-process::

    from emulator import Emulator
    with Emulator(polls_per_state=1) as emu:
        client = boto3.client("workspaces", endpoint_url=emu.url, region_name="us-east-1", ...)

From a shell: ``python -m emulator --port 0`` prints the URL and serves until interrupted.
"""
from __future__ import annotations

import threading

from .auth import SignatureVerifier
from .backend import Backend
from .faults import CATALOGUE, Fault
from .server import EmulatorHTTPServer

__all__ = ["CATALOGUE", "Emulator", "Fault"]


class Emulator:
    """The WorkSpaces emulator as an in-process HTTP server on an ephemeral port."""

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", transition_seconds: float = 0.5,
                 polls_per_state: int | None = None, faults=(), seed=None, access_key: str | None = None,
                 secret_key: str | None = None, region: str = "us-east-1"):
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"Expected port to be an integer in 0..65535 (0 picks a free one) but got port={port!r}")
        if (access_key is None) != (secret_key is None):
            raise ValueError("Expected access_key and secret_key together (or neither) but got "
                             f"access_key={access_key!r} and {'a' if secret_key else 'no'} secret_key")
        self.host = host
        self.port = port
        self.region = region
        self.backend = Backend(seed, transition_seconds=transition_seconds,
                               polls_per_state=polls_per_state, faults=faults, region=region)
        self.verifier = SignatureVerifier(access_key, secret_key) if access_key else None
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def seed(self) -> dict:
        """The loaded seed: ``directories``, ``bundles``, ``subnets`` and ``account_id``."""
        return self.backend.seed_data

    @property
    def faults(self) -> frozenset:
        """The fault switches in force."""
        return self.backend.faults

    @faults.setter
    def faults(self, names) -> None:
        self.set_faults(names)

    def set_faults(self, names) -> None:
        """Switch to exactly the faults ``names``; ValueError names the closest for an unknown one."""
        self.backend.set_faults(names)

    def reset(self) -> None:
        """Forget every WorkSpace and tag, back to the seeded start state (faults unchanged)."""
        self.backend.reset()

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. ``http://127.0.0.1:54321`` (only while started)."""
        if self._server is None:
            raise RuntimeError("Expected a started emulator but it is stopped: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Bind, serve in a background thread and return the URL."""
        if self._server is not None:
            return self.url
        self._server = EmulatorHTTPServer((self.host, self.port), self.backend, self.verifier)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="workspaces-emulator", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() is called from another."""
        if self._server is None:
            self._server = EmulatorHTTPServer((self.host, self.port), self.backend, self.verifier)
        self._server.serve_forever(poll_interval=0.05)

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
