"""The emulator's directories family: registration states, directory settings, client branding and add-ins."""
from __future__ import annotations

import re
import time

import jsonschema
import pytest

import specs
from emulator import Emulator

UNREGISTERED = "d-90670a3c5e"  # an AWS Directory Service directory of the seed, not yet registered
CORP, RESEARCH = "d-906734b2c1", "d-9067f00dca"
SEEDED_ADD_IN = "3f2a6c1e-8b4d-4e7a-9c21-5d8e0f7a6b13"
UNKNOWN = "d-0000000000"
LOGO = "iVBORw0KGgo="  # base64 of a PNG signature's first bytes


def _call(env, operation: str, body: dict) -> tuple[int, dict]:
    status, _, parsed = env.raw(operation, body)
    return status, parsed


def _code(env, operation: str, body: dict) -> str | None:
    status, parsed = _call(env, operation, body)
    return None if status == 200 else parsed.get("__type")


def _directory(env, directory_id: str) -> dict | None:
    """The directory as one DescribeWorkspaceDirectories shows it (one observation), or None when not listed."""
    found = _call(env, "DescribeWorkspaceDirectories", {"DirectoryIds": [directory_id]})[1]["Directories"]
    return found[0] if found else None


def _states(env, directory_id: str, polls: int = 3) -> list:
    """The State of each of ``polls`` describes of the directory (None once it is no longer listed)."""
    return [(_directory(env, directory_id) or {}).get("State") for _ in range(polls)]


def _register(env, directory_id: str = UNREGISTERED) -> str:
    status, parsed = _call(env, "RegisterWorkspaceDirectory", {"DirectoryId": directory_id})
    assert status == 200, parsed
    return parsed["DirectoryId"]


def _registered(env, directory_id: str = UNREGISTERED) -> str:
    _register(env, directory_id)
    _states(env, directory_id, polls=1)  # REGISTERING seen once: REGISTERED from now on
    return directory_id


def _client_properties(env, directory_id: str) -> dict:
    answer = _call(env, "DescribeClientProperties", {"ResourceIds": [directory_id]})[1]
    return answer["ClientPropertiesList"][0]["ClientProperties"]


def _add_in_example(env) -> dict:
    add_in = _call(env, "CreateConnectClientAddIn", {"ResourceId": RESEARCH, "Name": "Contact centre",
                                                     "URL": "https://research.my.connect.aws/ccp-v2"})[1]
    return {"ResourceId": RESEARCH, "AddInId": add_in["AddInId"]}


EXAMPLES = {
    "RegisterWorkspaceDirectory": lambda env: {"DirectoryId": UNREGISTERED, "Tenancy": "SHARED",
                                               "EnableSelfService": True},
    "DeregisterWorkspaceDirectory": lambda env: {"DirectoryId": RESEARCH},
    "ModifyWorkspaceCreationProperties": lambda env: {
        "ResourceId": CORP, "WorkspaceCreationProperties": {"EnableInternetAccess": True}},
    "ModifySelfservicePermissions": lambda env: {
        "ResourceId": CORP, "SelfservicePermissions": {"RebuildWorkspace": "ENABLED"}},
    "ModifyWorkspaceAccessProperties": lambda env: {
        "ResourceId": CORP, "WorkspaceAccessProperties": {"DeviceTypeWeb": "DENY"}},
    "ModifySamlProperties": lambda env: {
        "ResourceId": CORP, "SamlProperties": {"Status": "ENABLED", "UserAccessUrl": "https://idp.example.com/sso"}},
    "ModifyCertificateBasedAuthProperties": lambda env: {
        "ResourceId": CORP, "PropertiesToDelete": ["CERTIFICATE_BASED_AUTH_PROPERTIES_CERTIFICATE_AUTHORITY_ARN"]},
    "ModifyStreamingProperties": lambda env: {
        "ResourceId": "wsd-k3m9x2p7q", "StreamingProperties": {"StreamingExperiencePreferredProtocol": "UDP"}},
    "ModifyClientProperties": lambda env: {"ResourceId": CORP, "ClientProperties": {"LogUploadEnabled": "DISABLED"}},
    "DescribeClientProperties": lambda env: {"ResourceIds": [CORP, RESEARCH]},
    "ModifyEndpointEncryptionMode": lambda env: {"DirectoryId": CORP, "EndpointEncryptionMode": "FIPS_VALIDATED"},
    "ImportClientBranding": lambda env: {
        "ResourceId": RESEARCH, "DeviceTypeIos": {"Logo": LOGO, "Logo2x": LOGO, "SupportLink": "https://help.example.com"}},
    "DescribeClientBranding": lambda env: {"ResourceId": CORP},
    "DeleteClientBranding": lambda env: {"ResourceId": CORP, "Platforms": ["DeviceTypeWeb"]},
    "CreateConnectClientAddIn": lambda env: {"ResourceId": RESEARCH, "Name": "Support desk",
                                             "URL": "https://research.my.connect.aws/ccp-v2"},
    "DescribeConnectClientAddIns": lambda env: {"ResourceId": CORP, "MaxResults": 5},
    "UpdateConnectClientAddIn": lambda env: dict(_add_in_example(env), Name="Renamed desk"),
    "DeleteConnectClientAddIn": _add_in_example,
}


def _modify_then_describe(env) -> dict:
    _call(env, "ModifySelfservicePermissions", {"ResourceId": CORP,
                                                "SelfservicePermissions": {"RebuildWorkspace": "ENABLED"}})
    return _directory(env, CORP)["SelfservicePermissions"]


def _deregister_with_workspace(env) -> str | None:
    env.create(user="keeper")
    return _code(env, "DeregisterWorkspaceDirectory", {"DirectoryId": CORP})


def _branding_logo_url(env) -> bool:
    answer = _call(env, "ImportClientBranding", {"ResourceId": RESEARCH, "DeviceTypeWindows": {"Logo": LOGO}})[1]
    return answer["DeviceTypeWindows"]["LogoUrl"].startswith("https://")


FAULT_SCENARIOS = {
    "modify_replaces_settings": (
        _modify_then_describe,
        {"RestartWorkspace": "ENABLED", "IncreaseVolumeSize": "DISABLED", "ChangeComputeType": "DISABLED",
         "SwitchRunningMode": "DISABLED", "RebuildWorkspace": "ENABLED"},
        {"RebuildWorkspace": "ENABLED"}),
    "deregister_orphans_workspaces": (_deregister_with_workspace, "OperationNotSupportedException", None),
    "branding_logo_url_as_key": (_branding_logo_url, True, False),
}


# -- registration ------------------------------------------------------------------------

def test_register_goes_registering_then_registered(env):
    answer = _call(env, "RegisterWorkspaceDirectory", {"DirectoryId": UNREGISTERED})[1]
    assert answer == {"DirectoryId": UNREGISTERED, "State": "REGISTERING"}
    assert _states(env, UNREGISTERED) == ["REGISTERING", "REGISTERED", "REGISTERED"]


def test_a_registered_directory_starts_with_its_directory_facts_and_the_requests_settings(env):
    _call(env, "RegisterWorkspaceDirectory", {"DirectoryId": UNREGISTERED, "Tenancy": "DEDICATED",
                                              "EnableSelfService": True,
                                              "Tags": [{"Key": "team", "Value": "sales"}]})
    directory = _directory(env, UNREGISTERED)
    assert directory["DirectoryName"] == "sales.example.com" and directory["DirectoryType"] == "AD_CONNECTOR"
    assert directory["Tenancy"] == "DEDICATED" and directory["WorkspaceType"] == "PERSONAL"
    assert set(directory["SelfservicePermissions"].values()) == {"ENABLED"}
    assert set(directory["WorkspaceAccessProperties"].values()) == {"ALLOW"}
    assert re.fullmatch(r"sg-[0-9a-f]{17}", directory["WorkspaceSecurityGroupId"])
    assert env.client.describe_tags(ResourceId=UNREGISTERED)["TagList"] == [{"Key": "team", "Value": "sales"}]


def test_register_by_name_makes_a_wsd_directory(env):
    answer = _call(env, "RegisterWorkspaceDirectory", {
        "WorkspaceDirectoryName": "contractors", "UserIdentityType": "CUSTOMER_MANAGED",
        "WorkspaceType": "POOLS", "WorkspaceDirectoryDescription": "Contractor pool users"})[1]
    assert re.fullmatch(r"wsd-[0-9a-z]{9}", answer["DirectoryId"]) and answer["State"] == "REGISTERING"
    found = _call(env, "DescribeWorkspaceDirectories", {"WorkspaceDirectoryNames": ["contractors"]})[1]
    assert [d["DirectoryId"] for d in found["Directories"]] == [answer["DirectoryId"]]
    assert found["Directories"][0]["DirectoryType"] == "CUSTOMER_MANAGED"
    assert found["Directories"][0]["WorkspaceType"] == "POOLS"


@pytest.mark.parametrize("body, code", [
    ({"DirectoryId": CORP}, "ResourceAlreadyExistsException"),
    ({"WorkspaceDirectoryName": "pools-example"}, "ResourceAlreadyExistsException"),
    ({"DirectoryId": UNKNOWN}, "ResourceNotFoundException"),
    ({}, "InvalidParameterValuesException"),
    ({"DirectoryId": UNREGISTERED, "WorkspaceDirectoryName": "both"}, "InvalidParameterValuesException"),
])
def test_register_refusals(env, body, code):
    assert _code(env, "RegisterWorkspaceDirectory", body) == code


def test_deregister_goes_deregistering_then_is_no_longer_listed(env):
    assert _code(env, "DeregisterWorkspaceDirectory", {"DirectoryId": RESEARCH}) is None
    assert _states(env, RESEARCH) == ["DEREGISTERING", None, None]
    listed = [d["DirectoryId"] for d in _call(env, "DescribeWorkspaceDirectories", {})[1]["Directories"]]
    assert RESEARCH not in listed and CORP in listed
    assert _code(env, "ModifyClientProperties", {"ResourceId": RESEARCH,
                                                 "ClientProperties": {"ReconnectEnabled": "ENABLED"}}) \
        == "ResourceNotFoundException"


def test_a_deregistered_directory_can_be_registered_again(env):
    _call(env, "DeregisterWorkspaceDirectory", {"DirectoryId": RESEARCH})
    _states(env, RESEARCH, polls=2)
    assert _register(env, RESEARCH) == RESEARCH
    assert _states(env, RESEARCH, polls=2) == ["REGISTERING", "REGISTERED"]


def test_a_deregistering_directory_takes_no_new_workspaces_and_its_tags_go_with_it(env):
    env.client.create_tags(ResourceId=RESEARCH, Tags=[{"Key": "team", "Value": "research"}])
    _call(env, "DeregisterWorkspaceDirectory", {"DirectoryId": RESEARCH})
    assert _code(env, "RegisterWorkspaceDirectory", {"DirectoryId": RESEARCH}) == "InvalidResourceStateException"
    failed = env.client.create_workspaces(Workspaces=[{"DirectoryId": RESEARCH, "UserName": "late",
                                                       "BundleId": env.bundle}])["FailedRequests"]
    assert [f["ErrorCode"] for f in failed] == ["ResourceNotFound.Directory"]
    assert _call(env, "DescribeTags", {"ResourceId": RESEARCH})[1]["TagList"] == [{"Key": "team", "Value": "research"}]
    _states(env, RESEARCH, polls=1)
    assert _code(env, "DescribeTags", {"ResourceId": RESEARCH}) == "ResourceNotFoundException"


def test_states_settle_on_the_wall_clock_too():
    with Emulator(transition_seconds=0.05) as emulator:
        backend = emulator.backend
        backend.handle("RegisterWorkspaceDirectory", {"DirectoryId": UNREGISTERED})
        backend.handle("DeregisterWorkspaceDirectory", {"DirectoryId": RESEARCH})
        listed = {d["DirectoryId"]: d["State"] for d in backend.handle("DescribeWorkspaceDirectories", {})["Directories"]}
        assert (listed[UNREGISTERED], listed[RESEARCH]) == ("REGISTERING", "DEREGISTERING")
        time.sleep(0.1)
        listed = {d["DirectoryId"]: d["State"] for d in backend.handle("DescribeWorkspaceDirectories", {})["Directories"]}
        assert listed[UNREGISTERED] == "REGISTERED" and RESEARCH not in listed
        assert backend.store.directories[UNREGISTERED]["State"] == "REGISTERED"


def test_deregister_refuses_while_workspaces_remain_and_allows_once_they_terminate(env):
    workspace_id = env.create(user="keeper")
    assert _code(env, "DeregisterWorkspaceDirectory", {"DirectoryId": CORP}) == "OperationNotSupportedException"
    assert _directory(env, CORP)["State"] == "REGISTERED"
    env.client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": workspace_id}])
    assert _code(env, "DeregisterWorkspaceDirectory", {"DirectoryId": CORP}) is None


def test_deregister_refuses_a_directory_in_transition(env):
    _register(env)
    assert _code(env, "DeregisterWorkspaceDirectory", {"DirectoryId": UNREGISTERED}) \
        == "InvalidResourceStateException"
    _call(env, "DeregisterWorkspaceDirectory", {"DirectoryId": RESEARCH})
    assert _code(env, "DeregisterWorkspaceDirectory", {"DirectoryId": RESEARCH}) == "InvalidResourceStateException"


def test_directories_page_completely_and_disjointly(env):
    _registered(env, UNREGISTERED)
    _registered(env, "d-9067b7e41f")
    ids, token = [], None
    for _ in range(10):
        page = _call(env, "DescribeWorkspaceDirectories", dict(Limit=2, **({"NextToken": token} if token else {})))[1]
        assert len(page["Directories"]) <= 2
        ids += [d["DirectoryId"] for d in page["Directories"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(ids) == len(set(ids)) == 5


# -- settings ----------------------------------------------------------------------------

@pytest.mark.parametrize("operation, member, changes", [
    ("ModifySelfservicePermissions", "SelfservicePermissions", {"IncreaseVolumeSize": "ENABLED"}),
    ("ModifyWorkspaceAccessProperties", "WorkspaceAccessProperties", {"DeviceTypeAndroid": "DENY"}),
    ("ModifyWorkspaceCreationProperties", "WorkspaceCreationProperties",
     {"DefaultOu": "OU=WorkSpaces,DC=corp,DC=example,DC=com"}),
])
def test_a_modify_changes_only_the_members_it_names(env, operation, member, changes):
    before = _directory(env, CORP)
    _call(env, operation, {"ResourceId": CORP, member: changes})
    after = _directory(env, CORP)
    assert after[member] == dict(before[member], **changes)
    assert {k: v for k, v in after.items() if k != member} == {k: v for k, v in before.items() if k != member}


def test_a_member_the_model_does_not_know_is_ignored_by_a_modify(env):
    # A client built from a newer model may send members this one lacks: answered, never a server error.
    before = _directory(env, CORP)
    status, _ = _call(env, "ModifySelfservicePermissions", {
        "ResourceId": CORP, "SelfservicePermissions": {"RebuildWorkspace": "ENABLED"}, "FutureMember": True})
    assert status == 200
    assert _directory(env, CORP)["SelfservicePermissions"] == dict(before["SelfservicePermissions"],
                                                                   RebuildWorkspace="ENABLED")


def test_saml_properties_merge_and_delete(env):
    _call(env, "ModifySamlProperties", {"ResourceId": CORP, "SamlProperties": {
        "Status": "ENABLED", "UserAccessUrl": "https://idp.example.com/sso", "RelayStateParameterName": "RelayState"}})
    _call(env, "ModifySamlProperties", {"ResourceId": CORP, "SamlProperties": {"Status": "DISABLED"},
                                        "PropertiesToDelete": ["SAML_PROPERTIES_USER_ACCESS_URL"]})
    assert _directory(env, CORP)["SamlProperties"] == {"Status": "DISABLED", "RelayStateParameterName": "RelayState"}


def test_certificate_based_auth_properties_merge_and_delete(env):
    arn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/0b5a5e3c-7c9e-4a52-9f0e-3a1b2c3d4e5f"
    _call(env, "ModifyCertificateBasedAuthProperties", {"ResourceId": CORP, "CertificateBasedAuthProperties": {
        "Status": "ENABLED", "CertificateAuthorityArn": arn}})
    assert _directory(env, CORP)["CertificateBasedAuthProperties"] == {"Status": "ENABLED",
                                                                       "CertificateAuthorityArn": arn}
    _call(env, "ModifyCertificateBasedAuthProperties", {"ResourceId": CORP, "PropertiesToDelete": [
        "CERTIFICATE_BASED_AUTH_PROPERTIES_CERTIFICATE_AUTHORITY_ARN"]})
    assert _directory(env, CORP)["CertificateBasedAuthProperties"] == {"Status": "ENABLED"}


def test_streaming_properties_and_encryption_mode_show_in_the_describe(env):
    _call(env, "ModifyStreamingProperties", {"ResourceId": CORP, "StreamingProperties": {
        "StreamingExperiencePreferredProtocol": "UDP"}})
    _call(env, "ModifyStreamingProperties", {"ResourceId": CORP, "StreamingProperties": {
        "UserSettings": [{"Action": "CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "Permission": "DISABLED"}]}})
    _call(env, "ModifyEndpointEncryptionMode", {"DirectoryId": CORP, "EndpointEncryptionMode": "FIPS_VALIDATED"})
    directory = _directory(env, CORP)
    assert directory["StreamingProperties"] == {
        "StreamingExperiencePreferredProtocol": "UDP",
        "UserSettings": [{"Action": "CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "Permission": "DISABLED"}]}
    assert directory["EndpointEncryptionMode"] == "FIPS_VALIDATED"


def test_client_properties_are_seeded_defaulted_and_merged(env):
    assert _client_properties(env, RESEARCH) == {"ReconnectEnabled": "DISABLED", "LogUploadEnabled": "DISABLED"}
    assert _client_properties(env, CORP) == {"ReconnectEnabled": "ENABLED", "LogUploadEnabled": "ENABLED"}
    _call(env, "ModifyClientProperties", {"ResourceId": CORP, "ClientProperties": {"ReconnectEnabled": "DISABLED"}})
    assert _client_properties(env, CORP) == {"ReconnectEnabled": "DISABLED", "LogUploadEnabled": "ENABLED"}
    listed = _call(env, "DescribeClientProperties", {"ResourceIds": [RESEARCH, CORP]})[1]["ClientPropertiesList"]
    assert [item["ResourceId"] for item in listed] == [RESEARCH, CORP]


@pytest.mark.parametrize("operation, body", [
    ("ModifyWorkspaceCreationProperties", {"ResourceId": UNKNOWN, "WorkspaceCreationProperties": {}}),
    ("ModifySelfservicePermissions", {"ResourceId": UNKNOWN, "SelfservicePermissions": {}}),
    ("ModifyWorkspaceAccessProperties", {"ResourceId": UNKNOWN, "WorkspaceAccessProperties": {}}),
    ("ModifySamlProperties", {"ResourceId": UNKNOWN}),
    ("ModifyCertificateBasedAuthProperties", {"ResourceId": UNKNOWN}),
    ("ModifyStreamingProperties", {"ResourceId": UNKNOWN}),
    ("ModifyEndpointEncryptionMode", {"DirectoryId": UNKNOWN, "EndpointEncryptionMode": "STANDARD_TLS"}),
    ("ModifyClientProperties", {"ResourceId": UNKNOWN, "ClientProperties": {}}),
    ("DescribeClientProperties", {"ResourceIds": [CORP, UNKNOWN]}),
    ("DeregisterWorkspaceDirectory", {"DirectoryId": UNKNOWN}),
    ("ImportClientBranding", {"ResourceId": UNKNOWN, "DeviceTypeWeb": {"SupportEmail": "help@example.com"}}),
    ("DescribeClientBranding", {"ResourceId": UNKNOWN}),
    ("DeleteClientBranding", {"ResourceId": UNKNOWN, "Platforms": ["DeviceTypeWeb"]}),
    ("CreateConnectClientAddIn", {"ResourceId": UNKNOWN, "Name": "x", "URL": "https://x.example.com"}),
    ("DescribeConnectClientAddIns", {"ResourceId": UNKNOWN}),
    ("UpdateConnectClientAddIn", {"ResourceId": CORP, "AddInId": "00000000-0000-4000-8000-000000000000"}),
    ("DeleteConnectClientAddIn", {"ResourceId": RESEARCH, "AddInId": SEEDED_ADD_IN}),
])
def test_unknown_directories_and_add_ins_are_not_found(env, operation, body):
    status, parsed = _call(env, operation, body)
    assert (status, parsed.get("__type")) == (400, "ResourceNotFoundException")


# -- client branding -----------------------------------------------------------------------

def test_branding_is_seeded_imported_per_platform_and_deleted_by_platform(env):
    assert set(_call(env, "DescribeClientBranding", {"ResourceId": CORP})[1]) == {"DeviceTypeWindows", "DeviceTypeWeb"}
    answer = _call(env, "ImportClientBranding", {"ResourceId": CORP, "DeviceTypeWindows": {
        "Logo": LOGO, "SupportLink": "https://help.corp.example.com"}})[1]
    assert set(answer) == {"DeviceTypeWindows"}
    assert answer["DeviceTypeWindows"]["LogoUrl"].startswith("https://")
    described = _call(env, "DescribeClientBranding", {"ResourceId": CORP})[1]
    # The import replaces the platform's branding whole and leaves the other platforms alone.
    assert described["DeviceTypeWindows"] == answer["DeviceTypeWindows"]
    assert "SupportEmail" not in described["DeviceTypeWindows"] and "DeviceTypeWeb" in described
    _call(env, "DeleteClientBranding", {"ResourceId": CORP, "Platforms": ["DeviceTypeWeb"]})
    assert set(_call(env, "DescribeClientBranding", {"ResourceId": CORP})[1]) == {"DeviceTypeWindows"}


@pytest.mark.parametrize("body", [
    {"ResourceId": CORP},
    {"ResourceId": CORP, "DeviceTypeOsx": {"SupportEmail": "help@example.com", "SupportLink": "https://h.example.com"}},
])
def test_branding_import_refusals(env, body):
    assert _code(env, "ImportClientBranding", body) == "InvalidParameterValuesException"


# -- Amazon Connect client add-ins ---------------------------------------------------------

def test_add_ins_are_seeded_created_updated_and_deleted(env):
    seeded = _call(env, "DescribeConnectClientAddIns", {"ResourceId": CORP})[1]["AddIns"]
    assert [a["AddInId"] for a in seeded] == [SEEDED_ADD_IN]
    add_in_id = _call(env, "CreateConnectClientAddIn", {"ResourceId": RESEARCH, "Name": "Desk",
                                                        "URL": "https://research.my.connect.aws/ccp-v2"})[1]["AddInId"]
    assert re.fullmatch(r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}", add_in_id)
    _call(env, "UpdateConnectClientAddIn", {"ResourceId": RESEARCH, "AddInId": add_in_id, "Name": "Front desk"})
    listed = _call(env, "DescribeConnectClientAddIns", {"ResourceId": RESEARCH, "MaxResults": 1})[1]
    assert listed == {"AddIns": [{"AddInId": add_in_id, "ResourceId": RESEARCH, "Name": "Front desk",
                                  "URL": "https://research.my.connect.aws/ccp-v2"}]}
    _call(env, "DeleteConnectClientAddIn", {"ResourceId": RESEARCH, "AddInId": add_in_id})
    assert _call(env, "DescribeConnectClientAddIns", {"ResourceId": RESEARCH})[1]["AddIns"] == []


def test_a_directory_holds_one_add_in(env):
    assert _code(env, "CreateConnectClientAddIn", {"ResourceId": CORP, "Name": "Second",
                                                   "URL": "https://corp.my.connect.aws/ccp-v2"}) \
        == "ResourceAlreadyExistsException"


# -- answers -------------------------------------------------------------------------------

@pytest.mark.parametrize("operation", sorted(EXAMPLES))
def test_each_example_is_served_with_an_answer_of_the_output_schema(env, operation):
    status, parsed = _call(env, operation, EXAMPLES[operation](env))
    assert status == 200, parsed
    jsonschema.validate(parsed, specs.operation(operation)["output"])


def test_describes_of_the_settled_directories_validate(env):
    _registered(env)
    for operation in ("ModifySamlProperties", "ModifyStreamingProperties", "ModifyEndpointEncryptionMode"):
        _call(env, operation, EXAMPLES[operation](env))
    answer = _call(env, "DescribeWorkspaceDirectories", {})[1]
    jsonschema.validate(answer, specs.operation("DescribeWorkspaceDirectories")["output"])
