"""Small loopback HTTP servers that answer every POST the same way, for self-tests."""
from __future__ import annotations

import contextlib
import http.server
import threading
import time


class CannedServer:
    """Answers every request with a fixed status, headers and body (after an optional delay)."""

    def __init__(self, status=200, body=b"{}", content_type="application/x-amz-json-1.1", delay=0.0):
        self.status, self.body, self.content_type, self.delay = status, body, content_type, delay
        self.requests: list[tuple[str, bytes]] = []
        canned = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0) or 0)
                canned.requests.append((self.headers.get("X-Amz-Target", ""), self.rfile.read(length)))
                if canned.delay:
                    time.sleep(canned.delay)
                payload = canned.body
                self.send_response(canned.status)
                if canned.content_type:
                    self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "CannedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def canned(**kwargs):
    with CannedServer(**kwargs) as server:
        yield server
