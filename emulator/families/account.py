"""The account: Bring Your Own License (BYOL) settings, their modifications, and links to other accounts.

ModifyAccount enables BYOL with a /16 management CIDR range and records an
account modification, PENDING until it completes; DescribeAccount shows the
settings of the last completed one. Account links join this account to another
for dedicated WorkSpaces: an invitation waits for the target account, which
accepts (LINKED) or rejects (REJECTED) it; the inviting account may delete an
invitation that was not accepted. There is no unlinking once linked.
"""
from __future__ import annotations

import ipaddress
import time

from ..operations import handles, seeds, settles, stuck_by

LINKS = "account_links"
MODIFICATIONS = "account_modifications"
_LINK_ID_PREFIX = "link-"
_PENDING_LINK = "PENDING_ACCEPTANCE_BY_TARGET_ACCOUNT"
# A modification of the BYOL settings completes by itself (the account's dedicated network is set up).
_MODIFICATION_SETTLE = {"PENDING": "COMPLETED"}
# What accepting or rejecting an invitation makes of a pending link.
_ANSWERS = {"AcceptAccountLinkInvitation": "LINKED", "RejectAccountLinkInvitation": "REJECTED"}
# Links an invitation for the same target account conflicts with.
_OPEN_LINKS = (_PENDING_LINK, "LINKED")
# A management range is a /16; the ranges offered lie in the constraint range the caller gives and in
# the private address space (RFC 1918), which the management network interface is addressed from.
_MANAGEMENT_PREFIX = 16
_PRIVATE_BLOCKS = tuple(ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


settles(MODIFICATIONS, _MODIFICATION_SETTLE)
stuck_by("account_modification_stuck_pending", MODIFICATIONS, "PENDING")


def _render_modification(record) -> dict:
    """The AccountModification structure of ``record``."""
    return dict(record.body, ModificationState=record.state)


def _settings(backend) -> dict:
    """The account's BYOL settings: the seed's, or those of the last completed modification."""
    account = backend.seed_data.get("account") or {}
    settings = {"DedicatedTenancySupport": account.get("DedicatedTenancySupport", "DISABLED")}
    if account.get("DedicatedTenancyManagementCidrRange"):
        settings["DedicatedTenancyManagementCidrRange"] = account["DedicatedTenancyManagementCidrRange"]
    completed = [r for r in backend.records(MODIFICATIONS) if r.state == "COMPLETED"]
    if completed:
        settings.update({key: completed[-1].body[key] for key in
                         ("DedicatedTenancySupport", "DedicatedTenancyManagementCidrRange")})
    return settings


def _add_modification(backend, cidr: str, started: float, state: str):
    """Record a modification enabling BYOL with the management range ``cidr``, in ``state``."""
    body = {"DedicatedTenancySupport": "ENABLED", "DedicatedTenancyManagementCidrRange": cidr, "StartTime": started}
    return backend.add(MODIFICATIONS, f"modification-{backend.store.next_seq()}", body, state=state)


def _add_link(backend, source: str, target: str, status: str, *, link_id: str | None = None,
              client_token: str | None = None):
    """Store an account link from ``source`` to ``target`` in ``status``."""
    link_id = link_id or backend.store.new_id(_LINK_ID_PREFIX, 12)
    body = {"AccountLinkId": link_id, "SourceAccountId": source, "TargetAccountId": target}
    return backend.add(LINKS, link_id, body, state=status,
                       private={"client_token": client_token, "answer_token": None})


def _render_link(record) -> dict:
    """The AccountLink structure of ``record``."""
    return dict(record.body, AccountLinkStatus=record.state)


@seeds
def seed_account(backend) -> None:
    """The seed's account modifications (completed) and account links."""
    account = backend.seed_data.get("account") or {}
    for entry in account.get("Modifications", []):
        _add_modification(backend, entry["DedicatedTenancyManagementCidrRange"], entry["StartTime"],
                          entry.get("ModificationState", "COMPLETED"))
    for entry in backend.seed_data.get("account_links", []):
        _add_link(backend, entry["SourceAccountId"], entry["TargetAccountId"], entry["AccountLinkStatus"],
                  link_id=entry["AccountLinkId"])


# -- BYOL --------------------------------------------------------------------------------------

@handles("DescribeAccount")
def describe_account(backend, params: dict) -> dict:
    out = _settings(backend)
    linked = [r for r in backend.records(LINKS) if r.state == "LINKED"]
    if linked:
        own = backend.store.account_id
        out["DedicatedTenancyAccountType"] = (
            "SOURCE_ACCOUNT" if linked[0].body["SourceAccountId"] == own else "TARGET_ACCOUNT")
    backend.observed(backend.records(MODIFICATIONS))
    return out


@handles("DescribeAccountModifications")
def describe_account_modifications(backend, params: dict) -> dict:
    return backend.listing("DescribeAccountModifications", params, backend.records(MODIFICATIONS),
                           "AccountModifications", render=_render_modification)


def _available_ranges(backend, constraint: str) -> list[tuple[int, str]]:
    """The /16 ranges of private address space inside ``constraint`` the account does not use, as (address, range)."""
    network = ipaddress.ip_network(constraint, strict=False)
    in_use = _settings(backend).get("DedicatedTenancyManagementCidrRange")
    ranges = []
    for block in _PRIVATE_BLOCKS:
        inside = network if network.subnet_of(block) else block if block.subnet_of(network) else None
        if inside is None or inside.prefixlen > _MANAGEMENT_PREFIX:
            continue
        first = int(inside.network_address)
        for address in range(first, first + inside.num_addresses, 1 << (32 - _MANAGEMENT_PREFIX)):
            text = f"{address >> 24}.{(address >> 16) & 255}.0.0/{_MANAGEMENT_PREFIX}"
            if text != in_use:
                ranges.append((address, text))
    return sorted(ranges)


@handles("ListAvailableManagementCidrRanges")
def list_available_management_cidr_ranges(backend, params: dict) -> dict:
    ranges = _available_ranges(backend, params["ManagementCidrRangeConstraint"])
    return backend.listing("ListAvailableManagementCidrRanges", params, ranges, "ManagementCidrRanges")


@handles("ModifyAccount")
def modify_account(backend, params: dict) -> dict:
    support, cidr = params.get("DedicatedTenancySupport"), params.get("DedicatedTenancyManagementCidrRange")
    if support is None or cidr is None:
        raise backend.refuse("ModifyAccount", "constraint",
                             "ModifyAccount enables BYOL: give DedicatedTenancySupport ENABLED together with a "
                             "DedicatedTenancyManagementCidrRange from ListAvailableManagementCidrRanges.")
    if any(r.state == "PENDING" for r in backend.records(MODIFICATIONS)):
        raise backend.refuse("ModifyAccount", "in_progress",
                             "A modification of the account's BYOL settings is still PENDING; call "
                             "ModifyAccount again when DescribeAccountModifications shows it COMPLETED.")
    if cidr == _settings(backend).get("DedicatedTenancyManagementCidrRange"):
        raise backend.refuse("ModifyAccount", "constraint",
                             f"The DedicatedTenancyManagementCidrRange {cidr} is the one the account uses; "
                             "choose another range from ListAvailableManagementCidrRanges.")
    _add_modification(backend, cidr, time.time(), "PENDING")
    return {}


# -- account links -----------------------------------------------------------------------------

@handles("CreateAccountLinkInvitation")
def create_account_link_invitation(backend, params: dict) -> dict:
    own, target, token = backend.store.account_id, params["TargetAccountId"], params.get("ClientToken")
    links = backend.records(LINKS)
    if token is not None:
        for record in links:
            if record.private["client_token"] == token and record.body["TargetAccountId"] == target:
                return {"AccountLink": _render_link(record)}  # a retry of the same request
    if target == own:
        raise backend.refuse("CreateAccountLinkInvitation", "constraint",
                             f"The TargetAccountId {target} is this account; invite another account.")
    for record in links:
        if record.state in _OPEN_LINKS and target in (record.body["SourceAccountId"], record.body["TargetAccountId"]):
            raise backend.refuse("CreateAccountLinkInvitation", "already_exists",
                                 f"The account {target} is already {record.state} by link {record.id}.")
    record = _add_link(backend, own, target, _PENDING_LINK, client_token=token)
    return {"AccountLink": _render_link(record)}


@handles("AcceptAccountLinkInvitation", "RejectAccountLinkInvitation")
def answer_account_link_invitation(backend, params: dict, operation: str) -> dict:
    """Accept or reject a pending invitation sent to this account."""
    record = backend.find(LINKS, params["LinkId"], operation, what="account link")
    token = params.get("ClientToken")
    answered = _ANSWERS[operation]
    if token is not None and record.private["answer_token"] == token and record.state == answered:
        return {"AccountLink": _render_link(record)}  # a retry of the same request
    if record.body["TargetAccountId"] != backend.store.account_id:
        raise backend.refuse(operation, "constraint",
                             f"The account link {record.id} invites the account {record.body['TargetAccountId']}; "
                             "only that account can answer it.")
    replay = operation == "AcceptAccountLinkInvitation" and record.state == "LINKED" \
        and "account_link_accept_twice" in backend.faults
    if record.state != _PENDING_LINK and not replay:
        raise backend.refuse(operation, "invalid_state",
                             f"The account link {record.id} is {record.state}; only a link "
                             f"{_PENDING_LINK} can be answered.")
    record.state = answered
    record.private["answer_token"] = token
    return {"AccountLink": _render_link(record)}


@handles("DeleteAccountLinkInvitation")
def delete_account_link_invitation(backend, params: dict) -> dict:
    record = backend.find(LINKS, params["LinkId"], "DeleteAccountLinkInvitation", what="account link")
    if record.body["SourceAccountId"] != backend.store.account_id:
        raise backend.refuse("DeleteAccountLinkInvitation", "constraint",
                             f"The account link {record.id} was sent by the account "
                             f"{record.body['SourceAccountId']}; only that account can delete it.")
    if record.state == "LINKED":
        raise backend.refuse("DeleteAccountLinkInvitation", "invalid_state",
                             f"The account link {record.id} is LINKED and cannot be deleted: "
                             "an accepted link cannot be undone.")
    del backend.store.of_kind(LINKS)[record.id]
    return {"AccountLink": _render_link(record)}


@handles("GetAccountLink")
def get_account_link(backend, params: dict) -> dict:
    link_id, other = params.get("LinkId"), params.get("LinkedAccountId")
    if link_id is None and other is None:
        raise backend.refuse("GetAccountLink", "constraint", "Give LinkId or LinkedAccountId to name the account link.")
    found = [r for r in backend.records(LINKS)
             if (link_id is None or r.id == link_id)
             and (other is None or other in (r.body["SourceAccountId"], r.body["TargetAccountId"]))]
    if not found:
        raise backend.refuse("GetAccountLink", "not_found",
                             f"No account link matches LinkId={link_id} LinkedAccountId={other}.")
    return {"AccountLink": _render_link(found[-1])}


@handles("ListAccountLinks")
def list_account_links(backend, params: dict) -> dict:
    records = backend.records(LINKS)
    if params.get("LinkStatusFilter"):
        records = [r for r in records if r.state in params["LinkStatusFilter"]]
    return backend.listing("ListAccountLinks", params, records, "AccountLinks", render=_render_link)
