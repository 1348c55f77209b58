"""SigV4 verification of received requests with botocore's own signer."""
from __future__ import annotations

import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .errors import ApiError

__all__ = ["SignatureVerifier"]

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)")


class SignatureVerifier:
    """Recomputes a request's SigV4 signature for one access key and compares it."""

    def __init__(self, access_key: str, secret_key: str, service: str = "workspaces"):
        if not access_key or not secret_key:
            raise ValueError("Expected both access_key and secret_key for signature verification "
                             f"but got access_key={access_key!r}, secret_key={'***' if secret_key else secret_key!r}")
        self.access_key = access_key
        self.credentials = Credentials(access_key, secret_key)
        self.service = service

    def verify(self, method: str, path: str, headers, body: bytes) -> None:
        """Raise the 403 ApiError AWS gives for a missing, foreign or wrong signature."""
        authorization = headers.get("Authorization")
        if not authorization:
            raise ApiError.of_kind("missing_authentication", "Missing Authentication Token")
        match = _AUTHORIZATION.match(authorization)
        timestamp = headers.get("X-Amz-Date")
        if not match or not timestamp:
            raise ApiError.of_kind("invalid_signature",
                                   "Authorization header requires 'Credential', 'Signature', 'SignedHeaders' "
                                   "and an X-Amz-Date header.")
        if match["key"] != self.access_key:
            raise ApiError.of_kind("unrecognized_client", "The security token included in the request is invalid.")
        signed = match["headers"].split(";")
        request = AWSRequest(method=method, url=f"http://{headers.get('Host', '')}{path}",
                             headers={name: headers.get(name, "") for name in signed}, data=body)
        request.context["timestamp"] = timestamp
        signer = SigV4Auth(self.credentials, match["service"], match["region"])
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if match["service"] != self.service or not hmac.compare_digest(expected, match["signature"]):
            raise ApiError.of_kind(
                "invalid_signature",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
