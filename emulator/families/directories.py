"""The directories family: registering directories with WorkSpaces, their settings, client branding and add-ins.

A directory is a Resource of kind ``directories`` whose body is the very dict
``store.directories`` holds for the seed operations and the other families
(CreateWorkspaces, ``backend.directory``), so its registration state moves on
the kind's lifecycle (rules.json ``resources.directory``: REGISTERING settles
in REGISTERED, DEREGISTERING in removal) while they read the same settings.
A deregistering directory leaves ``store.directories`` at once: nothing new
may use it, and only DescribeWorkspaceDirectories still lists it until it is
gone. What only this family shows (client properties, branding, add-ins)
lives in the Resource's ``private``.
"""
from __future__ import annotations

import copy
import string
import uuid

from ..errors import ApiError
from ..faults import CATALOGUE
from ..operations import handles, seeds

__all__ = ["registered", "render"]

KIND = "directories"
SEED_KEY = "directory_settings"
# The platforms of client branding, and the imported logo members with the URL member a describe shows.
PLATFORMS = ("DeviceTypeWindows", "DeviceTypeOsx", "DeviceTypeAndroid", "DeviceTypeIos",
             "DeviceTypeLinux", "DeviceTypeWeb")
_LOGOS = {"Logo": "LogoUrl", "Logo2x": "Logo2xUrl", "Logo3x": "Logo3xUrl"}
_BRANDING_HOST = "https://workspaces-client-branding.s3.amazonaws.com"
# States in which a directory cannot be deregistered (again).
_BUSY = ("REGISTERING", "DEREGISTERING")
# WorkSpaces that no longer hold a directory: they are being removed.
_LEAVING = ("TERMINATING", "TERMINATED")
_DEFAULT_CLIENT_PROPERTIES = {"ReconnectEnabled": "ENABLED", "LogUploadEnabled": "ENABLED"}
_DEFAULT_CREATION_PROPERTIES = {"EnableInternetAccess": False, "UserEnabledAsLocalAdministrator": True,
                                "EnableMaintenanceMode": True}
_SELF_SERVICE = ("RestartWorkspace", "IncreaseVolumeSize", "ChangeComputeType", "SwitchRunningMode",
                 "RebuildWorkspace")
_ACCESS_DEVICES = ("DeviceTypeWindows", "DeviceTypeOsx", "DeviceTypeWeb", "DeviceTypeIos", "DeviceTypeAndroid",
                   "DeviceTypeChromeOs", "DeviceTypeZeroClient", "DeviceTypeLinux")
_SAML_DELETABLE = {"SAML_PROPERTIES_USER_ACCESS_URL": "UserAccessUrl",
                   "SAML_PROPERTIES_RELAY_STATE_PARAMETER_NAME": "RelayStateParameterName"}
_CERTIFICATE_DELETABLE = {"CERTIFICATE_BASED_AUTH_PROPERTIES_CERTIFICATE_AUTHORITY_ARN": "CertificateAuthorityArn"}
# Operation -> the directory's settings structure it modifies (the request member of the same name), and the
# names its PropertiesToDelete may give with the members they remove. Lists in a structure (the streaming
# properties' UserSettings, StorageConnectors) are replaced whole when named, as the other members are.
_SETTINGS = {
    "ModifyWorkspaceCreationProperties": ("WorkspaceCreationProperties", {}),
    "ModifySelfservicePermissions": ("SelfservicePermissions", {}),
    "ModifyWorkspaceAccessProperties": ("WorkspaceAccessProperties", {}),
    "ModifySamlProperties": ("SamlProperties", _SAML_DELETABLE),
    "ModifyCertificateBasedAuthProperties": ("CertificateBasedAuthProperties", _CERTIFICATE_DELETABLE),
    "ModifyStreamingProperties": ("StreamingProperties", {}),
}
# The DirectoryType of a directory registered by WorkspaceDirectoryName: an Active Directory reached through
# ActiveDirectoryConfig is the customer's own, as a CUSTOMER_MANAGED identity source is.
_DIRECTORY_TYPE_BY_IDENTITY = {"CUSTOMER_MANAGED": "CUSTOMER_MANAGED",
                               "AWS_IAM_IDENTITY_CENTER": "AWS_IAM_IDENTITY_CENTER",
                               "AWS_DIRECTORY_SERVICE": "CUSTOMER_MANAGED"}


# -- the registered directories ------------------------------------------------------------

def _track(backend, directory: dict, tags=()):
    """Give a directory dict of the store its Resource, in the state its State member says."""
    return backend.add(KIND, directory["DirectoryId"], directory, state=directory.get("State", "REGISTERED"),
                       tags=tags, private={"client_properties": dict(_DEFAULT_CLIENT_PROPERTIES),
                                           "branding": {}, "add_ins": {}})


def registered(backend) -> list:
    """The Resources of the directories still listed, in registration order, states brought up to date."""
    store, table = backend.store, backend.store.of_kind(KIND)
    for directory_id in store.directory_order:
        if directory_id not in table:
            _track(backend, store.directories[directory_id])  # a directory put in the store by other means
    live = backend.records(KIND)
    for record in live:
        record.body["State"] = record.state  # what the other families read from store.directories
    return live


def render(record) -> dict:
    """The WorkspaceDirectory structure of a directory Resource, as DescribeWorkspaceDirectories shows it."""
    return dict(copy.deepcopy(record.body), State=record.state)


def _find(backend, directory_id, operation: str):
    """The directory Resource ``directory_id``; else the not-found error ``operation`` models."""
    registered(backend)
    return backend.find(KIND, directory_id, operation, what="directory")


def _invalid(message: str) -> ApiError:
    """The InvalidParameterValuesException of a request that breaks a documented rule of its own."""
    return ApiError.of_kind("invalid_parameter", message)


@seeds
def seed_directory_settings(backend) -> None:
    """Track the seeded directories and give them the seed's client properties, branding and add-ins."""
    settings = backend.seed_data.get(SEED_KEY) or {}
    store = backend.store
    records = {directory_id: _track(backend, store.directories[directory_id]) for directory_id in store.directory_order}
    for directory_id, properties in (settings.get("client_properties") or {}).items():
        if directory_id in records:
            records[directory_id].private["client_properties"].update(properties)
    for directory_id, branding in (settings.get("client_branding") or {}).items():
        if directory_id in records:
            records[directory_id].private["branding"] = copy.deepcopy(branding)
    for add_in in settings.get("connect_client_add_ins") or []:
        record = records.get(add_in["ResourceId"])
        if record is not None:
            record.private["add_ins"][add_in["AddInId"]] = (store.next_seq(), dict(add_in))


# -- registration --------------------------------------------------------------------------

@handles("RegisterWorkspaceDirectory")
def register_workspace_directory(backend, params: dict) -> dict:
    registered(backend)
    directory_id, name = params.get("DirectoryId"), params.get("WorkspaceDirectoryName")
    if (directory_id is None) == (name is None):
        raise _invalid("Give exactly one of DirectoryId (an AWS Directory Service directory) and "
                       "WorkspaceDirectoryName (a new directory of user identity type CUSTOMER_MANAGED or "
                       "AWS_IAM_IDENTITY_CENTER).")
    backend.check_tags(params.get("Tags") or [])
    if directory_id is not None:
        body = _directory_service_body(backend, params)
    else:
        body = _named_body(backend, params)
    store = backend.store
    body.update(_default_settings(backend, params))
    body["State"] = "REGISTERING"
    store.directories[body["DirectoryId"]] = body
    store.directory_order.append(body["DirectoryId"])
    record = _track(backend, body, tags=params.get("Tags") or ())
    return {"DirectoryId": record.id, "State": record.state}


def _directory_service_body(backend, params: dict) -> dict:
    """The describe body of an AWS Directory Service directory about to be registered."""
    directory_id = params["DirectoryId"]
    if params.get("UserIdentityType", "AWS_DIRECTORY_SERVICE") != "AWS_DIRECTORY_SERVICE":
        raise _invalid("A DirectoryId names an AWS Directory Service directory: leave UserIdentityType out or "
                       "give AWS_DIRECTORY_SERVICE.")
    leaving = backend.store.of_kind(KIND).get(directory_id)
    if leaving is not None and directory_id not in backend.store.directories:
        raise backend.refuse("RegisterWorkspaceDirectory", "invalid_state",
                             f"The directory {directory_id} is {leaving.state}; register it again once "
                             "DescribeWorkspaceDirectories no longer lists it.")
    if directory_id in backend.store.directories:
        raise backend.refuse("RegisterWorkspaceDirectory", "already_exists",
                             f"The directory {directory_id} is already registered with WorkSpaces; "
                             "deregister it first or use it as it is.")
    known = _directory_service(backend).get(directory_id)
    if known is None:
        raise backend.refuse("RegisterWorkspaceDirectory", "not_found",
                             f"The directory {directory_id} could not be found in AWS Directory Service.")
    body = {key: copy.deepcopy(known[key]) for key in ("DirectoryId", "Alias", "DirectoryName", "DnsIpAddresses",
                                                       "CustomerUserName", "DirectoryType") if key in known}
    body["SubnetIds"] = list(params.get("SubnetIds") or known.get("SubnetIds") or [])
    body["UserIdentityType"] = "AWS_DIRECTORY_SERVICE"
    return body


def _directory_service(backend) -> dict:
    """The AWS Directory Service directories of the account by id: the seeded ones and those not yet registered."""
    settings = backend.seed_data.get(SEED_KEY) or {}
    known = [d for d in backend.seed_data["directories"] if d["DirectoryId"].startswith("d-")]
    return {d["DirectoryId"]: d for d in known + list(settings.get("unregistered_directories") or [])}


def _named_body(backend, params: dict) -> dict:
    """The describe body of a new WorkSpaces directory named by WorkspaceDirectoryName (a wsd- id)."""
    name = params["WorkspaceDirectoryName"]
    taken = [d for d in backend.store.directories.values() if d.get("WorkspaceDirectoryName") == name]
    if taken:
        raise backend.refuse("RegisterWorkspaceDirectory", "already_exists",
                             f"The WorkspaceDirectoryName {name!r} is already used by {taken[0]['DirectoryId']}; "
                             "choose another name.")
    identity = params.get("UserIdentityType", "CUSTOMER_MANAGED")
    if identity == "AWS_IAM_IDENTITY_CENTER" and not params.get("IdcInstanceArn"):
        raise _invalid("UserIdentityType AWS_IAM_IDENTITY_CENTER needs IdcInstanceArn, the ARN of the "
                       "IAM Identity Center instance.")
    body = {"DirectoryId": backend.store.new_id("wsd-", 9), "WorkspaceDirectoryName": name,
            "SubnetIds": list(params.get("SubnetIds") or []), "UserIdentityType": identity,
            "DirectoryType": _DIRECTORY_TYPE_BY_IDENTITY[identity]}
    for member in ("WorkspaceDirectoryDescription", "MicrosoftEntraConfig", "ActiveDirectoryConfig",
                   "WorkspaceOsUserMode"):
        if member in params:
            body[member] = copy.deepcopy(params[member])
    if params.get("IdcInstanceArn"):
        body["IDCConfig"] = {"InstanceArn": params["IdcInstanceArn"]}
    return body


def _default_settings(backend, params: dict) -> dict:
    """The settings a newly registered directory starts with, from the request and the console's defaults."""
    store = backend.store
    self_service = "ENABLED" if params.get("EnableSelfService") else "DISABLED"
    code = "SLiad+" + "".join(store.rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    return {
        "RegistrationCode": code,
        "IamRoleId": f"arn:aws:iam::{store.account_id}:role/workspaces_DefaultRole",
        "WorkspaceSecurityGroupId": store.new_id("sg-", 17, "0123456789abcdef"),
        "WorkspaceCreationProperties": dict(_DEFAULT_CREATION_PROPERTIES),
        "Tenancy": params.get("Tenancy", "SHARED"),
        # Restarting is always open to users; the other permissions follow EnableSelfService.
        "SelfservicePermissions": {member: "ENABLED" if member == "RestartWorkspace" else self_service
                                   for member in _SELF_SERVICE},
        "WorkspaceAccessProperties": {device: "ALLOW" for device in _ACCESS_DEVICES},
        "SamlProperties": {"Status": "DISABLED"},
        "CertificateBasedAuthProperties": {"Status": "DISABLED"},
        "WorkspaceType": params.get("WorkspaceType", "PERSONAL"),
    }


@handles("DeregisterWorkspaceDirectory")
def deregister_workspace_directory(backend, params: dict) -> dict:
    operation = "DeregisterWorkspaceDirectory"
    record = _find(backend, params["DirectoryId"], operation)
    if record.state in _BUSY:
        raise backend.refuse(operation, "invalid_state",
                             f"The directory {record.id} is {record.state}; wait until it is REGISTERED.")
    held = [w.workspace_id for w in backend.all_workspaces()
            if w.directory_id == record.id and w.state not in _LEAVING]
    if held and "deregister_orphans_workspaces" not in backend.faults:
        raise backend.refuse(operation, "operation_not_supported",
                             f"The directory {record.id} still has {len(held)} WorkSpace(s) ({', '.join(held[:3])}); "
                             "terminate them before deregistering it.")
    backend.enter(record, "DEREGISTERING")
    record.body["State"] = record.state
    store = backend.store
    del store.directories[record.id]
    store.directory_order.remove(record.id)
    return {}


# -- directory settings ----------------------------------------------------------------------

def _merge(record, member: str, changes: dict, *, replace: bool = False) -> dict:
    """Set the members ``changes`` names in the directory's ``member`` structure, keeping the others."""
    current = {} if replace else dict(record.body.get(member) or {})
    current.update(copy.deepcopy(changes))
    record.body[member] = current
    return current


@handles(*_SETTINGS)
def modify_directory_settings(backend, params: dict, operation: str) -> dict:
    """Set the members the request names in a settings structure of the directory, and delete those it lists."""
    record = _find(backend, params["ResourceId"], operation)
    member, deletable = _SETTINGS[operation]
    fault = CATALOGUE["modify_replaces_settings"]
    replace = fault.name in backend.faults and operation in fault.operations
    merged = _merge(record, member, params.get(member) or {}, replace=replace)
    for name in params.get("PropertiesToDelete") or []:
        merged.pop(deletable[name], None)
    return {}


@handles("ModifyEndpointEncryptionMode")
def modify_endpoint_encryption_mode(backend, params: dict) -> dict:
    record = _find(backend, params["DirectoryId"], "ModifyEndpointEncryptionMode")
    record.body["EndpointEncryptionMode"] = params["EndpointEncryptionMode"]
    return {}


@handles("ModifyClientProperties")
def modify_client_properties(backend, params: dict) -> dict:
    record = _find(backend, params["ResourceId"], "ModifyClientProperties")
    record.private["client_properties"].update(params["ClientProperties"])
    return {}


@handles("DescribeClientProperties")
def describe_client_properties(backend, params: dict) -> dict:
    found = [_find(backend, resource_id, "DescribeClientProperties") for resource_id in params["ResourceIds"]]
    return {"ClientPropertiesList": [{"ResourceId": record.id,
                                      "ClientProperties": dict(record.private["client_properties"])}
                                     for record in found]}


# -- client branding -------------------------------------------------------------------------

@handles("ImportClientBranding")
def import_client_branding(backend, params: dict) -> dict:
    record = _find(backend, params["ResourceId"], "ImportClientBranding")
    given = {platform: params[platform] for platform in PLATFORMS if platform in params}
    if not given:
        raise _invalid(f"Give the branding of at least one platform: {', '.join(PLATFORMS)}.")
    for platform, attributes in given.items():
        if "SupportEmail" in attributes and "SupportLink" in attributes:
            raise _invalid(f"{platform} gives both SupportEmail and SupportLink; give only one of them.")
    imported = {platform: _stored_branding(record.id, platform, attributes) for platform, attributes in given.items()}
    # The imported experience replaces each named platform's branding; the other platforms keep theirs.
    record.private["branding"].update(imported)
    return _shown_branding(backend, imported)


def _stored_branding(directory_id: str, platform: str, attributes: dict) -> dict:
    """A platform's imported branding as kept: each logo stored and named by its URL."""
    stored = {}
    for member, value in attributes.items():
        if member in _LOGOS:
            stored[_LOGOS[member]] = f"{_BRANDING_HOST}/{directory_id}/{platform}/{member.lower()}.png"
        else:
            stored[member] = copy.deepcopy(value)
    return stored


def _shown_branding(backend, branding: dict) -> dict:
    shown = copy.deepcopy(branding)
    if "branding_logo_url_as_key" in backend.faults:
        # The storage key is written where the URL built from it belongs.
        for attributes in shown.values():
            for member in _LOGOS.values():
                if member in attributes:
                    attributes[member] = "branding/" + attributes[member][len(_BRANDING_HOST) + 1:]
    return shown


@handles("DescribeClientBranding")
def describe_client_branding(backend, params: dict) -> dict:
    record = _find(backend, params["ResourceId"], "DescribeClientBranding")
    return _shown_branding(backend, record.private["branding"])


@handles("DeleteClientBranding")
def delete_client_branding(backend, params: dict) -> dict:
    record = _find(backend, params["ResourceId"], "DeleteClientBranding")
    for platform in params["Platforms"]:
        record.private["branding"].pop(platform, None)
    return {}


# -- Amazon Connect client add-ins -----------------------------------------------------------

@handles("CreateConnectClientAddIn")
def create_connect_client_add_in(backend, params: dict) -> dict:
    operation = "CreateConnectClientAddIn"
    record = _find(backend, params["ResourceId"], operation)
    add_ins = record.private["add_ins"]
    if add_ins:
        existing = next(iter(add_ins.values()))[1]
        raise backend.refuse(operation, "already_exists",
                             f"The directory {record.id} already has the Amazon Connect client add-in "
                             f"{existing['AddInId']}; a directory has at most one: update or delete it instead.")
    add_in_id = str(uuid.UUID(int=backend.store.rng.getrandbits(128), version=4))
    add_ins[add_in_id] = (backend.store.next_seq(), {"AddInId": add_in_id, "ResourceId": record.id,
                                                     "Name": params["Name"], "URL": params["URL"]})
    return {"AddInId": add_in_id}


@handles("DescribeConnectClientAddIns")
def describe_connect_client_add_ins(backend, params: dict) -> dict:
    record = _find(backend, params["ResourceId"], "DescribeConnectClientAddIns")
    items = [(seq, dict(add_in)) for seq, add_in in record.private["add_ins"].values()]
    return backend.listing("DescribeConnectClientAddIns", params, items, "AddIns")


def _add_ins_holding(backend, params: dict, operation: str) -> dict:
    """The add-ins of directory ResourceId, which holds AddInId; else the not-found error ``operation`` models."""
    record = _find(backend, params["ResourceId"], operation)
    add_ins = record.private["add_ins"]
    if params["AddInId"] not in add_ins:
        raise backend.refuse(operation, "not_found",
                             f"The Amazon Connect client add-in {params['AddInId']} could not be found in "
                             f"the directory {record.id}.")
    return add_ins


@handles("UpdateConnectClientAddIn")
def update_connect_client_add_in(backend, params: dict) -> dict:
    add_in = _add_ins_holding(backend, params, "UpdateConnectClientAddIn")[params["AddInId"]][1]
    add_in.update({member: params[member] for member in ("Name", "URL") if member in params})
    return {}


@handles("DeleteConnectClientAddIn")
def delete_connect_client_add_in(backend, params: dict) -> dict:
    del _add_ins_holding(backend, params, "DeleteConnectClientAddIn")[params["AddInId"]]
    return {}
