"""The emulator's account family: BYOL settings and their modifications, management ranges, account links."""
from __future__ import annotations

SEEDED_LINK = "link-4f7a2c9e1b3d"
SEEDED_RANGE = "10.200.0.0/16"
OTHER_ACCOUNT = "111122223333"
PENDING = "PENDING_ACCEPTANCE_BY_TARGET_ACCOUNT"


def _error(env, operation, body):
    status, _, parsed = env.raw(operation, body)
    return status, parsed.get("__type")


def _invite(env, target=OTHER_ACCOUNT, **extra) -> str:
    status, _, body = env.raw("CreateAccountLinkInvitation", dict(TargetAccountId=target, **extra))
    assert status == 200, body
    return body["AccountLink"]["AccountLinkId"]


def _modification_states(env) -> list[str]:
    return [m["ModificationState"] for m in env.raw("DescribeAccountModifications", {})[2]["AccountModifications"]]


EXAMPLES = {
    "DescribeAccount": lambda env: {},
    "ModifyAccount": lambda env: {"DedicatedTenancySupport": "ENABLED",
                                  "DedicatedTenancyManagementCidrRange": "10.3.0.0/16"},
    "DescribeAccountModifications": lambda env: {},
    "ListAvailableManagementCidrRanges": lambda env: {"ManagementCidrRangeConstraint": "10.0.0.0/8", "MaxResults": 5},
    "CreateAccountLinkInvitation": lambda env: {"TargetAccountId": OTHER_ACCOUNT, "ClientToken": "invite-1"},
    "AcceptAccountLinkInvitation": lambda env: {"LinkId": SEEDED_LINK, "ClientToken": "accept-1"},
    "RejectAccountLinkInvitation": lambda env: {"LinkId": SEEDED_LINK},
    "DeleteAccountLinkInvitation": lambda env: {"LinkId": _invite(env)},
    "GetAccountLink": lambda env: {"LinkId": SEEDED_LINK},
    "ListAccountLinks": lambda env: {"LinkStatusFilter": [PENDING], "MaxResults": 5},
}


def _accept_twice(env):
    env.raw("AcceptAccountLinkInvitation", {"LinkId": SEEDED_LINK})
    return _error(env, "AcceptAccountLinkInvitation", {"LinkId": SEEDED_LINK})


def _modify_then_describe(env):
    env.raw("ModifyAccount", {"DedicatedTenancySupport": "ENABLED", "DedicatedTenancyManagementCidrRange": "10.3.0.0/16"})
    return [env.raw("DescribeAccount", {})[2]["DedicatedTenancyManagementCidrRange"] for _ in range(3)]


FAULT_SCENARIOS = {
    "account_link_accept_twice": (_accept_twice, (400, "ConflictException"), (200, None)),
    "account_modification_stuck_pending": (
        _modify_then_describe, [SEEDED_RANGE, "10.3.0.0/16", "10.3.0.0/16"], [SEEDED_RANGE] * 3),
}


def test_seeded_account_and_link(env):
    account = env.raw("DescribeAccount", {})[2]
    assert account == {"DedicatedTenancySupport": "ENABLED", "DedicatedTenancyManagementCidrRange": SEEDED_RANGE}
    assert _modification_states(env) == ["COMPLETED"]
    links = env.client.list_account_links()["AccountLinks"]
    assert [(link["AccountLinkId"], link["AccountLinkStatus"]) for link in links] == [(SEEDED_LINK, PENDING)]


def test_modify_account_records_a_pending_modification_that_completes(env):
    env.client.modify_account(DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="10.3.0.0/16")
    assert _error(env, "ModifyAccount", {"DedicatedTenancySupport": "ENABLED",
                                         "DedicatedTenancyManagementCidrRange": "10.4.0.0/16"}) == (
        400, "InvalidResourceStateException")
    assert _modification_states(env) == ["COMPLETED", "PENDING"]
    assert _modification_states(env) == ["COMPLETED", "COMPLETED"]
    assert env.raw("DescribeAccount", {})[2]["DedicatedTenancyManagementCidrRange"] == "10.3.0.0/16"


def test_modify_account_needs_a_new_range_and_support(env):
    assert _error(env, "ModifyAccount", {"DedicatedTenancySupport": "ENABLED"}) == (
        400, "InvalidParameterValuesException")
    assert _error(env, "ModifyAccount", {"DedicatedTenancySupport": "ENABLED",
                                         "DedicatedTenancyManagementCidrRange": SEEDED_RANGE}) == (
        400, "InvalidParameterValuesException")


def test_available_ranges_are_the_unused_private_16s_of_the_constraint(env):
    seen, token = [], None
    while True:
        body = dict(ManagementCidrRangeConstraint="10.192.0.0/10", MaxResults=5, **({"NextToken": token} if token else {}))
        page = env.raw("ListAvailableManagementCidrRanges", body)[2]
        assert len(page["ManagementCidrRanges"]) <= 5
        seen += page["ManagementCidrRanges"]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 63 and SEEDED_RANGE not in seen
    assert seen[0] == "10.192.0.0/16" and seen[-1] == "10.255.0.0/16"
    for constraint in ("10.1.2.0/24", "203.0.0.0/8"):  # no /16 fits; no private address space
        found = env.raw("ListAvailableManagementCidrRanges", {"ManagementCidrRangeConstraint": constraint})[2]
        assert found["ManagementCidrRanges"] == [], constraint
    whole = env.raw("ListAvailableManagementCidrRanges", {"ManagementCidrRangeConstraint": "172.0.0.0/8"})[2]
    assert whole["ManagementCidrRanges"] == [f"172.{n}.0.0/16" for n in range(16, 32)]


def test_accept_links_the_invitation_once(env):
    link = env.client.accept_account_link_invitation(LinkId=SEEDED_LINK, ClientToken="t1")["AccountLink"]
    assert link["AccountLinkStatus"] == "LINKED"
    # A retry with the same client token gets the same answer; another accept is a conflict.
    assert env.client.accept_account_link_invitation(LinkId=SEEDED_LINK, ClientToken="t1")["AccountLink"] == link
    assert _error(env, "AcceptAccountLinkInvitation", {"LinkId": SEEDED_LINK}) == (400, "ConflictException")
    assert _error(env, "RejectAccountLinkInvitation", {"LinkId": SEEDED_LINK}) == (400, "ConflictException")
    assert env.raw("DescribeAccount", {})[2]["DedicatedTenancyAccountType"] == "TARGET_ACCOUNT"


def test_reject_then_nothing_more_can_be_answered(env):
    link = env.client.reject_account_link_invitation(LinkId=SEEDED_LINK)["AccountLink"]
    assert link["AccountLinkStatus"] == "REJECTED"
    assert _error(env, "AcceptAccountLinkInvitation", {"LinkId": SEEDED_LINK}) == (400, "ConflictException")


def test_invitations_from_this_account(env):
    link_id = _invite(env, ClientToken="c1")
    assert _invite(env, ClientToken="c1") == link_id  # idempotent retry
    assert _error(env, "CreateAccountLinkInvitation", {"TargetAccountId": OTHER_ACCOUNT}) == (400, "ConflictException")
    assert _error(env, "CreateAccountLinkInvitation", {"TargetAccountId": "123456789012"}) == (
        400, "ValidationException")
    # Only the invited account answers an invitation.
    assert _error(env, "AcceptAccountLinkInvitation", {"LinkId": link_id}) == (400, "ValidationException")
    got = env.client.get_account_link(LinkedAccountId=OTHER_ACCOUNT)["AccountLink"]
    assert (got["AccountLinkId"], got["AccountLinkStatus"], got["SourceAccountId"]) == (link_id, PENDING, "123456789012")


def test_delete_removes_an_invitation_but_not_a_link(env):
    link_id = _invite(env)
    assert env.client.delete_account_link_invitation(LinkId=link_id)["AccountLink"]["AccountLinkId"] == link_id
    assert _error(env, "GetAccountLink", {"LinkId": link_id}) == (400, "ResourceNotFoundException")
    assert link_id not in [link["AccountLinkId"] for link in env.client.list_account_links()["AccountLinks"]]
    assert _error(env, "DeleteAccountLinkInvitation", {"LinkId": link_id}) == (400, "ResourceNotFoundException")
    # The seeded invitation was sent by another account: this one cannot delete it.
    assert _error(env, "DeleteAccountLinkInvitation", {"LinkId": SEEDED_LINK}) == (400, "ValidationException")


def test_get_account_link_needs_a_name(env):
    assert _error(env, "GetAccountLink", {}) == (400, "ValidationException")
    assert _error(env, "GetAccountLink", {"LinkId": "link-000000000000"}) == (400, "ResourceNotFoundException")


def test_list_account_links_filters_and_pages(env):
    made = [_invite(env, target=f"11112222333{i}") for i in range(3)]
    env.client.accept_account_link_invitation(LinkId=SEEDED_LINK)
    pending = env.client.list_account_links(LinkStatusFilter=[PENDING])["AccountLinks"]
    assert [link["AccountLinkId"] for link in pending] == made
    seen, token = [], None
    while True:
        page = env.raw("ListAccountLinks", dict(MaxResults=2, **({"NextToken": token} if token else {})))[2]
        seen += [link["AccountLinkId"] for link in page["AccountLinks"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [SEEDED_LINK, *made]
