"""The bundles and applications family: custom bundles, WorkSpaces applications and their associations.

Custom bundles live with the seeded ones in ``store.bundles`` (listed by the
seed operation DescribeWorkspaceBundles); applications are resources of kind
``applications``, seeded and read-only. An application is associated with a
WorkSpace by AssociateWorkspaceApplication and installed by
DeployWorkspaceApplications. A bundle carries the applications of the image it
is made from: the images family keeps an image's application associations in
its record's ``private["associations"]``. WorkSpace associations are named by
the pair they join, not by an id of their own, so they are kept in a table of
their own kind and move through their states on the backend's clock.
"""
from __future__ import annotations

import time

from ..errors import ApiError
from ..operations import handles, seeds, settles

APPLICATIONS = "applications"
IMAGES = "images"
WORKSPACE_ASSOCIATIONS = "workspace_application_associations"

# Where each transitional AssociationState settles once its work is done: a deployment moves an
# association from PENDING_INSTALL through INSTALLING to COMPLETED (uninstalls alike to REMOVED).
_ASSOCIATION_SETTLE = {
    "PENDING_INSTALL": "INSTALLING",
    "INSTALLING": "COMPLETED",
    "PENDING_UNINSTALL": "UNINSTALLING",
    "UNINSTALLING": "REMOVED",
}
settles(WORKSPACE_ASSOCIATIONS, _ASSOCIATION_SETTLE)
# What DeployWorkspaceApplications starts for an association waiting in each state.
_DEPLOYED = {"PENDING_INSTALL_DEPLOYMENT": "PENDING_INSTALL", "PENDING_UNINSTALL_DEPLOYMENT": "PENDING_UNINSTALL"}
# Associations whose installation or removal is under way: neither disassociated nor redeployed meanwhile.
_BUSY = frozenset(_ASSOCIATION_SETTLE)
# The root volume (GB) of a bundle made without RootStorage: the smallest documented root volume.
_DEFAULT_ROOT = "80"
# WorkSpace states in which applications may be associated, removed and deployed.
_WORKSPACE_READY = ("AVAILABLE", "STOPPED")


# -- seeding ---------------------------------------------------------------------------------

@seeds
def seed_applications(backend) -> None:
    """Store the seed's ``applications`` (a seed without the key has none)."""
    for entry in backend.seed_data.get("applications", []):
        backend.add(APPLICATIONS, entry["ApplicationId"], dict(entry))


# -- bundles ---------------------------------------------------------------------------------

@handles("CreateWorkspaceBundle")
def create_workspace_bundle(backend, params: dict) -> dict:
    """Create an account bundle from an AVAILABLE image; DescribeWorkspaceBundles then lists it."""
    store, operation = backend.store, "CreateWorkspaceBundle"
    compute = (params["ComputeType"] or {}).get("Name")
    if compute is None:
        raise ApiError.of_kind("invalid_parameter", "ComputeType.Name is required: name the bundle's compute type, "
                                                    "e.g. {\"Name\": \"STANDARD\"}.")
    sizes = {}
    for member in ("RootStorage", "UserStorage"):
        capacity = (params.get(member) or {}).get("Capacity", _DEFAULT_ROOT if member == "RootStorage" else None)
        if not (isinstance(capacity, str) and capacity.isdigit() and int(capacity) > 0):
            raise ApiError.of_kind("invalid_parameter", f"{member}.Capacity must be a whole number of GB such as "
                                                        f"\"50\"; got {capacity!r}.")
        sizes[member] = int(capacity)
    if not backend.contract.volumes_valid(sizes["RootStorage"], sizes["UserStorage"]):
        raise ApiError.of_kind("invalid_parameter",
                               f"The volume sizes root={sizes['RootStorage']} GB, user={sizes['UserStorage']} GB are "
                               "not a supported combination; use root 80 with user 10, 50 or 100, or larger root "
                               "and user volumes of a documented group.")
    image_id = _available_image(backend, params["ImageId"], operation)
    name = params["BundleName"]
    if any(b.get("Name") == name and b.get("Owner") == store.account_id for b in store.bundles.values()):
        raise backend.refuse(operation, "already_exists",
                             f"A bundle named {name!r} already exists in this account; choose another BundleName.")
    now = time.time()
    bundle_id = store.new_id("wsb-", 9)
    bundle = {
        "BundleId": bundle_id,
        "Name": name,
        "Owner": store.account_id,
        "Description": params["BundleDescription"],
        "ImageId": image_id,
        "RootStorage": {"Capacity": str(sizes["RootStorage"])},
        "UserStorage": {"Capacity": str(sizes["UserStorage"])},
        "ComputeType": {"Name": compute},
        "LastUpdatedTime": now,
        "CreationTime": now,
        "State": "AVAILABLE",
        "BundleType": "REGULAR",
    }
    tags = params.get("Tags") or []
    backend.check_tags(tags)
    store.bundles[bundle_id] = bundle
    store.bundle_order.append(bundle_id)
    store.tags[bundle_id] = [[tag["Key"], tag.get("Value")] for tag in tags]
    return {"WorkspaceBundle": dict(bundle)}


@handles("UpdateWorkspaceBundle")
def update_workspace_bundle(backend, params: dict) -> dict:
    """Point an account bundle at another image; only its ImageId and LastUpdatedTime change."""
    operation = "UpdateWorkspaceBundle"
    for member in ("BundleId", "ImageId"):
        if params.get(member) is None:
            raise ApiError.of_kind("invalid_parameter", f"{member} is required: name the bundle to update and "
                                                        "the image it should use.")
    bundle = _account_bundle(backend, params["BundleId"], operation)
    bundle["ImageId"] = _available_image(backend, params["ImageId"], operation)
    bundle["LastUpdatedTime"] = time.time()
    return {}


@handles("DeleteWorkspaceBundle")
def delete_workspace_bundle(backend, params: dict) -> dict:
    """Delete an account bundle no WorkSpace is based on; DescribeWorkspaceBundles stops listing it."""
    operation, store = "DeleteWorkspaceBundle", backend.store
    if params.get("BundleId") is None:
        raise ApiError.of_kind("invalid_parameter", "BundleId is required: name the bundle to delete.")
    bundle_id = params["BundleId"]
    _account_bundle(backend, bundle_id, operation)
    users = [w.workspace_id for w in backend.all_workspaces() if w.bundle_id == bundle_id]
    if users:
        raise backend.refuse(operation, "invalid_state",
                             f"The bundle {bundle_id} is used by the WorkSpaces {', '.join(users)}; "
                             "terminate them before deleting the bundle.")
    if "bundle_delete_leaves_describable" in backend.faults:
        return {}  # the delete is acknowledged but never reaches the bundle table
    del store.bundles[bundle_id]
    store.bundle_order.remove(bundle_id)
    store.tags.pop(bundle_id, None)
    return {}


@handles("DescribeBundleAssociations")
def describe_bundle_associations(backend, params: dict) -> dict:
    """The application associations of a bundle: those of the image it is made from."""
    bundle = backend.store.bundles.get(params["BundleId"])
    if bundle is None:
        raise backend.refuse("DescribeBundleAssociations", "not_found",
                             f"The bundle {params['BundleId']} could not be found.")
    if "APPLICATION" not in params["AssociatedResourceTypes"]:
        return {"Associations": []}
    return {"Associations": [_bundle_association(bundle["BundleId"], association)
                             for association in _image_associations(backend, bundle.get("ImageId"))]}


def _account_bundle(backend, bundle_id: str, operation: str) -> dict:
    """The bundle ``bundle_id`` of the account; refuses an unknown one and one AWS provides."""
    bundle = backend.store.bundles.get(bundle_id)
    if bundle is None:
        raise backend.refuse(operation, "not_found", f"The bundle {bundle_id} could not be found.")
    if bundle.get("Owner") == "AMAZON":
        raise backend.refuse(operation, "constraint",
                             f"The bundle {bundle_id} is provided by AWS (Owner AMAZON) and cannot be changed or "
                             "deleted; name a bundle of your account.")
    return bundle


def _available_image(backend, image_id: str, operation: str) -> str:
    """``image_id`` if it names an AVAILABLE image the account holds (its own or one shared with it).

    Else the refusal ``operation`` models: not found, or unavailable while the image is still being made.
    """
    image = backend.find("images", image_id, operation, what="image")
    if image.state not in (None, "AVAILABLE"):
        raise backend.refuse(operation, "invalid_state",
                             f"The image {image_id} is {image.state}; wait until it is AVAILABLE.")
    return image_id


# -- applications ----------------------------------------------------------------------------

@handles("DescribeApplications")
def describe_applications(backend, params: dict) -> dict:
    """The applications matching every filter given, a page at a time."""
    records = backend.records(APPLICATIONS)
    ids = params.get("ApplicationIds")
    if ids is not None:
        records = [r for r in records if r.id in ids]
    computes, systems = params.get("ComputeTypeNames"), params.get("OperatingSystemNames")
    if computes is not None:
        records = [r for r in records if set(computes) & set(r.body.get("SupportedComputeTypeNames", ()))]
    if systems is not None:
        records = [r for r in records if set(systems) & set(r.body.get("SupportedOperatingSystemNames", ()))]
    if params.get("LicenseType") is not None and "application_license_filter_ignored" not in backend.faults:
        records = [r for r in records if r.body.get("LicenseType") == params["LicenseType"]]
    if params.get("Owner") is not None:
        records = [r for r in records if r.body.get("Owner") == params["Owner"]]
    return backend.listing("DescribeApplications", params, records, "Applications", render=lambda r: dict(r.body))


@handles("AssociateWorkspaceApplication")
def associate_workspace_application(backend, params: dict) -> dict:
    """Associate an application with a WorkSpace: the association waits for a deployment."""
    operation = "AssociateWorkspaceApplication"
    workspace = _ready_workspace(backend, params["WorkspaceId"], operation)
    application = _application(backend, params["ApplicationId"], operation)
    properties, body = workspace.properties, application.body
    system, compute = properties.get("OperatingSystemName"), properties.get("ComputeTypeName")
    if system is not None and system not in body.get("SupportedOperatingSystemNames", ()):
        raise ApiError("OperatingSystemNotCompatibleException",
                       f"The application {application.id} does not support the operating system {system} of the "
                       f"WorkSpace {workspace.workspace_id}.")
    if compute is not None and compute not in body.get("SupportedComputeTypeNames", ()):
        raise ApiError("ComputeNotCompatibleException",
                       f"The application {application.id} does not support the compute type {compute} of the "
                       f"WorkSpace {workspace.workspace_id}.")
    existing = _workspace_association(backend, workspace.workspace_id, application.id)
    if existing is not None and existing.state != "REMOVED":
        raise backend.refuse(operation, "already_exists",
                             f"The application {application.id} is already associated with the WorkSpace "
                             f"{workspace.workspace_id} ({existing.state}).")
    if "application_association_not_recorded" in backend.faults:
        # The association is built for the answer but never saved.
        return {"Association": _new_association(workspace.workspace_id, application.id, "PENDING_INSTALL_DEPLOYMENT")}
    record = _store_association(backend, workspace.workspace_id, application.id, "PENDING_INSTALL_DEPLOYMENT")
    return {"Association": _render(record)}


@handles("DisassociateWorkspaceApplication")
def disassociate_workspace_application(backend, params: dict) -> dict:
    """Mark an application for removal from a WorkSpace (at once if it was never deployed)."""
    operation = "DisassociateWorkspaceApplication"
    workspace = _ready_workspace(backend, params["WorkspaceId"], operation)
    application = _application(backend, params["ApplicationId"], operation)
    record = _workspace_association(backend, workspace.workspace_id, application.id)
    if record is None or record.state == "REMOVED":
        raise backend.refuse(operation, "not_found",
                             f"The application {application.id} is not associated with the WorkSpace "
                             f"{workspace.workspace_id}.")
    if record.state in _BUSY:
        raise backend.refuse(operation, "in_progress",
                             f"The application {application.id} is {record.state} on the WorkSpace "
                             f"{workspace.workspace_id}; try again when it has finished.")
    if record.state == "PENDING_INSTALL_DEPLOYMENT":
        _move(backend, record, "REMOVED")  # nothing was installed, so there is nothing to uninstall
    elif record.state != "PENDING_UNINSTALL_DEPLOYMENT":
        _move(backend, record, "PENDING_UNINSTALL_DEPLOYMENT")
    return {"Association": _render(record)}


@handles("DeployWorkspaceApplications")
def deploy_workspace_applications(backend, params: dict) -> dict:
    """Start installing and removing what waits for deployment on a WorkSpace (failed ones again with Force)."""
    operation = "DeployWorkspaceApplications"
    workspace = _ready_workspace(backend, params["WorkspaceId"], operation)
    records = [r for r in _associations(backend) if r.body["WorkspaceId"] == workspace.workspace_id]
    if any(r.state in _BUSY for r in records):
        raise backend.refuse(operation, "in_progress",
                             f"A deployment to the WorkSpace {workspace.workspace_id} is under way; "
                             "try again when it has finished.")
    deployed = []
    for record in records:
        target = _DEPLOYED.get(record.state)
        if record.state == "ERROR" and params.get("Force"):
            target = "PENDING_INSTALL"
        if target is not None:
            _move(backend, record, target)
            deployed.append(_render(record))
    return {"Deployment": {"Associations": deployed}}


@handles("DescribeApplicationAssociations")
def describe_application_associations(backend, params: dict) -> dict:
    """The WorkSpaces, bundles and images an application is associated with, a page at a time."""
    operation = "DescribeApplicationAssociations"
    application = _application(backend, params["ApplicationId"], operation)
    wanted, store = set(params["AssociatedResourceTypes"]), backend.store
    # Keyed by resource type and id: the order pages are cut in, the same across requests.
    items = []
    if "WORKSPACE" in wanted:
        items += [(f"WORKSPACE/{r.body['WorkspaceId']}", r) for r in _associations(backend)
                  if r.body["AssociatedResourceId"] == application.id]
    for image_id, association in _application_images(backend, application.id):
        if "IMAGE" in wanted:
            items.append((f"IMAGE/{image_id}", _from_application("IMAGE", image_id, association)))
        if "BUNDLE" in wanted:
            items += [(f"BUNDLE/{bundle_id}", _from_application("BUNDLE", bundle_id, association))
                      for bundle_id in store.bundle_order if store.bundles[bundle_id].get("ImageId") == image_id]

    def render(item) -> dict:
        if isinstance(item, dict):
            return item
        return _from_application("WORKSPACE", item.body["WorkspaceId"], _render(item))

    # Each WorkSpace association shown counts one observation of its state (the listing's doing).
    return backend.listing(operation, params, sorted(items, key=lambda pair: pair[0]), "Associations",
                           render=render)


@handles("DescribeWorkspaceAssociations")
def describe_workspace_associations(backend, params: dict) -> dict:
    """The application associations of a WorkSpace."""
    workspace_id = params["WorkspaceId"]
    if backend.live_workspace(workspace_id) is None:
        raise backend.refuse("DescribeWorkspaceAssociations", "not_found",
                             f"The WorkSpace {workspace_id} could not be found.")
    if "APPLICATION" not in params["AssociatedResourceTypes"]:
        return {"Associations": []}
    records = [r for r in _associations(backend) if r.body["WorkspaceId"] == workspace_id]
    rendered = [_render(r) for r in records]
    backend.observed(records)
    return {"Associations": rendered}


def _ready_workspace(backend, workspace_id: str, operation: str):
    """The live WorkSpace ``workspace_id`` in a state that takes application changes; else the modelled refusal."""
    workspace = backend.live_workspace(workspace_id)
    if workspace is None:
        raise backend.refuse(operation, "not_found", f"The WorkSpace {workspace_id} could not be found.")
    if workspace.state not in _WORKSPACE_READY:
        raise backend.refuse(operation, "invalid_state",
                             f"The WorkSpace {workspace_id} is {workspace.state}; its applications can be changed "
                             f"only in {' or '.join(_WORKSPACE_READY)}.")
    return workspace


def _application(backend, application_id: str, operation: str):
    """The application ``application_id``; else the not-found error ``operation`` models."""
    if "application_unknown_id_server_error" in backend.faults and \
            application_id not in backend.store.of_kind(APPLICATIONS):
        # The catalogue lookup returns nothing and the caller dereferences it unchecked.
        raise ApiError("InternalFailure", "An internal error occurred.", 500)
    return backend.find(APPLICATIONS, application_id, operation, what="application")


# -- associations ----------------------------------------------------------------------------

def _new_association(workspace_id: str, application_id: str, state: str) -> dict:
    """The WorkspaceResourceAssociation of ``application_id`` with the WorkSpace ``workspace_id``, made now."""
    now = time.time()
    return {"AssociatedResourceId": application_id, "AssociatedResourceType": "APPLICATION", "Created": now,
            "LastUpdatedTime": now, "State": state, "WorkspaceId": workspace_id}


def _store_association(backend, workspace_id: str, application_id: str, state: str):
    """Record a new association of ``application_id`` with a WorkSpace, in ``state`` (replacing a REMOVED one)."""
    body = _new_association(workspace_id, application_id, state)
    body.pop("State")  # the record's state holds it, moved by the lifecycle
    return backend.add(WORKSPACE_ASSOCIATIONS, f"{workspace_id}/{application_id}", body, state=state)


def _workspace_association(backend, workspace_id: str, application_id: str):
    """The association of ``application_id`` with the WorkSpace, its state up to date, or None."""
    record = backend.store.of_kind(WORKSPACE_ASSOCIATIONS).get(f"{workspace_id}/{application_id}")
    if record is not None:
        backend.lifecycle_of(WORKSPACE_ASSOCIATIONS).advance(record)
    return record


def _associations(backend) -> list:
    """The WorkSpace associations whose WorkSpace is live, in creation order, states up to date."""
    return [record for record in backend.records(WORKSPACE_ASSOCIATIONS)
            if backend.live_workspace(record.body["WorkspaceId"]) is not None]


def _move(backend, record, state: str) -> None:
    """Put an association in ``state`` now, as a request does (so its LastUpdatedTime moves too)."""
    backend.enter(record, state)
    record.body["LastUpdatedTime"] = time.time()


def _render(record) -> dict:
    """A WorkSpace association as DescribeWorkspaceAssociations shows it."""
    return dict(record.body, State=record.state)


def _image_associations(backend, image_id) -> list[dict]:
    """The application associations of the image ``image_id`` (none for an image the account does not hold)."""
    image = backend.store.of_kind(IMAGES).get(image_id) if isinstance(image_id, str) else None
    if image is None:
        return []
    return [a for a in image.private.get("associations", ()) if a.get("AssociatedResourceType") == "APPLICATION"]


def _application_images(backend, application_id: str) -> list[tuple[str, dict]]:
    """(image id, association) for each image of the account associated with ``application_id``."""
    return [(image.id, association) for image in backend.records(IMAGES)
            for association in _image_associations(backend, image.id)
            if association["AssociatedResourceId"] == application_id]


def _bundle_association(bundle_id: str, association: dict) -> dict:
    """An image's application association as the bundle made from the image shows it."""
    out = {key: association[key] for key in ("AssociatedResourceId", "AssociatedResourceType", "Created",
                                             "LastUpdatedTime", "State", "StateReason") if key in association}
    return dict(out, BundleId=bundle_id)


def _from_application(resource_type: str, resource_id: str, association: dict) -> dict:
    """An association as DescribeApplicationAssociations shows it: from the application's side."""
    out = {"ApplicationId": association["AssociatedResourceId"], "AssociatedResourceId": resource_id,
           "AssociatedResourceType": resource_type}
    out.update({key: association[key] for key in ("Created", "LastUpdatedTime", "State", "StateReason")
                if key in association})
    return out
