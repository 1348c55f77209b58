"""The emulator's bundles family: custom bundles, WorkSpaces applications and their associations."""
from __future__ import annotations

import re

import specs

OFFICE = "Microsoft Office 2021"
VISUAL_STUDIO = "Microsoft Visual Studio Professional 2022"
LINUX_BUNDLE_NAME = "Standard with Amazon Linux 2"
_APPLICATION_ID = re.compile(specs.operation("DescribeApplications")["output"]["definitions"]
                             ["WorkSpaceApplicationId"]["pattern"])


def _error(env, operation, body):
    status, _, parsed = env.raw(operation, body)
    return status, parsed.get("__type") if isinstance(parsed, dict) else None


def _ok(env, operation, body) -> dict:
    status, _, parsed = env.raw(operation, body)
    assert status == 200, (operation, parsed)
    return parsed


def _application(env, name: str) -> str:
    """The id of the seeded application whose name starts with ``name``."""
    applications = _ok(env, "DescribeApplications", {})["Applications"]
    return next(a["ApplicationId"] for a in applications if a["Name"].startswith(name))


def _images(env, associated: bool | None = None) -> list[str]:
    """AVAILABLE images of the account, those with application associations (or without) if asked."""
    account = env.emulator.seed["account_id"]
    found = []
    for image in _ok(env, "DescribeWorkspaceImages", {})["Images"]:
        if image["State"] != "AVAILABLE" or image.get("OwnerAccountId") != account:
            continue
        has = bool(_ok(env, "DescribeImageAssociations", {"ImageId": image["ImageId"],
                                                           "AssociatedResourceTypes": ["APPLICATION"]})["Associations"])
        if associated is None or has == associated:
            found.append(image["ImageId"])
    return found


def _bundle(env, name: str = "team-bundle", image: str | None = None, **extra) -> str:
    body = dict(BundleName=name, BundleDescription="A team bundle", ImageId=image or _images(env)[0],
                ComputeType={"Name": "STANDARD"}, UserStorage={"Capacity": "50"})
    body.update(extra)
    return _ok(env, "CreateWorkspaceBundle", body)["WorkspaceBundle"]["BundleId"]


def _listed_bundles(env) -> dict:
    return {b["BundleId"]: b for b in _ok(env, "DescribeWorkspaceBundles", {})["Bundles"]}


def _amazon_bundle(env, name: str | None = None) -> str:
    bundles = _ok(env, "DescribeWorkspaceBundles", {"Owner": "AMAZON"})["Bundles"]
    return next(b["BundleId"] for b in bundles if name is None or b["Name"] == name)


def _available(env, bundle: str | None = None) -> str:
    """A new AVAILABLE WorkSpace (of ``bundle`` if given, else the Windows STANDARD bundle)."""
    if bundle is None:
        workspace_id = env.create()
    else:
        answer = env.client.create_workspaces(Workspaces=[{"DirectoryId": env.directories[0], "UserName": "linus",
                                                           "BundleId": bundle}])
        workspace_id = answer["PendingRequests"][0]["WorkspaceId"]
    assert env.settle(workspace_id) == "AVAILABLE"
    return workspace_id


def _associated(env, application: str = OFFICE) -> tuple[str, str]:
    workspace_id, application_id = _available(env), _application(env, application)
    _ok(env, "AssociateWorkspaceApplication", {"WorkspaceId": workspace_id, "ApplicationId": application_id})
    return workspace_id, application_id


def _workspace_states(env, workspace_id: str) -> dict:
    answer = _ok(env, "DescribeWorkspaceAssociations", {"WorkspaceId": workspace_id,
                                                        "AssociatedResourceTypes": ["APPLICATION"]})
    return {a["AssociatedResourceId"]: a["State"] for a in answer["Associations"]}


def _walk(env, operation: str, body: dict, key: str, id_key: str) -> list[list[str]]:
    """Every page of a MaxResults listing, as lists of ids."""
    pages, token = [], None
    while len(pages) < 20:
        answer = _ok(env, operation, dict(body, **({"NextToken": token} if token else {})))
        pages.append([item[id_key] for item in answer[key]])
        token = answer.get("NextToken")
        if not token:
            return pages
    raise AssertionError(f"{operation} kept answering a NextToken")


def _updated_bundle(env) -> dict:
    first, second = _images(env)[:2]
    bundle_id = _bundle(env, image=first)
    return {"BundleId": bundle_id, "ImageId": second}


EXAMPLES = {
    "CreateWorkspaceBundle": lambda env: {
        "BundleName": "example-bundle", "BundleDescription": "An example bundle", "ImageId": _images(env)[0],
        "ComputeType": {"Name": "PERFORMANCE"}, "UserStorage": {"Capacity": "100"},
        "RootStorage": {"Capacity": "175"}, "Tags": [{"Key": "team", "Value": "blue"}]},
    "UpdateWorkspaceBundle": _updated_bundle,
    "DeleteWorkspaceBundle": lambda env: {"BundleId": _bundle(env)},
    "DescribeBundleAssociations": lambda env: {"BundleId": _bundle(env, image=_images(env, associated=True)[0]),
                                               "AssociatedResourceTypes": ["APPLICATION"]},
    "DescribeApplications": lambda env: {"LicenseType": "LICENSED", "MaxResults": 2},
    "AssociateWorkspaceApplication": lambda env: {"WorkspaceId": _available(env),
                                                  "ApplicationId": _application(env, OFFICE)},
    "DisassociateWorkspaceApplication": lambda env: dict(zip(("WorkspaceId", "ApplicationId"), _associated(env))),
    "DeployWorkspaceApplications": lambda env: {"WorkspaceId": _associated(env)[0], "Force": True},
    "DescribeApplicationAssociations": lambda env: {"ApplicationId": _associated(env, VISUAL_STUDIO)[1],
                                                    "AssociatedResourceTypes": ["WORKSPACE", "BUNDLE", "IMAGE"],
                                                    "MaxResults": 5},
    "DescribeWorkspaceAssociations": lambda env: {"WorkspaceId": _associated(env)[0],
                                                  "AssociatedResourceTypes": ["APPLICATION"]},
}


# -- faults ----------------------------------------------------------------------------------

def _delete_then_list(env) -> bool:
    bundle_id = _bundle(env)
    _ok(env, "DeleteWorkspaceBundle", {"BundleId": bundle_id})
    return bundle_id in _listed_bundles(env)


def _associate_then_describe(env) -> tuple:
    workspace_id, application_id = _associated(env)
    by_application = _ok(env, "DescribeApplicationAssociations", {"ApplicationId": application_id,
                                                                  "AssociatedResourceTypes": ["WORKSPACE"]})
    return tuple(_workspace_states(env, workspace_id)), len(by_application["Associations"])


def _associate_unknown(env) -> tuple:
    return _error(env, "AssociateWorkspaceApplication", {"WorkspaceId": _available(env),
                                                         "ApplicationId": "wsa-000000000"})


def _license_types(env) -> set:
    answer = _ok(env, "DescribeApplications", {"LicenseType": "UNLICENSED"})
    return {a["LicenseType"] for a in answer["Applications"]}


FAULT_SCENARIOS = {
    "bundle_delete_leaves_describable": (_delete_then_list, False, True),
    "application_association_not_recorded": (_associate_then_describe, (("wsa-7k2m9q4xd",), 1), ((), 0)),
    "application_unknown_id_server_error": (_associate_unknown, (400, "ResourceNotFoundException"),
                                            (500, "InternalFailure")),
    "application_license_filter_ignored": (_license_types, {"UNLICENSED"}, {"LICENSED", "UNLICENSED"}),
}


# -- bundles ---------------------------------------------------------------------------------

def test_created_bundle_is_listed_as_the_accounts_with_its_tags(env):
    image = _images(env)[0]
    bundle_id = _bundle(env, "engineering-heavy", image, RootStorage={"Capacity": "175"},
                        UserStorage={"Capacity": "100"}, Tags=[{"Key": "team", "Value": "blue"}])
    bundle = _listed_bundles(env)[bundle_id]
    assert bundle["Owner"] == env.emulator.seed["account_id"] and bundle["Name"] == "engineering-heavy"
    assert bundle["ImageId"] == image and bundle["State"] == "AVAILABLE" and bundle["BundleType"] == "REGULAR"
    assert bundle["RootStorage"] == {"Capacity": "175"} and bundle["UserStorage"] == {"Capacity": "100"}
    assert bundle_id not in {b["BundleId"] for b in _ok(env, "DescribeWorkspaceBundles", {"Owner": "AMAZON"})["Bundles"]}
    assert env.client.describe_tags(ResourceId=bundle_id)["TagList"] == [{"Key": "team", "Value": "blue"}]
    # A WorkSpace can be made from it.
    created = env.client.create_workspaces(Workspaces=[{"DirectoryId": env.directories[0], "UserName": "dana",
                                                        "BundleId": bundle_id}])
    assert not created["FailedRequests"]


def test_create_refuses_a_taken_name_and_a_missing_or_pending_image(env):
    _bundle(env, "taken")
    body = dict(BundleName="taken", BundleDescription="again", ImageId=_images(env)[0],
                ComputeType={"Name": "VALUE"}, UserStorage={"Capacity": "10"})
    assert _error(env, "CreateWorkspaceBundle", body) == (400, "ResourceAlreadyExistsException")
    assert _error(env, "CreateWorkspaceBundle", dict(body, BundleName="fresh", ImageId="wsi-000000000")) == \
        (400, "ResourceNotFoundException")
    pending = _ok(env, "CopyWorkspaceImage", {"Name": "copy-in-flight", "SourceImageId": _images(env)[0],
                                              "SourceRegion": "us-east-1"})["ImageId"]
    assert _error(env, "CreateWorkspaceBundle", dict(body, BundleName="fresh", ImageId=pending)) == \
        (400, "ResourceUnavailableException")
    assert _error(env, "CreateWorkspaceBundle", dict(body, BundleName="fresh", ComputeType={})) == \
        (400, "InvalidParameterValuesException")
    assert _error(env, "CreateWorkspaceBundle", dict(body, BundleName="fresh", RootStorage={"Capacity": "175"})) == \
        (400, "InvalidParameterValuesException")  # root 175 GB needs a user volume of 100 GB or more
    assert "fresh" not in {b["Name"] for b in _listed_bundles(env).values()}


def test_update_changes_only_the_image(env):
    params = _updated_bundle(env)
    before = _listed_bundles(env)[params["BundleId"]]
    assert _ok(env, "UpdateWorkspaceBundle", params) == {}
    after = _listed_bundles(env)[params["BundleId"]]
    assert after["ImageId"] == params["ImageId"] and after["LastUpdatedTime"] >= before["LastUpdatedTime"]
    assert {k: v for k, v in after.items() if k not in ("ImageId", "LastUpdatedTime")} == \
        {k: v for k, v in before.items() if k not in ("ImageId", "LastUpdatedTime")}


def test_update_and_delete_refuse_unknown_and_amazon_bundles(env):
    image = _images(env)[0]
    amazon = _amazon_bundle(env)
    assert _error(env, "UpdateWorkspaceBundle", {"BundleId": "wsb-000000000", "ImageId": image}) == \
        (400, "ResourceNotFoundException")
    assert _error(env, "UpdateWorkspaceBundle", {"BundleId": amazon, "ImageId": image}) == \
        (400, "AccessDeniedException")
    assert _error(env, "UpdateWorkspaceBundle", {"BundleId": _bundle(env), "ImageId": "wsi-000000000"}) == \
        (400, "ResourceNotFoundException")
    assert _error(env, "DeleteWorkspaceBundle", {"BundleId": "wsb-000000000"}) == (400, "ResourceNotFoundException")
    assert _error(env, "DeleteWorkspaceBundle", {"BundleId": amazon}) == (400, "AccessDeniedException")
    assert _error(env, "DeleteWorkspaceBundle", {}) == (400, "InvalidParameterValuesException")
    assert amazon in {b["BundleId"] for b in _ok(env, "DescribeWorkspaceBundles", {"Owner": "AMAZON"})["Bundles"]}


def test_delete_removes_the_bundle_unless_workspaces_use_it(env):
    unused, used = _bundle(env, "unused"), _bundle(env, "used")
    env.client.create_workspaces(Workspaces=[{"DirectoryId": env.directories[0], "UserName": "erin",
                                              "BundleId": used}])
    assert _error(env, "DeleteWorkspaceBundle", {"BundleId": used}) == (400, "ResourceAssociatedException")
    assert _ok(env, "DeleteWorkspaceBundle", {"BundleId": unused}) == {}
    listed = _listed_bundles(env)
    assert unused not in listed and used in listed
    assert _ok(env, "DescribeWorkspaceBundles", {"BundleIds": [unused]})["Bundles"] == []
    assert _error(env, "DeleteWorkspaceBundle", {"BundleId": unused}) == (400, "ResourceNotFoundException")
    assert _error(env, "DescribeBundleAssociations", {"BundleId": unused, "AssociatedResourceTypes": ["APPLICATION"]}) \
        == (400, "ResourceNotFoundException")


def test_bundle_associations_are_those_of_its_image(env):
    image = _images(env, associated=True)[0]
    expected = {a["AssociatedResourceId"] for a in _ok(env, "DescribeImageAssociations", {
        "ImageId": image, "AssociatedResourceTypes": ["APPLICATION"]})["Associations"]}
    bundle_id = _bundle(env, image=image)
    associations = _ok(env, "DescribeBundleAssociations", {"BundleId": bundle_id,
                                                           "AssociatedResourceTypes": ["APPLICATION"]})["Associations"]
    assert {a["AssociatedResourceId"] for a in associations} == expected
    assert all(a["BundleId"] == bundle_id and a["AssociatedResourceType"] == "APPLICATION" for a in associations)
    plain = _bundle(env, "plain", image=_images(env, associated=False)[0])
    assert _ok(env, "DescribeBundleAssociations", {"BundleId": plain,
                                                   "AssociatedResourceTypes": ["APPLICATION"]})["Associations"] == []
    assert _ok(env, "DescribeBundleAssociations", {"BundleId": _amazon_bundle(env),
                                                   "AssociatedResourceTypes": ["APPLICATION"]})["Associations"] == []


# -- applications ----------------------------------------------------------------------------

def test_seeded_applications_are_described(env):
    applications = _ok(env, "DescribeApplications", {})["Applications"]
    assert len(applications) == len(env.emulator.seed["applications"]) >= 4
    assert all(_APPLICATION_ID.search(a["ApplicationId"]) for a in applications)
    names = {a["Name"] for a in applications}
    assert any(n.startswith(OFFICE) for n in names) and any(n.startswith(VISUAL_STUDIO) for n in names)
    assert {a["Owner"] for a in applications} == {"AMAZON"}


def test_describe_applications_filters(env):
    everything = _ok(env, "DescribeApplications", {})["Applications"]
    office, studio = _application(env, OFFICE), _application(env, VISUAL_STUDIO)

    def ids(**body):
        return {a["ApplicationId"] for a in _ok(env, "DescribeApplications", body)["Applications"]}

    assert ids(ApplicationIds=[office, "wsa-000000000"]) == {office}
    assert ids(LicenseType="UNLICENSED") == {a["ApplicationId"] for a in everything if a["LicenseType"] == "UNLICENSED"}
    assert studio in ids(ComputeTypeNames=["GRAPHICS_G4DN"]) and office not in ids(ComputeTypeNames=["GRAPHICS_G4DN"])
    assert ids(OperatingSystemNames=["AMAZON_LINUX_2"]) == set()
    assert ids(Owner="AMAZON") == {a["ApplicationId"] for a in everything}
    assert ids(Owner=env.emulator.seed["account_id"]) == set()


def test_describe_applications_pages_are_complete_and_disjoint(env):
    everything = [a["ApplicationId"] for a in _ok(env, "DescribeApplications", {})["Applications"]]
    pages = _walk(env, "DescribeApplications", {"MaxResults": 2}, "Applications", "ApplicationId")
    assert all(len(page) <= 2 for page in pages) and len(pages) == -(-len(everything) // 2)
    assert [i for page in pages for i in page] == everything


def test_association_is_deployed_and_removed_through_its_states(env):
    workspace_id, office = _associated(env)
    assert _workspace_states(env, workspace_id) == {office: "PENDING_INSTALL_DEPLOYMENT"}
    deployed = _ok(env, "DeployWorkspaceApplications", {"WorkspaceId": workspace_id})["Deployment"]["Associations"]
    assert [(a["AssociatedResourceId"], a["State"]) for a in deployed] == [(office, "PENDING_INSTALL")]
    seen = [_workspace_states(env, workspace_id)[office] for _ in range(4)]
    assert seen == ["PENDING_INSTALL", "INSTALLING", "COMPLETED", "COMPLETED"]
    answer = _ok(env, "DisassociateWorkspaceApplication", {"WorkspaceId": workspace_id, "ApplicationId": office})
    assert answer["Association"]["State"] == "PENDING_UNINSTALL_DEPLOYMENT"
    _ok(env, "DeployWorkspaceApplications", {"WorkspaceId": workspace_id})
    seen = [_workspace_states(env, workspace_id)[office] for _ in range(4)]
    assert seen == ["PENDING_UNINSTALL", "UNINSTALLING", "REMOVED", "REMOVED"]
    # Removed, it can be associated afresh.
    _ok(env, "AssociateWorkspaceApplication", {"WorkspaceId": workspace_id, "ApplicationId": office})
    assert _workspace_states(env, workspace_id) == {office: "PENDING_INSTALL_DEPLOYMENT"}


def test_undeployed_association_is_removed_at_once_and_busy_ones_are_refused(env):
    workspace_id, office = _associated(env)
    body = {"WorkspaceId": workspace_id, "ApplicationId": office}
    assert _error(env, "AssociateWorkspaceApplication", body) == (400, "ResourceAlreadyExistsException")
    assert _ok(env, "DisassociateWorkspaceApplication", body)["Association"]["State"] == "REMOVED"
    assert _error(env, "DisassociateWorkspaceApplication", body) == (400, "ResourceNotFoundException")
    _ok(env, "AssociateWorkspaceApplication", body)
    _ok(env, "DeployWorkspaceApplications", {"WorkspaceId": workspace_id})
    assert _error(env, "DisassociateWorkspaceApplication", body) == (400, "ResourceInUseException")
    assert _error(env, "DeployWorkspaceApplications", {"WorkspaceId": workspace_id}) == (400, "ResourceInUseException")
    # Nothing waits for deployment once the install completes: a deployment then deploys nothing.
    for _ in range(3):
        _workspace_states(env, workspace_id)
    assert _ok(env, "DeployWorkspaceApplications", {"WorkspaceId": workspace_id})["Deployment"] == {"Associations": []}


def test_association_refusals(env):
    office = _application(env, OFFICE)
    pending = env.create(user="pat")
    assert _error(env, "AssociateWorkspaceApplication", {"WorkspaceId": pending, "ApplicationId": office}) == \
        (400, "ResourceInUseException")
    assert _error(env, "AssociateWorkspaceApplication", {"WorkspaceId": "ws-000000000", "ApplicationId": office}) == \
        (400, "ResourceNotFoundException")
    workspace_id = _available(env)
    assert _error(env, "AssociateWorkspaceApplication", {"WorkspaceId": workspace_id,
                                                         "ApplicationId": "wsa-000000000"}) == \
        (400, "ResourceNotFoundException")
    linux = _available(env, _amazon_bundle(env, LINUX_BUNDLE_NAME))
    assert _error(env, "AssociateWorkspaceApplication", {"WorkspaceId": linux, "ApplicationId": office}) == \
        (400, "OperatingSystemNotCompatibleException")
    assert _error(env, "DeployWorkspaceApplications", {"WorkspaceId": "ws-000000000"}) == \
        (400, "ResourceNotFoundException")
    assert _error(env, "DescribeWorkspaceAssociations", {"WorkspaceId": "ws-000000000",
                                                         "AssociatedResourceTypes": ["APPLICATION"]}) == \
        (400, "ResourceNotFoundException")
    assert _error(env, "DescribeApplicationAssociations", {"ApplicationId": "wsa-000000000",
                                                           "AssociatedResourceTypes": ["WORKSPACE"]}) == \
        (400, "ResourceNotFoundException")
    assert _workspace_states(env, workspace_id) == {} and _workspace_states(env, linux) == {}


def test_application_associations_name_workspaces_bundles_and_images(env):
    studio = _application(env, VISUAL_STUDIO)
    workspaces = [env.create(user=f"user{i}") for i in range(3)]
    for workspace_id in workspaces:
        env.settle(workspace_id)
        _ok(env, "AssociateWorkspaceApplication", {"WorkspaceId": workspace_id, "ApplicationId": studio})
    image = next(i for i in _images(env, associated=True)
                 if studio in {a["AssociatedResourceId"] for a in _ok(env, "DescribeImageAssociations", {
                     "ImageId": i, "AssociatedResourceTypes": ["APPLICATION"]})["Associations"]})
    bundle_id = _bundle(env, image=image)
    body = {"ApplicationId": studio, "AssociatedResourceTypes": ["WORKSPACE", "BUNDLE", "IMAGE"]}
    everything = _ok(env, "DescribeApplicationAssociations", body)["Associations"]
    by_type = {}
    for association in everything:
        assert association["ApplicationId"] == studio
        by_type.setdefault(association["AssociatedResourceType"], set()).add(association["AssociatedResourceId"])
    assert by_type["WORKSPACE"] == set(workspaces)
    assert bundle_id in by_type["BUNDLE"] and image in by_type["IMAGE"]
    pages = _walk(env, "DescribeApplicationAssociations", dict(body, MaxResults=2), "Associations",
                  "AssociatedResourceId")
    walked = [i for page in pages for i in page]
    assert all(len(page) <= 2 for page in pages)
    assert walked == [a["AssociatedResourceId"] for a in everything] and len(set(walked)) == len(walked)
    only_workspaces = _ok(env, "DescribeApplicationAssociations", dict(body, AssociatedResourceTypes=["WORKSPACE"]))
    assert {a["AssociatedResourceType"] for a in only_workspaces["Associations"]} == {"WORKSPACE"}
    # A terminated WorkSpace's association goes with it.
    env.client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": workspaces[0]}])
    env.settle(workspaces[0])
    remaining = _ok(env, "DescribeApplicationAssociations", dict(body, AssociatedResourceTypes=["WORKSPACE"]))
    assert {a["AssociatedResourceId"] for a in remaining["Associations"]} == set(workspaces[1:])
