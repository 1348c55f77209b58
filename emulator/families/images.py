"""The images family: WorkSpace images made from WorkSpaces, imported, copied, updated, shared and deleted.

An image (kind ``images``, ids ``wsi-``) goes PENDING -> AVAILABLE on its
kind's clock (``resources.image`` in rules.json). Its owner is this account, or
another account that shared it with this one (DescribeWorkspaceImages lists
those under ImageType SHARED). What the emulator keeps but never shows sits in
the record's ``private``: the accounts it is shared with (account id -> the
sequence number of the grant, the order DescribeWorkspaceImagePermissions
pages by), its application associations, and for an image imported by
ImportCustomWorkspaceImage the import workflow, which moves through its phases
on the same clock and holds the image PENDING until it completes.
"""
from __future__ import annotations

import functools
import math
import time

import specs

from ..errors import ApiError
from ..operations import handles, seeds, settles, stuck_by
from ..store import Resource

__all__: list[str] = []

IMAGES = "images"
_WHAT = "image"
_ID_LENGTH = 9  # AWS image ids carry 9 characters after "wsi-"
# The members of a seeded image that are not part of the WorkspaceImage structure it shows.
_SEED_ONLY = ("State", "SharedAccountIds", "Associations", "Tags")


@functools.lru_cache(maxsize=1)
def _import_phases() -> tuple[str, ...]:
    """The phases of an ImportCustomWorkspaceImage workflow, in the order the model lists its
    CustomWorkspaceImageImportState values; ERROR ends a failed import and is never reached here.

    Read on first use, not at import: a contract in force from an older model may lack the operation.
    """
    states = specs.operation("DescribeCustomWorkspaceImageImport")["output"]["definitions"][
        "CustomWorkspaceImageImportState"]["enum"]
    return tuple(state for state in states if state != "ERROR")


IMPORTS = "custom_image_imports"
_LINUX_PREFIXES = ("AMAZON_LINUX", "UBUNTU", "RHEL", "ROCKY")


# -- the clock ----------------------------------------------------------------------------------

# An import workflow settles in each next phase in turn; an image never leaves PENDING under image_never_available.
settles(IMPORTS, lambda: dict(zip(_import_phases(), _import_phases()[1:])))
stuck_by("image_never_available", IMAGES, "PENDING")


def _hold(record: Resource) -> None:
    """Take ``record`` off its kind's clock: it stays PENDING until its import completes (``_follow_import``)."""
    record.entered = math.inf
    record.polls_left = math.inf


def _follow_import(backend, record: Resource, observed: bool = False) -> None:
    """Bring an imported image's workflow up to date (one more observation if ``observed``).

    When the workflow completes, the image it holds PENDING becomes AVAILABLE.
    """
    workflow = record.private.get("workflow")
    if workflow is None:
        return
    if workflow.state != _import_phases()[-1]:
        clock, before = backend.lifecycle_of(IMPORTS), workflow.state
        clock.advance(workflow)
        if observed:
            clock.observed(workflow)
        if workflow.state != before:
            workflow.body["LastUpdatedTime"] = time.time()
    if workflow.state == _import_phases()[-1] and record.state == "PENDING" and "image_never_available" not in backend.faults:
        backend.enter(record, "AVAILABLE")


# -- lookups and rendering -------------------------------------------------------------------


def _image(backend, image_id: str, operation: str) -> Resource:
    """The live image ``image_id`` (owned or shared with the account); else the not-found error of ``operation``."""
    record = backend.find(IMAGES, image_id, operation, what=_WHAT)
    _follow_import(backend, record)
    return record


def _owned(backend, image_id: str, operation: str) -> Resource:
    """The live image ``image_id`` of the account itself; an image shared by another account is not found."""
    record = _image(backend, image_id, operation)
    if record.body["OwnerAccountId"] != backend.store.account_id:
        raise backend.refuse(operation, "not_found",
                             f"The image {image_id} is owned by account {record.body['OwnerAccountId']}, not "
                             "this account; name an image this account owns.")
    return record


def _render(record: Resource) -> dict:
    """The WorkspaceImage structure DescribeWorkspaceImages shows for ``record``."""
    return dict(record.body, State=record.state)


def _operating_system(properties: dict) -> dict:
    """The image OperatingSystem of a WorkSpace whose properties name ``OperatingSystemName``."""
    name = properties.get("OperatingSystemName") or ""
    return {"Type": "LINUX" if name.startswith(_LINUX_PREFIXES) else "WINDOWS"}


def _check_name(backend, name: str, operation: str) -> None:
    """Refuse a new image named like one the account already owns."""
    account = backend.store.account_id
    if any(r.body.get("Name") == name and r.body["OwnerAccountId"] == account for r in backend.records(IMAGES)):
        raise backend.refuse(operation, "already_exists",
                             f"An image named {name!r} already exists in this account; choose another name.")


def _new_image(backend, name: str, description: str | None, operating_system: dict, tenancy: str,
               tags) -> Resource:
    """Store a new PENDING image of the account."""
    image_id = backend.store.new_id("wsi-", _ID_LENGTH)
    body = {"ImageId": image_id, "Name": name}
    if description is not None:
        body["Description"] = description
    body.update({"OperatingSystem": dict(operating_system), "RequiredTenancy": tenancy, "Created": time.time(),
                 "OwnerAccountId": backend.store.account_id})
    return backend.add(IMAGES, image_id, body, state="PENDING", tags=tags or (),
                       private={"shared_with": {}, "associations": []})


# -- seeding -------------------------------------------------------------------------------------


@seeds
def seed_images(backend) -> None:
    """Store the seed's ``images`` (a seed without the key has none)."""
    for entry in backend.seed_data.get("images", []):
        body = {key: value for key, value in entry.items() if key not in _SEED_ONLY}
        body.setdefault("OwnerAccountId", backend.store.account_id)
        shared = {account: backend.store.next_seq() for account in entry.get("SharedAccountIds", ())}
        associations = [dict(association, ImageId=entry["ImageId"]) for association in entry.get("Associations", ())]
        backend.add(IMAGES, entry["ImageId"], body, state=entry.get("State", "AVAILABLE"),
                    tags=entry.get("Tags") or (), private={"shared_with": shared, "associations": associations})


# -- making images -------------------------------------------------------------------------------


@handles("CreateWorkspaceImage")
def create_workspace_image(backend, params: dict) -> dict:
    """Make a PENDING image of an AVAILABLE WorkSpace; the answer describes the new image."""
    operation, workspace_id = "CreateWorkspaceImage", params["WorkspaceId"]
    workspace = backend.live_workspace(workspace_id)
    if workspace is None:
        raise backend.refuse(operation, "not_found", f"The WorkSpace {workspace_id} could not be found.")
    if workspace.state != "AVAILABLE" and "image_create_ignores_workspace_state" not in backend.faults:
        raise backend.refuse(operation, "invalid_state",
                             f"The WorkSpace {workspace_id} is {workspace.state}; an image can be made only of an "
                             "AVAILABLE WorkSpace.")
    _check_name(backend, params["Name"], operation)
    record = _new_image(backend, params["Name"], params["Description"], _operating_system(workspace.properties),
                        "DEFAULT", params.get("Tags"))
    return _render(record)


@handles("CopyWorkspaceImage")
def copy_workspace_image(backend, params: dict) -> dict:
    """Copy an AVAILABLE image of the account (or shared with it) into a new PENDING image."""
    operation, source_id, region = "CopyWorkspaceImage", params["SourceImageId"], params["SourceRegion"]
    if region != backend.region:
        # The emulator serves one Region: it holds no image of any other.
        raise backend.refuse(operation, "not_found",
                             f"The image {source_id} could not be found in Region {region}; this endpoint serves "
                             f"{backend.region} only, so copy from SourceRegion {backend.region}.")
    source = _image(backend, source_id, operation)
    if source.state != "AVAILABLE":
        raise backend.refuse(operation, "invalid_state",
                             f"The image {source_id} is {source.state}; only an AVAILABLE image can be copied.")
    _check_name(backend, params["Name"], operation)
    record = _new_image(backend, params["Name"], params.get("Description"), source.body["OperatingSystem"],
                        source.body.get("RequiredTenancy", "DEFAULT"), params.get("Tags"))
    return {"ImageId": record.id}


@handles("ImportWorkspaceImage")
def import_workspace_image(backend, params: dict) -> dict:
    """Import a BYOL EC2 image as a new PENDING Windows image with dedicated tenancy."""
    operation = "ImportWorkspaceImage"
    applications = params.get("Applications") or []
    if len(applications) > 1:
        raise backend.refuse(operation, "constraint",
                             f"Applications may name one Microsoft Office version only; got {len(applications)}: "
                             f"{', '.join(applications)}.")
    _check_name(backend, params["ImageName"], operation)
    record = _new_image(backend, params["ImageName"], params["ImageDescription"], {"Type": "WINDOWS"}, "DEDICATED",
                        params.get("Tags"))
    record.private.update(ec2_image_id=params["Ec2ImageId"], ingestion_process=params["IngestionProcess"],
                          applications=list(applications))
    return {"ImageId": record.id}


@handles("ImportCustomWorkspaceImage")
def import_custom_workspace_image(backend, params: dict) -> dict:
    """Start an Image Builder import: a PENDING image and its workflow, which completes on the clock."""
    operation = "ImportCustomWorkspaceImage"
    _check_name(backend, params["ImageName"], operation)
    record = _new_image(backend, params["ImageName"], params["ImageDescription"], {"Type": "WINDOWS"}, "DEDICATED",
                        params.get("Tags"))
    _hold(record)
    now = time.time()
    workflow = Resource(kind=IMPORTS, id=record.id, seq=record.seq, body={
        "ImageId": record.id,
        "InfrastructureConfigurationArn": params["InfrastructureConfigurationArn"],
        "Created": now,
        "LastUpdatedTime": now,
        "ImageSource": dict(params["ImageSource"]),
    })
    backend.enter(workflow, _import_phases()[0])
    record.private.update(workflow=workflow, compute_type=params["ComputeType"], protocol=params["Protocol"],
                          os_version=params["OsVersion"])
    return {"ImageId": record.id, "State": workflow.state}


@handles("DescribeCustomWorkspaceImageImport")
def describe_custom_workspace_image_import(backend, params: dict) -> dict:
    """The workflow of an ImportCustomWorkspaceImage: its phase, progress and the image it makes."""
    operation, image_id = "DescribeCustomWorkspaceImageImport", params["ImageId"]
    record = _owned(backend, image_id, operation)
    workflow = record.private.get("workflow")
    if workflow is None:
        raise backend.refuse(operation, "not_found",
                             f"The image {image_id} was not imported by ImportCustomWorkspaceImage; name the ImageId "
                             "that call returned.")
    phases = _import_phases()
    position = phases.index(workflow.state)
    out = dict(workflow.body, State=workflow.state,
               ProgressPercentage=round(100 * position / (len(phases) - 1)))
    _follow_import(backend, record, observed=True)
    return out


@handles("CreateUpdatedWorkspaceImage")
def create_updated_workspace_image(backend, params: dict) -> dict:
    """Make a PENDING image with the latest WorkSpaces components from an AVAILABLE image that has updates."""
    operation, source_id = "CreateUpdatedWorkspaceImage", params["SourceImageId"]
    source = _owned(backend, source_id, operation)
    if source.state != "AVAILABLE":
        raise backend.refuse(operation, "invalid_state",
                             f"The image {source_id} is {source.state}; only an AVAILABLE image can be updated.")
    if not (source.body.get("Updates") or {}).get("UpdateAvailable"):
        raise backend.refuse(operation, "operation_not_supported",
                             f"The image {source_id} has no update available (DescribeWorkspaceImages shows "
                             "Updates.UpdateAvailable); only such an image can be updated.")
    _check_name(backend, params["Name"], operation)
    record = _new_image(backend, params["Name"], params["Description"], source.body["OperatingSystem"],
                        source.body.get("RequiredTenancy", "DEFAULT"), params.get("Tags"))
    record.body["Updates"] = {"UpdateAvailable": False}
    return {"ImageId": record.id}


# -- describing and deleting -----------------------------------------------------------------------


@handles("DescribeWorkspaceImages")
def describe_workspace_images(backend, params: dict) -> dict:
    """The images named by ImageIds (unknown ones left out), else every owned and shared one, a page at a time."""
    operation, account = "DescribeWorkspaceImages", backend.store.account_id
    records = backend.records(IMAGES)
    for record in records:
        _follow_import(backend, record)
    if params.get("ImageIds") is not None:
        records = [r for r in records if r.id in params["ImageIds"]]
    image_type = params.get("ImageType")
    if image_type is not None:
        owned = image_type == "OWNED"
        records = [r for r in records if (r.body["OwnerAccountId"] == account) == owned]
    if "images_pagination_ignored" in backend.faults:
        # Written for accounts with a handful of images: MaxResults and NextToken are never read.
        out = {"Images": [_render(r) for r in records]}
        backend.observed(records)
    else:
        out = backend.listing(operation, params, records, "Images", render=_render)
    shown = {image["ImageId"] for image in out["Images"]}
    for record in records:
        if record.id in shown:
            _follow_import(backend, record, observed=True)
    return out


@handles("DeleteWorkspaceImage")
def delete_workspace_image(backend, params: dict) -> dict:
    """Delete an image of the account that no bundle uses and no account shares; it is gone at once."""
    operation, image_id = "DeleteWorkspaceImage", params["ImageId"]
    try:
        record = _image(backend, image_id, operation)
    except ApiError:
        return {}  # the model has no not-found error here: deleting an absent image changes nothing
    if record.body["OwnerAccountId"] != backend.store.account_id:
        raise backend.refuse(operation, "invalid_state",
                             f"The image {image_id} is owned by account {record.body['OwnerAccountId']}; only its "
                             "owner can delete it.")
    bundles = [bundle["BundleId"] for bundle in backend.store.bundles.values() if bundle.get("ImageId") == image_id]
    if bundles:
        raise backend.refuse(operation, "constraint",
                             f"The image {image_id} is used by the bundle(s) {', '.join(bundles)}; delete them or "
                             "point them at another image first.")
    if record.private["shared_with"]:
        raise backend.refuse(operation, "constraint",
                             f"The image {image_id} is shared with account(s) "
                             f"{', '.join(record.private['shared_with'])}; unshare it with "
                             "UpdateWorkspaceImagePermission (AllowCopyImage false) first.")
    if "image_delete_leaves_describable" in backend.faults:
        return {}  # every check passes and success is answered, but the record is never dropped
    del backend.store.of_kind(IMAGES)[image_id]
    return {}


# -- sharing ---------------------------------------------------------------------------------------


@handles("DescribeWorkspaceImagePermissions")
def describe_workspace_image_permissions(backend, params: dict) -> dict:
    """The accounts an image of the account is shared with, in the order they were granted, a page at a time."""
    operation, image_id = "DescribeWorkspaceImagePermissions", params["ImageId"]
    record = _owned(backend, image_id, operation)
    grants = sorted((seq, {"SharedAccountId": account}) for account, seq in record.private["shared_with"].items())
    out = backend.listing(operation, params, grants, "ImagePermissions")
    return {"ImageId": image_id, **out}


@handles("UpdateWorkspaceImagePermission")
def update_workspace_image_permission(backend, params: dict) -> dict:
    """Share an AVAILABLE image of the account with another account (AllowCopyImage true) or stop sharing it."""
    operation, image_id, account = "UpdateWorkspaceImagePermission", params["ImageId"], params["SharedAccountId"]
    record = _owned(backend, image_id, operation)
    if account == backend.store.account_id:
        raise backend.refuse(operation, "constraint",
                             f"SharedAccountId {account} is the image's own account; name another account.")
    if record.state != "AVAILABLE":
        raise backend.refuse(operation, "invalid_state",
                             f"The image {image_id} is {record.state}; only an AVAILABLE image can be shared.")
    shared = record.private["shared_with"]
    if params["AllowCopyImage"]:
        shared.setdefault(account, backend.store.next_seq())
    elif "image_unshare_ignored" not in backend.faults:
        shared.pop(account, None)
    return {}


# -- associations ----------------------------------------------------------------------------------


@handles("DescribeImageAssociations")
def describe_image_associations(backend, params: dict) -> dict:
    """The associations of an image with resources of the types asked for (applications)."""
    operation, image_id = "DescribeImageAssociations", params["ImageId"]
    record = _image(backend, image_id, operation)
    wanted = set(params["AssociatedResourceTypes"])
    return {"Associations": [dict(association) for association in record.private["associations"]
                             if association["AssociatedResourceType"] in wanted]}
