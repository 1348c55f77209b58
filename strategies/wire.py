"""What boto3 would put on the wire for a request, and the conversion of our params for it.

Requests are JSON-able dicts with blobs as base64 strings (as the specs
describe the wire). boto3 wants bytes for blobs, and with
``Config(parameter_validation=False)`` its serializer sends what it is given
except where it converts (a string where a list belongs becomes a list of
characters, a dict there becomes its keys) or fails. :func:`boto3_sends_exactly`
serialises with botocore's own serializer for :data:`PROTOCOL` (awsJson1_1) and says whether the
body equals the params; when it does not, the raw sender must send the bytes.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json

__all__ = ["PROTOCOL", "service_model", "to_boto3", "botocore_body", "boto3_sends_exactly", "encode"]

# The wire protocol the suite speaks, named here rather than read from the model: the model lists
# several (botocore >= 1.44: smithy-rpc-v2-cbor first, then json) and its order is not our choice.
PROTOCOL = "json"


@functools.lru_cache(maxsize=None)
def service_model():
    """botocore's WorkSpaces service model (loaded once)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("workspaces")


@functools.lru_cache(maxsize=None)
def _serializer():
    from botocore.serialize import create_serializer

    return create_serializer(PROTOCOL, include_validation=False)


def encode(params) -> bytes:
    """The JSON body for ``params``, as botocore's serializer writes it."""
    return json.dumps(params).encode("utf-8")


def to_boto3(operation: str, params):
    """``params`` as boto3 takes them: base64 strings of blob members decoded to bytes."""
    shape = service_model().operation_model(operation).input_shape
    return _convert(params, shape)


def _convert(value, shape):
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {
            k: _convert(v, shape.members.get(k)) if k in shape.members else v
            for k, v in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [_convert(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _convert(v, shape.value) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
        # Only a canonical encoding round-trips; anything else stays a string.
        return decoded if base64.b64encode(decoded).decode("ascii") == value else value
    return value


def botocore_body(operation: str, params) -> bytes | None:
    """The body botocore's serializer makes of ``to_boto3(params)``, None if it fails."""
    try:
        request = _serializer().serialize_to_request(
            to_boto3(operation, params), service_model().operation_model(operation)
        )
    except Exception:  # any failure means boto3 cannot send it
        return None
    body = request["body"]
    return body if isinstance(body, bytes) else body.encode("utf-8")


def boto3_sends_exactly(operation: str, params) -> bool:
    """Whether boto3 (validation off) would send a body equal to ``params``."""
    if not isinstance(params, dict):
        return False
    body = botocore_body(operation, params)
    if body is None:
        return False
    try:
        sent = json.loads(body)
    except ValueError:
        return False
    # Compare encodings, not values: True == 1 in Python but not on the wire.
    return json.dumps(sent, sort_keys=True) == json.dumps(params, sort_keys=True)
