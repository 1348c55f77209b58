"""The images family of the emulator: images made, imported, copied, updated, shared, described and deleted."""
from __future__ import annotations

import jsonschema
import pytest

import specs

OWNED_USED = "wsi-qm796zwy9"  # used by the seeded custom bundle wsb-gri29666v
OWNED_SHARED = "wsi-tlf87num1"  # used by wsb-ckf1yu7qy and shared with 111122223333
OWNED_FREE = "wsi-0a1b2c3d4"  # no bundle uses it and it is not shared
FOREIGN = "wsi-5e6f7g8h9"  # owned by 210987654321, shared with the account
OTHER_ACCOUNT = "444455556666"
IMPORT_SOURCE = {"Ec2ImageId": "ami-0123456789abcdef0"}
INFRASTRUCTURE = "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/workspaces-build"


def _error(env, operation: str, body: dict) -> str | None:
    """The error code of ``operation`` with ``body`` (None when it succeeds)."""
    status, _, parsed = env.raw(operation, body)
    return parsed.get("__type") if status >= 400 else None


def _images(env, **request) -> dict:
    """ImageId -> State of one DescribeWorkspaceImages answer."""
    return {image["ImageId"]: image["State"] for image in env.raw("DescribeWorkspaceImages", request)[2]["Images"]}


def _available_workspace(env, user: str = "alice") -> str:
    workspace_id = env.create(user=user)
    assert env.settle(workspace_id) == "AVAILABLE"
    return workspace_id


def _created_image(env, name: str = "made-from-workspace", tags=()) -> str:
    answer = env.raw("CreateWorkspaceImage", {"Name": name, "Description": "made in a test",
                                              "WorkspaceId": _available_workspace(env, user=name),
                                              "Tags": list(tags)})[2]
    return answer["ImageId"]


def _custom_import(env, name: str = "imported-by-builder") -> str:
    return env.raw("ImportCustomWorkspaceImage", _custom_import_params(name))[2]["ImageId"]


def _custom_import_params(name: str) -> dict:
    return {"ImageName": name, "ImageDescription": "imported by Image Builder", "ComputeType": "BASE",
            "Protocol": "DCV", "ImageSource": IMPORT_SOURCE, "InfrastructureConfigurationArn": INFRASTRUCTURE,
            "Platform": "WINDOWS", "OsVersion": "Windows_11"}


def _permissions(env, image_id: str) -> list[str]:
    answer = env.raw("DescribeWorkspaceImagePermissions", {"ImageId": image_id})[2]
    return [permission["SharedAccountId"] for permission in answer["ImagePermissions"]]


def _walk(env, operation: str, result_key: str, id_key: str, page_size: int, **request) -> tuple[list, int]:
    """Every id of a listing read ``page_size`` at a time, and the number of pages."""
    ids, token, pages = [], None, 0
    while pages < 20:
        body = dict(request, MaxResults=page_size, **({"NextToken": token} if token else {}))
        answer = env.raw(operation, body)[2]
        ids += [item[id_key] for item in answer[result_key]]
        token, pages = answer.get("NextToken"), pages + 1
        if not token:
            break
    return ids, pages


# -- one valid call of each operation ---------------------------------------------------------------


def _example_create(env) -> dict:
    return {"Name": "example-image", "Description": "an example image", "WorkspaceId": _available_workspace(env),
            "Tags": [{"Key": "team", "Value": "desktops"}]}


def _example_import_status(env) -> dict:
    return {"ImageId": _custom_import(env)}


def _example_delete(env) -> dict:
    return {"ImageId": OWNED_FREE}


EXAMPLES = {
    "CreateWorkspaceImage": _example_create,
    "CopyWorkspaceImage": lambda env: {"Name": "copied-image", "Description": "a copy", "SourceImageId": FOREIGN,
                                       "SourceRegion": "us-east-1"},
    "ImportWorkspaceImage": lambda env: {"Ec2ImageId": "ami-0abcdef1", "IngestionProcess": "BYOL_REGULAR_WSP",
                                         "ImageName": "byol-image", "ImageDescription": "a BYOL image",
                                         "Applications": ["Microsoft_Office_2019"]},
    "ImportCustomWorkspaceImage": lambda env: _custom_import_params("builder-image"),
    "DescribeCustomWorkspaceImageImport": _example_import_status,
    "CreateUpdatedWorkspaceImage": lambda env: {"Name": "updated-image", "Description": "with the latest agent",
                                                "SourceImageId": OWNED_USED},
    "DeleteWorkspaceImage": _example_delete,
    "DescribeWorkspaceImages": lambda env: {"ImageType": "OWNED", "MaxResults": 2},
    "DescribeWorkspaceImagePermissions": lambda env: {"ImageId": OWNED_SHARED, "MaxResults": 5},
    "UpdateWorkspaceImagePermission": lambda env: {"ImageId": OWNED_FREE, "AllowCopyImage": True,
                                                   "SharedAccountId": OTHER_ACCOUNT},
    "DescribeImageAssociations": lambda env: {"ImageId": OWNED_USED, "AssociatedResourceTypes": ["APPLICATION"]},
}


# -- fault scenarios ------------------------------------------------------------------------------


def _pages_of_one(env):
    ids, pages = _walk(env, "DescribeWorkspaceImages", "Images", "ImageId", 1)
    return len(ids), pages


def _listed_after_delete(env):
    env.raw("DeleteWorkspaceImage", {"ImageId": OWNED_FREE})
    return OWNED_FREE in _images(env)


def _states_of_new_image(env):
    image_id = _created_image(env)
    return [_images(env, ImageIds=[image_id])[image_id] for _ in range(3)]


def _shared_after_unshare(env):
    env.raw("UpdateWorkspaceImagePermission", {"ImageId": OWNED_SHARED, "AllowCopyImage": False,
                                               "SharedAccountId": "111122223333"})
    return _permissions(env, OWNED_SHARED)


def _image_of_pending_workspace(env):
    workspace_id = env.create()  # still PENDING: no describe has seen it
    return _error(env, "CreateWorkspaceImage", {"Name": "too-early", "Description": "from a PENDING WorkSpace",
                                                "WorkspaceId": workspace_id})


FAULT_SCENARIOS = {
    "images_pagination_ignored": (_pages_of_one, (4, 4), (4, 1)),
    "image_delete_leaves_describable": (_listed_after_delete, False, True),
    "image_never_available": (_states_of_new_image, ["PENDING", "AVAILABLE", "AVAILABLE"],
                              ["PENDING", "PENDING", "PENDING"]),
    "image_unshare_ignored": (_shared_after_unshare, [], ["111122223333"]),
    "image_create_ignores_workspace_state": (_image_of_pending_workspace, "InvalidResourceStateException", None),
}


# -- behaviour ------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(EXAMPLES))
def test_each_example_succeeds_with_an_answer_of_the_output_schema(env, operation):
    status, _, answer = env.raw(operation, EXAMPLES[operation](env))
    assert status == 200, answer
    jsonschema.validate(answer, specs.operation(operation)["output"])


def test_seeded_images_are_owned_or_shared_and_available(env):
    assert _images(env) == {OWNED_USED: "AVAILABLE", OWNED_SHARED: "AVAILABLE", OWNED_FREE: "AVAILABLE",
                            FOREIGN: "AVAILABLE"}
    assert set(_images(env, ImageType="OWNED")) == {OWNED_USED, OWNED_SHARED, OWNED_FREE}
    assert set(_images(env, ImageType="SHARED")) == {FOREIGN}


def test_describe_names_images_and_leaves_unknown_ids_out(env):
    assert _images(env, ImageIds=[OWNED_FREE, "wsi-zzzzzzzzz"]) == {OWNED_FREE: "AVAILABLE"}


def test_an_image_of_an_available_workspace_is_pending_then_available_with_its_tags(env):
    workspace_id = _available_workspace(env)
    answer = env.client.create_workspace_image(Name="golden", Description="golden image", WorkspaceId=workspace_id,
                                               Tags=[{"Key": "stage", "Value": "gold"}])
    image_id = answer["ImageId"]
    assert (answer["State"], answer["OwnerAccountId"], answer["OperatingSystem"]) == (
        "PENDING", "123456789012", {"Type": "WINDOWS"})
    assert [_images(env, ImageIds=[image_id])[image_id] for _ in range(2)] == ["PENDING", "AVAILABLE"]
    assert env.client.describe_tags(ResourceId=image_id)["TagList"] == [{"Key": "stage", "Value": "gold"}]


def test_an_image_needs_a_live_available_workspace_and_a_new_name(env):
    pending = env.create()
    assert _error(env, "CreateWorkspaceImage", {"Name": "early", "Description": "d", "WorkspaceId": pending}) == \
        "InvalidResourceStateException"
    assert _error(env, "CreateWorkspaceImage", {"Name": "ghost", "Description": "d", "WorkspaceId": "ws-zzzzzzzzz"}) \
        == "ResourceNotFoundException"
    env.settle(pending)
    assert _error(env, "CreateWorkspaceImage", {"Name": "analytics-linux", "Description": "d",
                                                "WorkspaceId": pending}) == "ResourceAlreadyExistsException"


def test_copy_makes_a_pending_image_from_an_available_one_of_this_region(env):
    body = {"Name": "copy-1", "SourceImageId": OWNED_FREE, "SourceRegion": "us-east-1"}
    image_id = env.raw("CopyWorkspaceImage", body)[2]["ImageId"]
    assert _images(env, ImageIds=[image_id]) == {image_id: "PENDING"}
    assert _error(env, "CopyWorkspaceImage", dict(body, Name="copy-2", SourceImageId=image_id)) is None
    pending = _created_image(env, "pending-source")
    assert _error(env, "CopyWorkspaceImage", dict(body, Name="copy-3", SourceImageId=pending)) == \
        "ResourceUnavailableException"
    assert _error(env, "CopyWorkspaceImage", dict(body, Name="copy-4", SourceRegion="eu-west-1")) == \
        "ResourceNotFoundException"
    assert _error(env, "CopyWorkspaceImage", dict(body, Name="copy-5", SourceImageId="wsi-zzzzzzzzz")) == \
        "ResourceNotFoundException"


def test_import_takes_one_office_version_and_makes_a_dedicated_windows_image(env):
    body = EXAMPLES["ImportWorkspaceImage"](env)
    assert _error(env, "ImportWorkspaceImage", dict(body, Applications=["Microsoft_Office_2016",
                                                                        "Microsoft_Office_2019"])) == \
        "InvalidParameterValuesException"
    image_id = env.raw("ImportWorkspaceImage", body)[2]["ImageId"]
    image = env.raw("DescribeWorkspaceImages", {"ImageIds": [image_id]})[2]["Images"][0]
    assert (image["State"], image["RequiredTenancy"], image["OperatingSystem"]) == (
        "PENDING", "DEDICATED", {"Type": "WINDOWS"})


def test_a_custom_import_moves_through_its_phases_and_then_the_image_is_available(env):
    answer = env.raw("ImportCustomWorkspaceImage", _custom_import_params("builder"))[2]
    image_id = answer["ImageId"]
    assert answer["State"] == "PENDING"
    phases, progress = [], []
    for _ in range(20):
        status = env.raw("DescribeCustomWorkspaceImageImport", {"ImageId": image_id})[2]
        assert status["ImageId"] == image_id and status["ImageSource"] == IMPORT_SOURCE
        phases.append(status["State"])
        progress.append(status["ProgressPercentage"])
        if status["State"] == "COMPLETED":
            break
        assert _images(env, ImageIds=[image_id])[image_id] == "PENDING"
    assert phases[0] == "PENDING" and phases[-1] == "COMPLETED" and len(phases) > 2
    assert progress == sorted(progress) and (progress[0], progress[-1]) == (0, 100)
    assert _images(env, ImageIds=[image_id]) == {image_id: "AVAILABLE"}


def test_an_import_is_described_only_for_a_custom_import(env):
    assert _error(env, "DescribeCustomWorkspaceImageImport", {"ImageId": OWNED_FREE}) == "ResourceNotFoundException"
    assert _error(env, "DescribeCustomWorkspaceImageImport", {"ImageId": "wsi-zzzzzzzzz"}) == \
        "ResourceNotFoundException"


def test_an_updated_image_needs_an_owned_available_image_with_updates(env):
    body = EXAMPLES["CreateUpdatedWorkspaceImage"](env)
    image_id = env.raw("CreateUpdatedWorkspaceImage", body)[2]["ImageId"]
    image = env.raw("DescribeWorkspaceImages", {"ImageIds": [image_id]})[2]["Images"][0]
    assert (image["State"], image["Updates"]) == ("PENDING", {"UpdateAvailable": False})
    assert _error(env, "CreateUpdatedWorkspaceImage", dict(body, Name="again", SourceImageId=OWNED_FREE)) == \
        "OperationNotSupportedException"
    assert _error(env, "CreateUpdatedWorkspaceImage", dict(body, Name="foreign", SourceImageId=FOREIGN)) == \
        "ResourceNotFoundException"
    pending = _created_image(env)
    assert _error(env, "CreateUpdatedWorkspaceImage", dict(body, Name="pending", SourceImageId=pending)) == \
        "InvalidResourceStateException"


def test_delete_removes_a_free_image_at_once_and_refuses_used_shared_and_foreign_ones(env):
    assert _error(env, "DeleteWorkspaceImage", {"ImageId": OWNED_FREE}) is None
    assert OWNED_FREE not in _images(env)
    assert _error(env, "DeleteWorkspaceImage", {"ImageId": OWNED_FREE}) is None  # already gone: nothing to do
    assert _error(env, "DeleteWorkspaceImage", {"ImageId": OWNED_USED}) == "ResourceAssociatedException"
    assert _error(env, "DeleteWorkspaceImage", {"ImageId": FOREIGN}) == "InvalidResourceStateException"
    assert set(_images(env)) == {OWNED_USED, OWNED_SHARED, FOREIGN}


def test_a_shared_image_is_deleted_only_once_unshared_and_unused(env):
    image_id = _created_image(env)
    _images(env)  # settles it AVAILABLE
    share = {"ImageId": image_id, "SharedAccountId": OTHER_ACCOUNT}
    env.raw("UpdateWorkspaceImagePermission", dict(share, AllowCopyImage=True))
    assert _error(env, "DeleteWorkspaceImage", {"ImageId": image_id}) == "ResourceAssociatedException"
    env.raw("UpdateWorkspaceImagePermission", dict(share, AllowCopyImage=False))
    assert _error(env, "DeleteWorkspaceImage", {"ImageId": image_id}) is None
    assert image_id not in _images(env)


def test_sharing_adds_and_revoking_removes_exactly_the_named_account(env):
    share = {"ImageId": OWNED_SHARED, "SharedAccountId": OTHER_ACCOUNT}
    env.raw("UpdateWorkspaceImagePermission", dict(share, AllowCopyImage=True))
    env.raw("UpdateWorkspaceImagePermission", dict(share, AllowCopyImage=True))
    assert _permissions(env, OWNED_SHARED) == ["111122223333", OTHER_ACCOUNT]
    env.raw("UpdateWorkspaceImagePermission", dict(share, SharedAccountId="111122223333", AllowCopyImage=False))
    assert _permissions(env, OWNED_SHARED) == [OTHER_ACCOUNT]


def test_sharing_refuses_the_own_account_pending_images_and_foreign_or_unknown_ones(env):
    share = {"ImageId": OWNED_FREE, "SharedAccountId": OTHER_ACCOUNT, "AllowCopyImage": True}
    assert _error(env, "UpdateWorkspaceImagePermission", dict(share, SharedAccountId="123456789012")) == \
        "InvalidParameterValuesException"
    pending = _created_image(env)
    assert _error(env, "UpdateWorkspaceImagePermission", dict(share, ImageId=pending)) == \
        "ResourceUnavailableException"
    for image_id in (FOREIGN, "wsi-zzzzzzzzz"):
        assert _error(env, "UpdateWorkspaceImagePermission", dict(share, ImageId=image_id)) == \
            "ResourceNotFoundException"
        assert _error(env, "DescribeWorkspaceImagePermissions", {"ImageId": image_id}) == \
            "ResourceNotFoundException"


def test_image_pages_are_complete_and_disjoint(env):
    for index in range(3):
        _created_image(env, f"paged-{index}")
    everything = list(_images(env))
    ids, pages = _walk(env, "DescribeWorkspaceImages", "Images", "ImageId", 2)
    assert ids == everything and pages == 4
    owned, _ = _walk(env, "DescribeWorkspaceImages", "Images", "ImageId", 1, ImageType="OWNED")
    assert owned == [image_id for image_id in everything if image_id != FOREIGN]


def test_permission_pages_are_complete_and_disjoint(env):
    accounts = [f"{n:012d}" for n in range(500000000001, 500000000006)]
    for account in accounts:
        env.raw("UpdateWorkspaceImagePermission", {"ImageId": OWNED_SHARED, "SharedAccountId": account,
                                                   "AllowCopyImage": True})
    ids, pages = _walk(env, "DescribeWorkspaceImagePermissions", "ImagePermissions", "SharedAccountId", 2,
                       ImageId=OWNED_SHARED)
    assert ids == ["111122223333", *accounts] and pages == 3


def test_associations_are_the_images_applications(env):
    answer = env.raw("DescribeImageAssociations", {"ImageId": OWNED_USED, "AssociatedResourceTypes": ["APPLICATION"]})
    associations = answer[2]["Associations"]
    assert [(a["AssociatedResourceId"], a["ImageId"], a["State"]) for a in associations] == [
        ("wsa-7k2m9q4xd", OWNED_USED, "COMPLETED"), ("wsa-2c6j0e9ku", OWNED_USED, "COMPLETED")]
    assert env.raw("DescribeImageAssociations", {"ImageId": OWNED_FREE,
                                                 "AssociatedResourceTypes": ["APPLICATION"]})[2] == {"Associations": []}
    assert env.raw("DescribeImageAssociations", {"ImageId": OWNED_USED, "AssociatedResourceTypes": []})[2] == \
        {"Associations": []}
    assert _error(env, "DescribeImageAssociations", {"ImageId": "wsi-zzzzzzzzz",
                                                     "AssociatedResourceTypes": ["APPLICATION"]}) == \
        "ResourceNotFoundException"
