"""The error an operation raises to answer with an AWS JSON error body."""
from __future__ import annotations

from .contract import contract

__all__ = ["ApiError"]


class ApiError(Exception):
    """An AWS JSON 1.1 error: ``__type`` code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def of_kind(cls, kind: str, message: str) -> "ApiError":
        """The error rules.json prescribes for an error ``kind`` (e.g. ``not_found``)."""
        code, status = contract().error(kind)
        return cls(code, message, status)
