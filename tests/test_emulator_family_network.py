"""The emulator's network family: IP access control groups and connection aliases."""
from __future__ import annotations

import re

import jsonschema
import pytest

import specs

_UNKNOWN_GROUP = "wsipg-zzzzzzzzz"
_UNKNOWN_ALIAS = "wsca-zzzzzzzzz"
_OTHER_ACCOUNT = "111122223333"


def _seeded_group(env) -> dict:
    return env.emulator.seed["network"]["ip_groups"][0]


def _seeded_alias(env) -> dict:
    return env.emulator.seed["network"]["connection_aliases"][0]


def _code(env, operation: str, body: dict):
    """The error code of a call, or None when it succeeds."""
    status, _, parsed = env.raw(operation, body)
    return None if status == 200 else parsed.get("__type")


def _group(env, group_id: str) -> dict | None:
    found = env.raw("DescribeIpGroups", {"GroupIds": [group_id]})[2]["Result"]
    return found[0] if found else None


def _rules(env, group_id: str) -> list[str]:
    return [rule["ipRule"] for rule in _group(env, group_id)["userRules"]]


def _new_group(env, name: str = "branch", rules=()) -> str:
    return env.client.create_ip_group(GroupName=name, UserRules=[{"ipRule": r} for r in rules])["GroupId"]


def _directory_groups(env, directory: int = 0) -> list[str]:
    listed = env.raw("DescribeWorkspaceDirectories", {"DirectoryIds": [env.directories[directory]]})[2]
    return listed["Directories"][0].get("ipGroupIds", [])


def _alias(env, alias_id: str) -> dict | None:
    found = env.raw("DescribeConnectionAliases", {"AliasIds": [alias_id]})[2].get("ConnectionAliases", [])
    return found[0] if found else None


def _alias_state(env, alias_id: str) -> str:
    found = _alias(env, alias_id)
    return found["State"] if found else "GONE"


def _created_alias(env, connection_string: str = "desk.example.net") -> str:
    alias_id = env.client.create_connection_alias(ConnectionString=connection_string)["AliasId"]
    _alias_state(env, alias_id)  # the one describe that shows CREATING
    return alias_id


def _walk(env, operation: str, result_key: str, size_key: str, body: dict) -> list[list]:
    pages, token = [], None
    while len(pages) < 20:
        page = env.raw(operation, dict(body, **{size_key: 2}, **({"NextToken": token} if token else {})))[2]
        pages.append(page.get(result_key, []))
        token = page.get("NextToken")
        if not token:
            return pages
    raise AssertionError(f"{operation} kept returning NextToken")


def _valid_answer(operation: str, answer: dict) -> None:
    jsonschema.Draft7Validator(specs.operation(operation)["output"]).validate(answer)


# -- examples: one valid, succeeding call of every operation of the family --------------------------


def _disassociate_groups_example(env):
    group = _seeded_group(env)["groupId"]
    env.client.associate_ip_groups(DirectoryId=env.directories[0], GroupIds=[group])
    return {"DirectoryId": env.directories[0], "GroupIds": [group]}


def _disassociate_alias_example(env):
    alias = _seeded_alias(env)["AliasId"]
    env.client.associate_connection_alias(AliasId=alias, ResourceId=env.directories[0])
    return {"AliasId": alias}


def _permissions_example(env):
    alias = _seeded_alias(env)["AliasId"]
    env.client.update_connection_alias_permission(
        AliasId=alias, ConnectionAliasPermission={"SharedAccountId": _OTHER_ACCOUNT, "AllowAssociation": True})
    return {"AliasId": alias, "MaxResults": 5}


EXAMPLES = {
    "CreateIpGroup": lambda env: {"GroupName": "branch", "GroupDesc": "Branch office",
                                  "UserRules": [{"ipRule": "192.0.2.0/24", "ruleDesc": "Branch NAT"}],
                                  "Tags": [{"Key": "team", "Value": "network"}]},
    "DeleteIpGroup": lambda env: {"GroupId": _new_group(env)},
    "DescribeIpGroups": lambda env: {"GroupIds": [_seeded_group(env)["groupId"]], "MaxResults": 5},
    "AuthorizeIpRules": lambda env: {"GroupId": _seeded_group(env)["groupId"],
                                     "UserRules": [{"ipRule": "192.0.2.0/24", "ruleDesc": "Branch NAT"}]},
    "RevokeIpRules": lambda env: {"GroupId": _seeded_group(env)["groupId"], "UserRules": ["203.0.113.0/24"]},
    "UpdateRulesOfIpGroup": lambda env: {"GroupId": _seeded_group(env)["groupId"],
                                         "UserRules": [{"ipRule": "192.0.2.7/32", "ruleDesc": "Jump host"}]},
    "AssociateIpGroups": lambda env: {"DirectoryId": env.directories[0], "GroupIds": [_seeded_group(env)["groupId"]]},
    "DisassociateIpGroups": _disassociate_groups_example,
    "CreateConnectionAlias": lambda env: {"ConnectionString": "www.example.org",
                                          "Tags": [{"Key": "team", "Value": "network"}]},
    "DeleteConnectionAlias": lambda env: {"AliasId": _seeded_alias(env)["AliasId"]},
    "DescribeConnectionAliases": lambda env: {"Limit": 5},
    "AssociateConnectionAlias": lambda env: {"AliasId": _seeded_alias(env)["AliasId"],
                                             "ResourceId": env.directories[0]},
    "DisassociateConnectionAlias": _disassociate_alias_example,
    "DescribeConnectionAliasPermissions": _permissions_example,
    "UpdateConnectionAliasPermission": lambda env: {
        "AliasId": _seeded_alias(env)["AliasId"],
        "ConnectionAliasPermission": {"SharedAccountId": _OTHER_ACCOUNT, "AllowAssociation": True}},
}


# -- fault scenarios -------------------------------------------------------------------------------


def _delete_associated_group(env):
    group = _new_group(env)
    env.client.associate_ip_groups(DirectoryId=env.directories[0], GroupIds=[group])
    code = _code(env, "DeleteIpGroup", {"GroupId": group})
    return code, _group(env, group) is not None, group in _directory_groups(env)


def _revoke_seeded_rule(env):
    group = _seeded_group(env)["groupId"]
    code = _code(env, "RevokeIpRules", {"GroupId": group, "UserRules": ["203.0.113.0/24"]})
    return code, _rules(env, group)


def _describe_one_of_two_groups(env):
    _new_group(env)
    listed = env.raw("DescribeIpGroups", {"GroupIds": [_seeded_group(env)["groupId"]]})[2]["Result"]
    return [group["groupName"] for group in listed]


def _alias_states(env):
    alias_id = env.client.create_connection_alias(ConnectionString="desk.example.net")["AliasId"]
    return [_alias_state(env, alias_id) for _ in range(3)]


def _permissions_of_unknown_alias(env):
    status, _, parsed = env.raw("DescribeConnectionAliasPermissions", {"AliasId": _UNKNOWN_ALIAS})
    return status, parsed.get("__type")


FAULT_SCENARIOS = {
    "ip_group_delete_while_associated": (_delete_associated_group,
                                         ("ResourceAssociatedException", True, True), (None, False, True)),
    "ip_rules_revoke_ignored": (_revoke_seeded_rule, (None, ["198.51.100.17/32"]),
                                (None, ["203.0.113.0/24", "198.51.100.17/32"])),
    "ip_groups_filter_ignored": (_describe_one_of_two_groups, ["head-office"], ["head-office", "branch"]),
    "alias_never_created": (_alias_states, ["CREATING", "CREATED", "CREATED"], ["CREATING"] * 3),
    "unknown_alias_server_error": (_permissions_of_unknown_alias, (400, "ResourceNotFoundException"),
                                   (500, "InternalFailure")),
}


# -- seeded data -----------------------------------------------------------------------------------


def test_seeded_group_and_alias_are_described(env):
    seeded = _seeded_group(env)
    assert env.raw("DescribeIpGroups", {})[2]["Result"] == [seeded]
    alias = _seeded_alias(env)
    assert env.raw("DescribeConnectionAliases", {})[2]["ConnectionAliases"] == [{
        "ConnectionString": alias["ConnectionString"], "AliasId": alias["AliasId"],
        "OwnerAccountId": env.emulator.seed["account_id"], "State": "CREATED"}]


# -- IP access control groups ----------------------------------------------------------------------


def test_created_group_is_described_exactly_and_tagged(env):
    group_id = env.client.create_ip_group(
        GroupName="branch", GroupDesc="Branch office", UserRules=[{"ipRule": "192.0.2.0/24", "ruleDesc": "NAT"}],
        Tags=[{"Key": "team", "Value": "network"}])["GroupId"]
    assert re.fullmatch(r"wsipg-[0-9a-z]{8,63}", group_id)
    assert _group(env, group_id) == {"groupId": group_id, "groupName": "branch", "groupDesc": "Branch office",
                                     "userRules": [{"ipRule": "192.0.2.0/24", "ruleDesc": "NAT"}]}
    assert env.client.describe_tags(ResourceId=group_id)["TagList"] == [{"Key": "team", "Value": "network"}]


def test_group_name_is_unique(env):
    assert _code(env, "CreateIpGroup", {"GroupName": _seeded_group(env)["groupName"]}) == "ResourceAlreadyExistsException"
    assert len(env.raw("DescribeIpGroups", {})[2]["Result"]) == 1


def test_rules_are_added_replaced_and_revoked_leaving_the_rest(env):
    group_id = _seeded_group(env)["groupId"]
    env.client.authorize_ip_rules(GroupId=group_id, UserRules=[{"ipRule": "192.0.2.0/24", "ruleDesc": "Branch"}])
    assert _rules(env, group_id) == ["203.0.113.0/24", "198.51.100.17/32", "192.0.2.0/24"]
    env.client.revoke_ip_rules(GroupId=group_id, UserRules=["198.51.100.17/32", "192.0.2.99/32"])
    assert _rules(env, group_id) == ["203.0.113.0/24", "192.0.2.0/24"]
    env.client.update_rules_of_ip_group(GroupId=group_id, UserRules=[{"ipRule": "10.1.0.0/16"}])
    described = _group(env, group_id)
    assert described["userRules"] == [{"ipRule": "10.1.0.0/16"}]
    assert (described["groupName"], described["groupDesc"]) == (_seeded_group(env)["groupName"],
                                                                 _seeded_group(env)["groupDesc"])


def test_rules_per_group_are_limited(env):
    group_id = _seeded_group(env)["groupId"]
    eleven = [{"ipRule": f"192.0.2.{i}/32"} for i in range(11)]
    assert _code(env, "UpdateRulesOfIpGroup", {"GroupId": group_id, "UserRules": eleven}) == \
        "ResourceLimitExceededException"
    assert _code(env, "AuthorizeIpRules", {"GroupId": group_id, "UserRules": eleven[:9]}) == \
        "ResourceLimitExceededException"
    assert _code(env, "CreateIpGroup", {"GroupName": "big", "UserRules": eleven}) == "ResourceLimitExceededException"
    assert _rules(env, group_id) == ["203.0.113.0/24", "198.51.100.17/32"]
    assert _code(env, "AuthorizeIpRules", {"GroupId": group_id, "UserRules": eleven[:8]}) is None


@pytest.mark.parametrize("rule", ["not-an-address", "300.1.1.1/32", "10.0.0.0/33", "2001:db8::/32"])
def test_rules_must_be_ipv4_cidrs(env, rule):
    group_id = _seeded_group(env)["groupId"]
    assert _code(env, "AuthorizeIpRules", {"GroupId": group_id, "UserRules": [{"ipRule": rule}]}) == \
        "InvalidParameterValuesException"
    assert _code(env, "CreateIpGroup", {"GroupName": "bad", "UserRules": [{"ipRule": rule}]}) == \
        "InvalidParameterValuesException"


@pytest.mark.parametrize("operation, body", [
    ("DeleteIpGroup", {"GroupId": _UNKNOWN_GROUP}),
    ("AuthorizeIpRules", {"GroupId": _UNKNOWN_GROUP, "UserRules": [{"ipRule": "192.0.2.0/24"}]}),
    ("RevokeIpRules", {"GroupId": _UNKNOWN_GROUP, "UserRules": ["192.0.2.0/24"]}),
    ("UpdateRulesOfIpGroup", {"GroupId": _UNKNOWN_GROUP, "UserRules": []}),
    ("AssociateIpGroups", {"DirectoryId": "d-906734b2c1", "GroupIds": [_UNKNOWN_GROUP]}),
    ("DisassociateIpGroups", {"DirectoryId": "d-906734b2c1", "GroupIds": [_UNKNOWN_GROUP]}),
    ("AssociateIpGroups", {"DirectoryId": "d-0000000000", "GroupIds": ["wsipg-h3k8m2q7z"]}),
])
def test_unknown_group_or_directory_is_not_found(env, operation, body):
    assert _code(env, operation, body) == "ResourceNotFoundException"


def test_describe_leaves_unknown_group_ids_out(env):
    assert env.raw("DescribeIpGroups", {"GroupIds": [_UNKNOWN_GROUP]})[2]["Result"] == []


def test_association_shows_on_the_directory_and_blocks_deletion(env):
    group_id = _new_group(env)
    seeded = _seeded_group(env)["groupId"]
    env.client.associate_ip_groups(DirectoryId=env.directories[0], GroupIds=[group_id, seeded, group_id])
    assert _directory_groups(env) == [group_id, seeded]
    assert _directory_groups(env, 1) == []
    assert _code(env, "DeleteIpGroup", {"GroupId": group_id}) == "ResourceAssociatedException"
    env.client.disassociate_ip_groups(DirectoryId=env.directories[0], GroupIds=[group_id])
    assert _directory_groups(env) == [seeded]
    env.client.delete_ip_group(GroupId=group_id)
    assert _group(env, group_id) is None
    assert [g["groupId"] for g in env.raw("DescribeIpGroups", {})[2]["Result"]] == [seeded]
    assert _code(env, "DescribeTags", {"ResourceId": group_id}) == "ResourceNotFoundException"


def test_groups_per_directory_are_limited(env):
    groups = [_new_group(env, f"group-{i}") for i in range(25)]
    env.client.associate_ip_groups(DirectoryId=env.directories[0], GroupIds=groups[:24])
    assert _code(env, "AssociateIpGroups", {"DirectoryId": env.directories[0],
                                            "GroupIds": groups[24:] + [_seeded_group(env)["groupId"]]}) == \
        "ResourceLimitExceededException"
    assert _directory_groups(env) == groups[:24]
    env.client.associate_ip_groups(DirectoryId=env.directories[0], GroupIds=groups[24:])
    assert len(_directory_groups(env)) == 25


def test_group_pages_are_complete_and_disjoint(env):
    made = [_new_group(env, f"group-{i}") for i in range(4)]
    pages = _walk(env, "DescribeIpGroups", "Result", "MaxResults", {})
    listed = [group["groupId"] for page in pages for group in page]
    assert listed == [_seeded_group(env)["groupId"], *made]
    assert [len(page) for page in pages] == [2, 2, 1]


# -- connection aliases ----------------------------------------------------------------------------


def test_alias_is_creating_then_created_then_deleting_then_gone(env):
    alias_id = env.client.create_connection_alias(ConnectionString="desk.example.net",
                                                  Tags=[{"Key": "team", "Value": "network"}])["AliasId"]
    assert re.fullmatch(r"wsca-[0-9a-z]{8,63}", alias_id)
    assert [_alias_state(env, alias_id) for _ in range(2)] == ["CREATING", "CREATED"]
    assert env.client.describe_tags(ResourceId=alias_id)["TagList"] == [{"Key": "team", "Value": "network"}]
    env.client.delete_connection_alias(AliasId=alias_id)
    assert [_alias_state(env, alias_id) for _ in range(2)] == ["DELETING", "GONE"]
    assert [a["AliasId"] for a in env.raw("DescribeConnectionAliases", {})[2]["ConnectionAliases"]] == \
        [_seeded_alias(env)["AliasId"]]


def test_alias_is_refused_until_created_and_while_deleting(env):
    alias_id = env.client.create_connection_alias(ConnectionString="desk.example.net")["AliasId"]
    assert _code(env, "AssociateConnectionAlias", {"AliasId": alias_id, "ResourceId": env.directories[0]}) == \
        "InvalidResourceStateException"
    assert _code(env, "DeleteConnectionAlias", {"AliasId": alias_id}) == "InvalidResourceStateException"
    _alias_state(env, alias_id)
    env.client.delete_connection_alias(AliasId=alias_id)
    assert _code(env, "DeleteConnectionAlias", {"AliasId": alias_id}) == "InvalidResourceStateException"


def test_connection_string_is_unique(env):
    taken = _seeded_alias(env)["ConnectionString"]
    assert _code(env, "CreateConnectionAlias", {"ConnectionString": taken.upper()}) == "ResourceAlreadyExistsException"


def test_aliases_per_account_are_limited(env):
    for i in range(19):
        env.client.create_connection_alias(ConnectionString=f"desk{i}.example.net")
    assert _code(env, "CreateConnectionAlias", {"ConnectionString": "one-more.example.net"}) == \
        "ResourceLimitExceededException"


def test_association_is_described_filtered_and_blocks_deletion(env):
    alias_id = _created_alias(env)
    answer = env.client.associate_connection_alias(AliasId=alias_id, ResourceId=env.directories[0])
    identifier = answer["ConnectionIdentifier"]
    assert re.fullmatch(r"[a-zA-Z0-9]{1,20}", identifier)
    listed = env.raw("DescribeConnectionAliases", {"ResourceId": env.directories[0]})[2]
    _valid_answer("DescribeConnectionAliases", listed)
    assert [a["AliasId"] for a in listed["ConnectionAliases"]] == [alias_id]
    assert listed["ConnectionAliases"][0]["Associations"] == [{
        "AssociationStatus": "ASSOCIATED_WITH_OWNER_ACCOUNT", "AssociatedAccountId": env.emulator.seed["account_id"],
        "ResourceId": env.directories[0], "ConnectionIdentifier": identifier}]
    assert "ConnectionAliases" not in env.raw("DescribeConnectionAliases", {"ResourceId": env.directories[1]})[2]
    assert _code(env, "DeleteConnectionAlias", {"AliasId": alias_id}) == "ResourceAssociatedException"
    assert _code(env, "AssociateConnectionAlias", {"AliasId": alias_id, "ResourceId": env.directories[1]}) == \
        "ResourceAssociatedException"
    env.client.disassociate_connection_alias(AliasId=alias_id)
    assert "Associations" not in _alias(env, alias_id)
    assert _code(env, "DisassociateConnectionAlias", {"AliasId": alias_id}) == "InvalidResourceStateException"
    assert _code(env, "DeleteConnectionAlias", {"AliasId": alias_id}) is None


def test_sharing_adds_pages_and_removes_accounts(env):
    alias_id = _seeded_alias(env)["AliasId"]
    accounts = ["111122223333", "444455556666", "777788889999"]
    for account in accounts:
        env.client.update_connection_alias_permission(
            AliasId=alias_id, ConnectionAliasPermission={"SharedAccountId": account, "AllowAssociation": True})
    pages = _walk(env, "DescribeConnectionAliasPermissions", "ConnectionAliasPermissions", "MaxResults",
                  {"AliasId": alias_id})
    assert [p["SharedAccountId"] for page in pages for p in page] == accounts
    assert [len(page) for page in pages] == [2, 1]
    assert _code(env, "DeleteConnectionAlias", {"AliasId": alias_id}) == "ResourceAssociatedException"
    for account in accounts:
        env.client.update_connection_alias_permission(
            AliasId=alias_id, ConnectionAliasPermission={"SharedAccountId": account, "AllowAssociation": False})
    answer = env.raw("DescribeConnectionAliasPermissions", {"AliasId": alias_id})[2]
    _valid_answer("DescribeConnectionAliasPermissions", answer)
    assert answer == {"AliasId": alias_id}
    assert _code(env, "DeleteConnectionAlias", {"AliasId": alias_id}) is None


def test_sharing_with_the_owner_account_is_refused(env):
    own = env.emulator.seed["account_id"]
    assert _code(env, "UpdateConnectionAliasPermission", {
        "AliasId": _seeded_alias(env)["AliasId"],
        "ConnectionAliasPermission": {"SharedAccountId": own, "AllowAssociation": True}}) == \
        "InvalidParameterValuesException"


@pytest.mark.parametrize("operation, body", [
    ("DeleteConnectionAlias", {"AliasId": _UNKNOWN_ALIAS}),
    ("AssociateConnectionAlias", {"AliasId": _UNKNOWN_ALIAS, "ResourceId": "d-906734b2c1"}),
    ("AssociateConnectionAlias", {"AliasId": "wsca-p4x9n2k7d", "ResourceId": "d-0000000000"}),
    ("DisassociateConnectionAlias", {"AliasId": _UNKNOWN_ALIAS}),
    ("DescribeConnectionAliasPermissions", {"AliasId": _UNKNOWN_ALIAS}),
    ("UpdateConnectionAliasPermission", {"AliasId": _UNKNOWN_ALIAS, "ConnectionAliasPermission": {
        "SharedAccountId": _OTHER_ACCOUNT, "AllowAssociation": True}}),
])
def test_unknown_alias_or_directory_is_not_found(env, operation, body):
    assert _code(env, operation, body) == "ResourceNotFoundException"


def test_describe_leaves_unknown_alias_ids_out(env):
    answer = env.raw("DescribeConnectionAliases", {"AliasIds": [_UNKNOWN_ALIAS]})[2]
    _valid_answer("DescribeConnectionAliases", answer)
    assert answer == {}


def test_alias_pages_are_complete_and_disjoint(env):
    made = [env.client.create_connection_alias(ConnectionString=f"desk{i}.example.net")["AliasId"] for i in range(3)]
    pages = _walk(env, "DescribeConnectionAliases", "ConnectionAliases", "Limit", {})
    assert [a["AliasId"] for page in pages for a in page] == [_seeded_alias(env)["AliasId"], *made]
    assert [len(page) for page in pages] == [2, 2]
