"""botocore client features (paginators, waiters, presigned URLs), used against the target.

can_paginate is true exactly for the paginated operations; each paginator
walks the target's listing to its end; the suite's WorkSpaces waiters reach
their state on the target; generate_presigned_url gives a well-formed SigV4
URL for the target's endpoint.
"""
from __future__ import annotations

import itertools
import re
import urllib.parse

import botocore.exceptions
import botocore.parsers
import pytest
from botocore import xform_name

import specs

from .behaviour import require, strict_clock
from . import checks
from .checks import CheckFailure, judge_all
from .waiters import WAITERS, get_waiter, waiter_model

PRESIGN_RULE = "client.generate_presigned_url"
MAX_PAGES = 200


def fail(operation: str, title: str, message: str, rule: str, reproduce: str = "") -> CheckFailure:
    """A failure of the client_features check, reproduced by the client code given."""
    return checks.failure("client_features", rule, title, message, operation=operation, reproduce=reproduce)


def _object(body) -> dict:
    """A response body as a dict ({} for anything else: a broken body is judged by the exchange checks)."""
    return body if isinstance(body, dict) else {}


def _items(body, key: str) -> list[dict]:
    items = _object(body).get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# What botocore raises when it cannot read an answer at all (unparseable body, no response).
UNREADABLE = (botocore.exceptions.BotoCoreError, botocore.parsers.ResponseParserError, ValueError)


def paginated_operations() -> set[str]:
    """The operations rules.json's pagination rules apply to."""
    return set(specs.rule("pagination.last_page")["operations"])


def client_lines(run) -> str:
    from .client import reproduce_call

    text = reproduce_call(run.target.connection, "DescribeWorkspaces", {})
    return text[: text.index("print(client.")]


def can_paginate(operation, conformance):
    """can_paginate answers true exactly for the operations with a NextToken paginator."""
    client = conformance.caller.client
    expected = operation in paginated_operations()
    answer = client.can_paginate(xform_name(operation))
    if answer != expected:
        raise fail(operation, f"can_paginate is {answer}",
                   f"can_paginate({xform_name(operation)!r}) must be {expected}: the paginated operations are "
                   f"{sorted(paginated_operations())}.", "pagination.last_page",
                   client_lines(conformance) + f"print(client.can_paginate({xform_name(operation)!r}))")


def _listing(run, operation: str) -> dict:
    """Request filters whose listing cannot change while it is walked."""
    if operation in ("DescribeWorkspaces", "DescribeWorkspacesConnectionStatus"):
        pool = run.pool(workspaces=3)
        body = run.call("DescribeWorkspaces", {"WorkspaceIds": pool.workspaces[:25]}).response.json \
            if pool.workspaces else {}
        stable = [w["WorkspaceId"] for w in _items(body, "Workspaces")
                  if isinstance(w.get("WorkspaceId"), str) and w.get("State") not in ("TERMINATING", "TERMINATED")]
        return {"WorkspaceIds": stable} if stable else {}
    if operation == "DescribeWorkspaceBundles":
        return {"Owner": "AMAZON"}
    return {}


def paginator(operation, target_run):
    """get_paginator walks the target's listing to its end (PageSize 1 where the paginator has a limit key)."""
    require(target_run, operation)
    client = target_run.caller.client
    spec = specs.operation(operation)["paginator"]
    if spec is None:
        pytest.skip(f"unjudgeable: botocore has no paginator for {operation}")
    params = _listing(target_run, operation)
    config = {"PageSize": 1} if spec["limit_key"] else {}
    name = xform_name(operation)
    reproduce = (client_lines(target_run) + f"paginator = client.get_paginator({name!r})\n"
                 f"for page in paginator.paginate(**{params!r}, PaginationConfig={config!r}):\n"
                 f"    print(page[{spec['result_key']!r}], page.get('NextToken'))")
    rule = "pagination.complete_traversal"
    try:
        pages = list(itertools.islice(client.get_paginator(name).paginate(**params, PaginationConfig=config),
                                      MAX_PAGES + 1))
    except botocore.exceptions.PaginationError as error:
        raise fail(operation, "The paginator stopped with an error",
                   f"Walking {name} with {config or 'the default page size'} failed: {error}. A target that "
                   "honours NextToken never hands the same token twice.", rule, reproduce) from None
    except botocore.exceptions.ClientError as error:
        raise fail(operation, "A page was refused",
                   f"Walking {name} with {config or 'the default page size'} failed: {error}.", rule, reproduce) from None
    except UNREADABLE as error:
        raise fail(operation, "A page could not be read",
                   f"Walking {name} with {config or 'the default page size'} failed: botocore could not read an "
                   f"answer ({type(error).__name__}: {str(error)[:300]}).", rule, reproduce) from None
    if len(pages) > MAX_PAGES:
        raise fail(operation, "The paginator never ends",
                   f"More than {MAX_PAGES} pages for {params}.", "pagination.last_page", reproduce)
    id_key = {"Workspaces": "WorkspaceId", "Bundles": "BundleId", "Directories": "DirectoryId",
              "WorkspacesConnectionStatus": "WorkspaceId"}[spec["result_key"]]
    walked = [item.get(id_key) for page in pages for item in _items(page, spec["result_key"])]
    body = target_run.call(operation, params).response.json
    first_page = [item.get(id_key) for item in _items(body, spec["result_key"])]
    if len(walked) != len(set(walked)) or (not _object(body).get("NextToken") and set(walked) != set(first_page)):
        raise fail(operation, "The paginator's items differ from the listing",
                   f"The paginator yielded {len(walked)} items ({len(set(walked))} distinct) in {len(pages)} pages; "
                   f"the unpaginated listing holds {len(first_page)}: {sorted(set(first_page) ^ set(walked))[:5]} "
                   "differ.", rule, reproduce)


def _poll_delay(run) -> int:
    if strict_clock(run.target):
        return 0
    return 1 if not run.target.remote else 15


def waiters(operation, target_run):
    """The suite's waiters load in botocore and WorkspaceAvailable succeeds on a live WorkSpace."""
    require(target_run, operation)
    client = target_run.caller.client
    model = waiter_model()
    for name in WAITERS:
        if name not in model["waiters"]:
            raise fail(operation, f"No {name} waiter", "The suite's waiter model lacks it.",
                       "timing.create")
        get_waiter(client, name)  # raises if botocore cannot build it
    pool = target_run.pool(workspaces=1)
    candidates = []
    if pool.workspaces:
        body = target_run.call(operation, {"WorkspaceIds": pool.workspaces[:25]}).response.json
        candidates = [w["WorkspaceId"] for w in _items(body, "Workspaces")
                      if isinstance(w.get("WorkspaceId"), str) and w.get("State") in ("PENDING", "STARTING", "AVAILABLE")]
    if not candidates:
        pytest.skip("unjudgeable: no WorkSpace on its way to AVAILABLE to wait for")
    delay = _poll_delay(target_run)
    deadline = specs.rule("timing.create")["deadline_seconds"]
    attempts = 20 if not target_run.target.remote else max(1, deadline // max(delay, 1))
    reproduce = (client_lines(target_run) + "from conformance.waiters import get_waiter\n"
                 f"get_waiter(client, 'WorkspaceAvailable').wait(WorkspaceIds=[{candidates[0]!r}], "
                 f"WaiterConfig={{'Delay': {delay}, 'MaxAttempts': {attempts}}})")
    try:
        get_waiter(client, "WorkspaceAvailable").wait(
            WorkspaceIds=candidates[:1], WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
    except botocore.exceptions.WaiterError as error:
        raise fail(operation, "WorkspaceAvailable did not succeed",
                   f"Waiting for {candidates[0]} to become AVAILABLE failed: {error}. Its last answer: "
                   f"{error.last_response.get('Workspaces') if isinstance(error.last_response, dict) else None}.",
                   "timing.create", reproduce) from None
    except UNREADABLE as error:
        raise fail(operation, "WorkspaceAvailable could not read an answer",
                   f"Waiting for {candidates[0]} failed: botocore could not read an answer "
                   f"({type(error).__name__}: {str(error)[:300]}).", "timing.create", reproduce) from None


_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_DATE = re.compile(r"^\d{8}T\d{6}Z$")


def generate_presigned_url(operation, conformance):
    """generate_presigned_url gives a SigV4 query-signed URL on the target's endpoint."""
    client = conformance.caller.client
    name = xform_name(operation)
    url = client.generate_presigned_url(name, Params={}, ExpiresIn=60)
    endpoint = urllib.parse.urlsplit(conformance.target.endpoint)
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    region = conformance.target.connection.region
    problems = []
    if (parts.scheme, parts.netloc) != (endpoint.scheme, endpoint.netloc):
        problems.append(f"it points at {parts.scheme}://{parts.netloc}, not {endpoint.scheme}://{endpoint.netloc}")
    if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        problems.append(f"X-Amz-Algorithm is {query.get('X-Amz-Algorithm')!r}")
    if not query.get("X-Amz-Credential", "").endswith(f"/{region}/workspaces/aws4_request"):
        problems.append(f"X-Amz-Credential {query.get('X-Amz-Credential')!r} is not scoped to {region}/workspaces")
    if not _DATE.match(query.get("X-Amz-Date", "")):
        problems.append(f"X-Amz-Date is {query.get('X-Amz-Date')!r}")
    if query.get("X-Amz-Expires") != "60":
        problems.append(f"X-Amz-Expires is {query.get('X-Amz-Expires')!r}, not 60")
    if "host" not in query.get("X-Amz-SignedHeaders", "").split(";"):
        problems.append(f"X-Amz-SignedHeaders {query.get('X-Amz-SignedHeaders')!r} lacks host")
    if not _SIGNATURE.match(query.get("X-Amz-Signature", "")):
        problems.append("X-Amz-Signature is not 64 hex digits")
    if problems:
        raise fail(operation, "Malformed presigned URL",
                   f"generate_presigned_url({name!r}, ExpiresIn=60) gave {url[:300]}: " + "; ".join(problems) + ".",
                   PRESIGN_RULE,
                   client_lines(conformance) + f"print(client.generate_presigned_url({name!r}, Params={{}}, "
                   "ExpiresIn=60))")


def waiter_operations() -> set[str]:
    """The operations the suite's waiters poll."""
    return {waiter["operation"] for waiter in waiter_model()["waiters"].values()}


@pytest.mark.conformance(checks=["client_features"])
def test_client_features(operation, conformance):
    """can_paginate and generate_presigned_url for every operation; paginators and waiters where they apply."""
    parts = [lambda: can_paginate(operation, conformance), lambda: generate_presigned_url(operation, conformance)]
    if specs.paginated(operation):
        parts.append(lambda: paginator(operation, conformance))
    if operation in waiter_operations():
        parts.append(lambda: waiters(operation, conformance))
    judge_all(*parts)
