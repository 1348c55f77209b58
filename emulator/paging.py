"""Pagination with opaque NextTokens bound to the operation and filters that made them."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from .errors import ApiError

__all__ = ["Paginator"]

# Members that may change between the pages of one listing.
_UNBOUND = frozenset({"NextToken", "Limit", "MaxResults"})
# The rows one read of the backing query returns (page_cap_skips_by_limit cuts pages there).
_BATCH = 10


def _listed_id(item) -> str:
    """The id a listing shows for ``item``: a record's WorkSpace id, or a rendered structure's first *Id member."""
    if isinstance(item, dict):
        return next((str(value) for key, value in item.items() if key.endswith("Id")), "")
    return str(getattr(item, "workspace_id", ""))


class Paginator:
    """Cuts sorted listings into pages; signs tokens so foreign or forged ones are refused."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def _digest(self, operation: str, request: dict) -> str:
        bound = {k: v for k, v in request.items() if k not in _UNBOUND}
        text = json.dumps([operation, bound], sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()[:24]

    def encode(self, operation: str, request: dict, after) -> str:
        body = json.dumps({"o": operation, "f": self._digest(operation, request), "a": after},
                          separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + self._sign(body)

    def decode(self, operation: str, request: dict, token: str, faults: frozenset):
        """The sort key after which the next page starts, or None to start from the top."""
        invalid = ApiError.of_kind("invalid_token", f"The NextToken {token[:64]!r} is not valid for this request.")
        try:
            encoded, signature = token.rsplit(".", 1)
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if not hmac.compare_digest(signature, self._sign(body)):
                raise ValueError("signature")
            payload = json.loads(body)
        except (ValueError, TypeError):
            if "garbage_token_accepted" in faults:
                return None
            raise invalid from None
        if payload.get("o") != operation:
            raise invalid
        if payload.get("f") != self._digest(operation, request) and "token_not_bound_to_filters" not in faults:
            raise invalid
        return payload.get("a")

    def page(self, operation: str, request: dict, keyed_items: list, page_size: int,
             faults: frozenset = frozenset()):
        """One page of ``keyed_items`` ((sort key, item) pairs, sorted) and its NextToken or None."""
        token = request.get("NextToken")
        if token is not None and "token_ignored_with_limit" in faults and request.get("Limit") is not None:
            token = None
        start = 0
        if token is not None:
            after = self.decode(operation, request, token, faults)
            if after is not None:
                start = next((i for i, (key, _) in enumerate(keyed_items) if key > after), len(keyed_items))
                if "page_drops_item" in faults:
                    start += 1
                if "page_duplicates_item" in faults and start > 0:
                    start -= 1
        size = len(keyed_items) if "limit_ignored" in faults else max(1, page_size)
        limited = request.get("Limit", request.get("MaxResults")) is not None
        served = size
        if limited and "page_overfilled_by_peek" in faults:
            served = size + 1  # the item read ahead to learn whether more remain goes out too
        if limited and "page_cap_skips_by_limit" in faults:
            served = min(size, _BATCH)  # one batch of the backing query, while the offset moves by Limit
        chosen = keyed_items[start:start + served]
        end = start + size
        more = end < len(keyed_items)
        if limited and "last_partial_page_lost" in faults:
            # Pages counted as len // Limit: a last page shorter than Limit is never announced.
            more = end < len(keyed_items) - len(keyed_items) % size
        next_token = None
        if more:
            last = keyed_items[end - 1]  # where the page as cut ends; the next one starts after it
            if "token_marks_first_item" in faults:
                last = chosen[0]
            elif "token_names_highest_id" in faults:
                # Written as if listings were sorted by id; they are sorted by creation.
                last = max(chosen, key=lambda pair: _listed_id(pair[1]))
            next_token = self.encode(operation, request, last[0])
        elif "endless_next_token" in faults:
            last = chosen[-1][0] if chosen else (keyed_items[-1][0] if keyed_items else 0)
            next_token = self.encode(operation, request, last)
        return [item for _, item in chosen], next_token
