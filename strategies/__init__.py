"""Hypothesis strategies over the WorkSpaces contract: valid, invalid and boundary requests.

    import strategies
    strategies.requests("DescribeWorkspaces")            # valid request dicts
    strategies.invalid_requests("CreateWorkspaces")      # InvalidRequest, one violation each
    strategies.boundaries("DescribeWorkspaces")          # deterministic list of Boundary
    strategies.violation_kinds("CreateTags")             # kinds the constraints allow
    pool = strategies.ResourcePool(workspaces=["ws-abcdefgh1"])
    strategies.requests("RebootWorkspaces", pool)        # ids drawn partly from live resources

Requests are JSON-able dicts with blobs as base64 strings; ``to_boto3`` turns
them into boto3 parameters. Each entry point takes an operation's name or its
``specs.contract(name)``; a name is resolved once, at the top, and the contract
is what every step below receives. An invalid boundary case carries a
``Violation`` (``case.violation``) as an invalid request does, so both are sent
and judged alike.
"""
from .boundaries import Boundary, boundaries
from .identifiers import ResourcePool
from .invalid import InvalidRequest, Violation, invalid_requests, violation_kinds
from .requests import requests
from .wire import boto3_sends_exactly, to_boto3

__all__ = [
    "Boundary", "InvalidRequest", "ResourcePool", "Violation", "boto3_sends_exactly",
    "boundaries", "invalid_requests", "requests", "to_boto3", "violation_kinds",
]
