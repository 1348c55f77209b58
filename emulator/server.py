"""The HTTP front of the emulator: AWS JSON 1.1 over a threaded, keep-alive HTTP/1.1 server."""
from __future__ import annotations

import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import specs

from .errors import ApiError
from .validation import validate_request

__all__ = ["EmulatorHTTPServer", "dispatch"]

JSON_TYPE = "application/x-amz-json-1.1"
_TARGET_PREFIX = "WorkspacesService."
_HTML_500 = (b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
             b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
             b"unable to complete your request.</p>\n")
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            500: "Internal Server Error"}


def dispatch(backend, target: str | None, body: bytes) -> tuple[int, dict | bytes]:
    """Answer one request: (HTTP status, JSON result or raw HTML bytes); never raises ApiError."""
    faults = backend.faults
    try:
        if not target:
            raise ApiError.of_kind("missing_target", "Missing X-Amz-Target header: the operation is unknown.")
        operation = target[len(_TARGET_PREFIX):] if target.startswith(_TARGET_PREFIX) else None
        if operation not in backend.operations:
            raise ApiError.of_kind("unknown_operation", f"The operation {target!r} is not known to WorkspacesService.")
        if operation not in backend.handlers:
            raise ApiError.of_kind("not_implemented",
                                   f"The operation {operation} is not implemented by this emulator.")
        if operation == "DescribeWorkspacesConnectionStatus" and "unimplemented_connection_status" in faults:
            return 500, _HTML_500
        try:
            # An empty body is not a JSON document: AWS answers SerializationException.
            params = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            if "server_error_on_malformed_json" in faults:
                raise ApiError("InternalFailure", "An internal error occurred.", 500) from None
            raise ApiError.of_kind("malformed_json", "The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            if "server_error_on_malformed_json" in faults:
                raise ApiError("InternalFailure", "An internal error occurred.", 500)
            raise ApiError.of_kind("malformed_json", "Start of structure or map expected for the request body.")
        validate_request(operation, params, faults)
        return 200, backend.handle(operation, params)
    except ApiError as error:
        return error.status, _error_body(error, faults)
    except Exception as error:  # a defect of the emulator: still an AWS-shaped answer
        return 500, _error_body(ApiError("InternalFailure", f"Internal error: {type(error).__name__}", 500), faults)


def _error_body(error: ApiError, faults: frozenset) -> dict:
    body = {"__type": error.code, "message": error.message}
    if "error_without_type" in faults:
        body["code"] = body.pop("__type")
    if "error_without_message" in faults:
        body.pop("message")
    return body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "workspaces-emulator"
    sys_version = ""

    def setup(self):
        super().setup()
        # One write per response already; no delay on small packets either way.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format, *args):  # quiet: tests and benchmarks call it thousands of times
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        emulator_server = self.server
        backend = emulator_server.backend
        if emulator_server.verifier is not None:
            try:
                emulator_server.verifier.verify("POST", self.path, self.headers, body)
            except ApiError as error:
                self._send(error.status, _error_body(error, backend.faults), backend.faults)
                return
        status, result = dispatch(backend, self.headers.get("X-Amz-Target"), body)
        self._send(status, result, backend.faults)

    def do_GET(self):
        self._send(400, _error_body(ApiError.of_kind("unknown_operation",
                                                      "WorkSpaces answers POST / with an X-Amz-Target header."),
                                    self.server.backend.faults), self.server.backend.faults)

    def _send(self, status: int, result, faults: frozenset) -> None:
        if isinstance(result, bytes):
            payload, content_type = result, "text/html; charset=utf-8"
        else:
            if status == 400 and "not_found_http_404" in faults and result.get("__type", result.get("code")) == "ResourceNotFoundException":
                status = 404
            payload, content_type = json.dumps(result, separators=(",", ":")).encode(), JSON_TYPE
        if "content_type_html" in faults:
            content_type = "text/html; charset=utf-8"
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                f"x-amzn-RequestId: {uuid.uuid4()}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"Date: {self.date_time_string()}\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)
        self.log_request(status)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to one backend; tracks connections so stop() is prompt."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, backend, verifier=None):
        self.backend = backend
        self.verifier = verifier
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
