"""The network family: IP access control groups and connection aliases for cross-Region redirection.

An IP access control group (kind ``ip_groups``, ids ``wsipg-``) holds CIDR
rules; associating it with a directory lists its id in the directory's
``ipGroupIds``, kept on the shared directory dict so DescribeWorkspaceDirectories
shows it. A connection alias (kind ``connection_aliases``, ids ``wsca-``) goes
CREATING -> CREATED on its kind's clock, DELETING -> gone when deleted, is
associated with at most one directory and may be shared with other accounts.
"""
from __future__ import annotations

import copy
import ipaddress

import specs

from ..errors import ApiError
from ..operations import handles, seeds

__all__: list[str] = []

_IP_GROUPS = "ip_groups"
_ALIASES = "connection_aliases"
_GROUP = "IP access control group"
_ALIAS = "connection alias"
# The WorkspaceDirectory member naming a directory's IP groups (lower case in the model).
_DIRECTORY_GROUPS = "ipGroupIds"
_ID_LENGTH = 9  # AWS group and alias ids carry 9 characters after the prefix
_IDENTIFIER_LENGTH = 12
_OWNER_ASSOCIATED = "ASSOCIATED_WITH_OWNER_ACCOUNT"


def _limit(rule_id: str, name: str) -> int:
    """A quota of the network family: parameter ``name`` of the rules.json error entry ``rule_id``."""
    return specs.rule(rule_id)["parameters"][name]


# -- seeding -------------------------------------------------------------------------------------


@seeds
def seed_network(backend) -> None:
    """Store the seed's ``network`` IP groups and connection aliases (a seed without the key has none)."""
    seeded = backend.seed_data.get("network") or {}
    for group in seeded.get("ip_groups", []):
        body = {key: copy.deepcopy(group[key]) for key in ("groupId", "groupName", "groupDesc", "userRules")
                if key in group}
        body.setdefault("userRules", [])
        backend.add(_IP_GROUPS, group["groupId"], body, tags=group.get("Tags") or ())
    for alias in seeded.get("connection_aliases", []):
        body = {"ConnectionString": alias["ConnectionString"], "AliasId": alias["AliasId"],
                "OwnerAccountId": backend.store.account_id}
        backend.add(_ALIASES, alias["AliasId"], body, state=alias.get("State", "CREATED"),
                    tags=alias.get("Tags") or (), private={"associations": [], "shares": {}})


# -- IP access control groups ----------------------------------------------------------------------


def _checked_rules(operation: str, items: list) -> list[dict]:
    """The rule items of a request, each an IPv4 CIDR; a later item for the same ipRule replaces an earlier one."""
    rules: dict[str, dict] = {}
    for item in items:
        cidr = item.get("ipRule")
        try:
            ipaddress.IPv4Network(cidr, strict=False)
        except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, TypeError, ValueError):
            raise ApiError.of_kind("invalid_parameter",
                                   f"{operation}: ipRule {cidr!r} is not an IPv4 address range in CIDR notation; "
                                   "give one such as 203.0.113.0/24.") from None
        rules[cidr] = {key: item[key] for key in ("ipRule", "ruleDesc") if key in item}
    return list(rules.values())


def _rules_within_limit(backend, operation: str, group_id: str, items: list) -> list[dict]:
    """The checked rules ``items`` leave a group with (see ``_checked_rules``), refused when over the quota."""
    rules = _checked_rules(operation, items)
    most = _limit("errors.limit_exceeded.ip_rules", "rules_per_group")
    if len(rules) > most:
        raise backend.refuse(operation, "limit_exceeded",
                             f"The {_GROUP} {group_id} can hold at most {most} rules; this request would "
                             f"leave {len(rules)}. Revoke rules first or use another group.")
    return rules


def _find_group(backend, group_id, operation: str):
    return backend.find(_IP_GROUPS, group_id, operation, _GROUP)


def _render_group(record) -> dict:
    return copy.deepcopy(record.body)


def _directories_naming(backend, group_id: str) -> list[str]:
    """The ids of the directories an IP group is associated with."""
    return [d["DirectoryId"] for d in backend.store.directories.values() if group_id in d.get(_DIRECTORY_GROUPS, ())]


def _registered_directory(backend, directory_id, operation: str) -> dict:
    directory = backend.directory(directory_id, operation)
    if directory.get("State", "REGISTERED") != "REGISTERED":
        raise backend.refuse(operation, "invalid_state",
                             f"The directory {directory_id} is {directory['State']}; IP access control groups "
                             "can be associated or disassociated only while it is REGISTERED.")
    return directory


@handles("CreateIpGroup")
def create_ip_group(backend, params: dict) -> dict:
    name = params["GroupName"]
    if not name.strip():
        raise ApiError.of_kind("invalid_parameter", "GroupName must not be empty; name the group.")
    tags = params.get("Tags") or []
    backend.check_tags(tags)
    groups = backend.records(_IP_GROUPS)
    if any(group.body["groupName"] == name for group in groups):
        raise backend.refuse("CreateIpGroup", "already_exists",
                             f"An {_GROUP} named {name!r} already exists; choose another GroupName.")
    most = _limit("errors.limit_exceeded.ip_groups", "groups_per_region")
    if len(groups) >= most:
        raise backend.refuse("CreateIpGroup", "limit_exceeded",
                             f"The account already has {most} IP access control groups, the most a Region "
                             "allows; delete one first.")
    group_id = backend.store.new_id("wsipg-", _ID_LENGTH)
    rules = _rules_within_limit(backend, "CreateIpGroup", group_id, params.get("UserRules") or [])
    body = {"groupId": group_id, "groupName": name}
    if params.get("GroupDesc") is not None:
        body["groupDesc"] = params["GroupDesc"]
    body["userRules"] = rules
    backend.add(_IP_GROUPS, group_id, body, tags=tags)
    return {"GroupId": group_id}


@handles("DeleteIpGroup")
def delete_ip_group(backend, params: dict) -> dict:
    group = _find_group(backend, params["GroupId"], "DeleteIpGroup")
    holders = _directories_naming(backend, group.id)
    if holders and "ip_group_delete_while_associated" not in backend.faults:
        raise backend.refuse("DeleteIpGroup", "constraint",
                             f"The {_GROUP} {group.id} is associated with {', '.join(holders)}; "
                             "disassociate it (DisassociateIpGroups) before deleting it.")
    del backend.store.of_kind(_IP_GROUPS)[group.id]
    return {}


@handles("DescribeIpGroups")
def describe_ip_groups(backend, params: dict) -> dict:
    groups = backend.records(_IP_GROUPS)
    wanted = params.get("GroupIds")
    if wanted and "ip_groups_filter_ignored" not in backend.faults:
        groups = [group for group in groups if group.id in wanted]
    return backend.listing("DescribeIpGroups", params, groups, "Result", render=_render_group)


@handles("AuthorizeIpRules")
def authorize_ip_rules(backend, params: dict) -> dict:
    group = _find_group(backend, params["GroupId"], "AuthorizeIpRules")
    group.body["userRules"] = _rules_within_limit(backend, "AuthorizeIpRules", group.id,
                                                  group.body["userRules"] + list(params["UserRules"]))
    return {}


@handles("RevokeIpRules")
def revoke_ip_rules(backend, params: dict) -> dict:
    group = _find_group(backend, params["GroupId"], "RevokeIpRules")
    revoked = list(params["UserRules"])
    if "ip_rules_revoke_ignored" in backend.faults:
        # The revoked CIDRs are compared with whole rule items, which never equal a string.
        group.body["userRules"] = [rule for rule in group.body["userRules"] if rule not in revoked]
    else:
        group.body["userRules"] = [rule for rule in group.body["userRules"] if rule["ipRule"] not in revoked]
    return {}


@handles("UpdateRulesOfIpGroup")
def update_rules_of_ip_group(backend, params: dict) -> dict:
    group = _find_group(backend, params["GroupId"], "UpdateRulesOfIpGroup")
    group.body["userRules"] = _rules_within_limit(backend, "UpdateRulesOfIpGroup", group.id, params["UserRules"])
    return {}


@handles("AssociateIpGroups")
def associate_ip_groups(backend, params: dict) -> dict:
    directory = _registered_directory(backend, params["DirectoryId"], "AssociateIpGroups")
    named = [_find_group(backend, group_id, "AssociateIpGroups").id for group_id in params["GroupIds"]]
    current = list(directory.get(_DIRECTORY_GROUPS, ()))
    merged = current + [group_id for group_id in dict.fromkeys(named) if group_id not in current]
    most = _limit("errors.limit_exceeded.ip_groups", "groups_per_directory")
    if len(merged) > most:
        raise backend.refuse("AssociateIpGroups", "limit_exceeded",
                             f"A directory can have at most {most} IP access control groups; "
                             f"{directory['DirectoryId']} would have {len(merged)}. Disassociate some first.")
    directory[_DIRECTORY_GROUPS] = merged
    return {}


@handles("DisassociateIpGroups")
def disassociate_ip_groups(backend, params: dict) -> dict:
    directory = _registered_directory(backend, params["DirectoryId"], "DisassociateIpGroups")
    named = {_find_group(backend, group_id, "DisassociateIpGroups").id for group_id in params["GroupIds"]}
    directory[_DIRECTORY_GROUPS] = [g for g in directory.get(_DIRECTORY_GROUPS, ()) if g not in named]
    return {}


# -- connection aliases ----------------------------------------------------------------------------


def _find_alias(backend, alias_id, operation: str):
    if "unknown_alias_server_error" in backend.faults:
        # The table is indexed without the existence check: an unknown id raises KeyError (HTTP 500).
        return backend.store.of_kind(_ALIASES)[alias_id]
    return backend.find(_ALIASES, alias_id, operation, _ALIAS)


def _alias_state(record) -> str:
    """The state an alias shows: on its kind's clock, else the one written into its body at creation."""
    return record.state if record.state is not None else record.body["State"]


def _require_created(backend, record, operation: str) -> None:
    state = _alias_state(record)
    if state != "CREATED":
        raise backend.refuse(operation, "invalid_state",
                             f"The {_ALIAS} {record.id} is {state}; {operation} needs it CREATED. "
                             "Poll DescribeConnectionAliases until it is.")


def _render_alias(record) -> dict:
    shown = copy.deepcopy(record.body)
    if record.state is not None:
        shown["State"] = record.state
    if record.private["associations"]:
        shown["Associations"] = copy.deepcopy(record.private["associations"])
    return shown


def _without_empty(answer: dict, key: str) -> dict:
    """``answer`` without ``key`` when it lists nothing: the model's list shape needs at least one item."""
    if not answer[key]:
        del answer[key]
    return answer


@handles("CreateConnectionAlias")
def create_connection_alias(backend, params: dict) -> dict:
    connection_string = params["ConnectionString"]
    tags = params.get("Tags") or []
    backend.check_tags(tags)
    aliases = backend.records(_ALIASES)
    if any(alias.body["ConnectionString"].lower() == connection_string.lower() for alias in aliases):
        raise backend.refuse("CreateConnectionAlias", "already_exists",
                             f"A {_ALIAS} for {connection_string!r} already exists; connection strings are "
                             "unique per account and Region.")
    most = _limit("errors.limit_exceeded.connection_aliases", "aliases_per_region")
    if len(aliases) >= most:
        raise backend.refuse("CreateConnectionAlias", "limit_exceeded",
                             f"The account already has {most} connection aliases, the most a Region allows; "
                             "delete one first.")
    alias_id = backend.store.new_id("wsca-", _ID_LENGTH)
    body = {"ConnectionString": connection_string, "AliasId": alias_id, "OwnerAccountId": backend.store.account_id}
    private = {"associations": [], "shares": {}}
    if "alias_never_created" in backend.faults:
        # The state is written once into the stored answer and never put on the clock.
        backend.add(_ALIASES, alias_id, dict(body, State="CREATING"), tags=tags, private=private)
    else:
        backend.add(_ALIASES, alias_id, body, state="CREATING", tags=tags, private=private)
    return {"AliasId": alias_id}


@handles("DeleteConnectionAlias")
def delete_connection_alias(backend, params: dict) -> dict:
    alias = _find_alias(backend, params["AliasId"], "DeleteConnectionAlias")
    _require_created(backend, alias, "DeleteConnectionAlias")
    if alias.private["associations"]:
        directory = alias.private["associations"][0]["ResourceId"]
        raise backend.refuse("DeleteConnectionAlias", "constraint",
                             f"The {_ALIAS} {alias.id} is associated with {directory}; disassociate it "
                             "(DisassociateConnectionAlias) before deleting it.")
    if alias.private["shares"]:
        raise backend.refuse("DeleteConnectionAlias", "constraint",
                             f"The {_ALIAS} {alias.id} is shared with {', '.join(alias.private['shares'])}; "
                             "unshare it (UpdateConnectionAliasPermission with AllowAssociation false) first.")
    backend.enter(alias, "DELETING")
    return {}


@handles("DescribeConnectionAliases")
def describe_connection_aliases(backend, params: dict) -> dict:
    aliases = backend.records(_ALIASES)
    if params.get("AliasIds"):
        aliases = [alias for alias in aliases if alias.id in params["AliasIds"]]
    if params.get("ResourceId") is not None:
        aliases = [alias for alias in aliases
                   if any(a["ResourceId"] == params["ResourceId"] for a in alias.private["associations"])]
    answer = backend.listing("DescribeConnectionAliases", params, aliases, "ConnectionAliases", render=_render_alias)
    return _without_empty(answer, "ConnectionAliases")


@handles("AssociateConnectionAlias")
def associate_connection_alias(backend, params: dict) -> dict:
    alias = _find_alias(backend, params["AliasId"], "AssociateConnectionAlias")
    _require_created(backend, alias, "AssociateConnectionAlias")
    if alias.private["associations"]:
        raise backend.refuse("AssociateConnectionAlias", "constraint",
                             f"The {_ALIAS} {alias.id} is already associated with "
                             f"{alias.private['associations'][0]['ResourceId']}; disassociate it first.")
    directory = backend.directory(params["ResourceId"], "AssociateConnectionAlias")
    identifier = backend.store.new_id("", _IDENTIFIER_LENGTH)
    alias.private["associations"].append({
        "AssociationStatus": _OWNER_ASSOCIATED, "AssociatedAccountId": backend.store.account_id,
        "ResourceId": directory["DirectoryId"], "ConnectionIdentifier": identifier})
    return {"ConnectionIdentifier": identifier}


@handles("DisassociateConnectionAlias")
def disassociate_connection_alias(backend, params: dict) -> dict:
    alias = _find_alias(backend, params["AliasId"], "DisassociateConnectionAlias")
    _require_created(backend, alias, "DisassociateConnectionAlias")
    if not alias.private["associations"]:
        raise backend.refuse("DisassociateConnectionAlias", "invalid_state",
                             f"The {_ALIAS} {alias.id} is not associated with any directory; "
                             "there is nothing to disassociate.")
    alias.private["associations"].clear()
    return {}


@handles("DescribeConnectionAliasPermissions")
def describe_connection_alias_permissions(backend, params: dict) -> dict:
    alias = _find_alias(backend, params["AliasId"], "DescribeConnectionAliasPermissions")
    shares = [(order, {"SharedAccountId": account, "AllowAssociation": True})
              for account, order in alias.private["shares"].items()]
    answer = backend.listing("DescribeConnectionAliasPermissions", params, shares, "ConnectionAliasPermissions")
    answer["AliasId"] = alias.id
    return _without_empty(answer, "ConnectionAliasPermissions")


@handles("UpdateConnectionAliasPermission")
def update_connection_alias_permission(backend, params: dict) -> dict:
    alias = _find_alias(backend, params["AliasId"], "UpdateConnectionAliasPermission")
    permission = params["ConnectionAliasPermission"]
    account = permission["SharedAccountId"]
    if account == backend.store.account_id:
        raise ApiError.of_kind("invalid_parameter",
                               f"SharedAccountId {account} is the alias owner's own account; "
                               "name another account to share with.")
    _require_created(backend, alias, "UpdateConnectionAliasPermission")
    shares = alias.private["shares"]
    if permission["AllowAssociation"]:
        shares.setdefault(account, backend.store.next_seq())  # its place in the permissions listing
    else:
        shares.pop(account, None)
    return {}
