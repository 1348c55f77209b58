"""The catalogue of fault switches: named deviations that real WorkSpaces mocks show.

Each fault changes one behaviour of the emulator, the one its description
names, so that the conformance suite's power to detect it can be measured.
``check`` names the conformance check expected to catch it (a self-test holds
every name against the suite's check declarations; the emulator shares no code
with the suite but the contract).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

__all__ = ["CATALOGUE", "Fault", "validate_fault_names"]


@dataclass(frozen=True)
class Fault:
    """One named deviation: what it breaks, which check should see it, where."""

    name: str
    description: str
    check: str
    operations: tuple[str, ...]


_DESCRIBES = ("DescribeWorkspaces", "DescribeWorkspaceBundles",
              "DescribeWorkspaceDirectories", "DescribeWorkspacesConnectionStatus")
_TAGS = ("CreateTags", "DeleteTags", "DescribeTags")
_ANY = ("*",)

_FAULTS = [
    # implemented
    Fault("unimplemented_connection_status",
          "DescribeWorkspacesConnectionStatus answers HTTP 500 with an HTML 'not yet implemented' page, as moto does for operations it lacks.",
          "implemented", ("DescribeWorkspacesConnectionStatus",)),
    # not_a_server_error
    Fault("server_error_on_malformed_json",
          "A body that is not JSON gets HTTP 500 InternalFailure instead of 400 SerializationException.",
          "not_a_server_error", _ANY),
    Fault("server_error_on_wrong_type",
          "A member of the wrong JSON type gets HTTP 500 InternalFailure instead of a 400 error.",
          "not_a_server_error", _ANY),
    # response_schema
    Fault("bundle_storage_without_capacity",
          "Bundles' UserStorage and RootStorage omit the required Capacity member.",
          "response_schema", ("DescribeWorkspaceBundles",)),
    Fault("volume_size_as_string",
          "WorkspaceProperties carries RootVolumeSizeGib and UserVolumeSizeGib as strings, not integers.",
          "response_schema", ("DescribeWorkspaces", "CreateWorkspaces")),
    Fault("timestamp_as_string",
          "ConnectionStateCheckTimestamp is an ISO-8601 string instead of epoch seconds.",
          "response_schema", ("DescribeWorkspacesConnectionStatus",)),
    Fault("tag_list_as_map",
          "DescribeTags returns TagList as a {key: value} object instead of a list of Tag structures.",
          "response_schema", ("DescribeTags",)),
    # response_enum
    Fault("state_outside_enum",
          "A WorkSpace in AVAILABLE is reported with State 'RUNNING', a value outside WorkspaceState.",
          "response_enum", ("DescribeWorkspaces",)),
    Fault("compute_type_lowercase",
          "Compute type names are reported in lower case ('standard'), outside the Compute enum.",
          "response_enum", ("DescribeWorkspaces", "DescribeWorkspaceBundles", "CreateWorkspaces")),
    # error_shape
    Fault("error_without_type",
          "Error bodies name the error in 'code' instead of '__type'.",
          "error_shape", _ANY),
    Fault("error_without_message",
          "Error bodies carry '__type' but no 'message'.",
          "error_shape", _ANY),
    Fault("not_found_http_404",
          "ResourceNotFoundException is sent with HTTP 404 instead of the modelled 400.",
          "error_shape", _TAGS + ("ModifyWorkspaceProperties",)),
    # content_type
    Fault("content_type_html",
          "Every response is labelled Content-Type: text/html instead of application/x-amz-json-1.1.",
          "content_type", _ANY),
    # positive_data_acceptance
    Fault("rejects_wsd_directory_ids",
          "Valid directory ids of the 'wsd-' form are rejected with ValidationException; only 'd-' ids pass.",
          "positive_data_acceptance", ("DescribeWorkspaces", "DescribeWorkspaceDirectories", "CreateWorkspaces")),
    Fault("rejects_limit_25",
          "Limit=25, the documented maximum, is rejected with ValidationException (off by one).",
          "positive_data_acceptance", ("DescribeWorkspaces", "DescribeWorkspaceDirectories")),
    Fault("rejects_long_user_name",
          "UserName longer than 20 characters is rejected although the model allows 63.",
          "positive_data_acceptance", ("CreateWorkspaces", "DescribeWorkspaces")),
    Fault("create_fails_every_request",
          "CreateWorkspaces looks users up in a directory user table that is never filled: every request fails with ResourceNotFound.User, HTTP 200.",
          "positive_data_acceptance", ("CreateWorkspaces",)),
    Fault("start_stop_report_done_as_failed",
          "StartWorkspaces and StopWorkspaces check the precondition after changing the state, so each WorkSpace acted on is also reported failed.",
          "positive_data_acceptance", ("StartWorkspaces", "StopWorkspaces")),
    Fault("failed_entry_off_by_one",
          "A FailedRequests entry names the WorkSpace of the request after the refused one (an index off by one); the last request names itself.",
          "positive_data_acceptance", ("StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "TerminateWorkspaces")),
    Fault("batch_fails_after_first_refusal",
          "Once one request of a batch is refused, every later request is reported failed with the same error and left undone.",
          "positive_data_acceptance", ("StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "TerminateWorkspaces")),
    # negative_data_rejection: one fault per constraint kind
    Fault("accepts_too_long",
          "maxLength is not enforced: over-long strings are accepted.",
          "negative_data_rejection", _ANY),
    Fault("accepts_too_short",
          "minLength is not enforced: too-short strings are accepted.",
          "negative_data_rejection", _ANY),
    Fault("accepts_too_many_items",
          "maxItems is not enforced: over-long lists are accepted.",
          "negative_data_rejection", _ANY),
    Fault("accepts_too_few_items",
          "minItems is not enforced: empty lists are accepted.",
          "negative_data_rejection", _ANY),
    Fault("accepts_pattern_mismatch",
          "pattern is not enforced: ids and names that do not match are accepted.",
          "negative_data_rejection", _ANY),
    Fault("accepts_enum_violation",
          "enum is not enforced: values outside an enum are accepted (as moto does).",
          "negative_data_rejection", _ANY),
    Fault("accepts_out_of_range",
          "minimum and maximum are not enforced: numbers out of range are accepted.",
          "negative_data_rejection", _ANY),
    # error_code
    Fault("validation_as_bad_request",
          "Schema violations are reported as BadRequestException instead of the code rules.json names.",
          "error_code", _ANY),
    Fault("not_found_as_invalid_parameter",
          "An unknown resource id in the tag operations gives InvalidParameterValuesException instead of ResourceNotFoundException.",
          "error_code", _TAGS),
    # state_precondition
    Fault("stop_ignores_state",
          "StopWorkspaces is accepted in any state (e.g. a STOPPED WorkSpace goes to STOPPING again).",
          "state_precondition", ("StopWorkspaces",)),
    Fault("reboot_ignores_state",
          "RebootWorkspaces is accepted in any state (e.g. while STOPPED).",
          "state_precondition", ("RebootWorkspaces",)),
    Fault("modify_ignores_state",
          "ModifyWorkspaceProperties succeeds in any state instead of only AVAILABLE or STOPPED.",
          "state_precondition", ("ModifyWorkspaceProperties",)),
    # state_transition
    Fault("skip_pending",
          "New WorkSpaces are AVAILABLE at once; PENDING is never seen (as moto does).",
          "state_transition", ("CreateWorkspaces", "DescribeWorkspaces")),
    Fault("skip_stopping",
          "StopWorkspaces goes straight to STOPPED; STOPPING is never seen.",
          "state_transition", ("StopWorkspaces", "DescribeWorkspaces")),
    Fault("terminate_removes_at_once",
          "TerminateWorkspaces deletes the WorkSpace in the request: it is gone at once and TERMINATING is never seen.",
          "state_transition", ("TerminateWorkspaces", "DescribeWorkspaces")),
    Fault("start_leaves_stopped",
          "StartWorkspaces is accepted for a STOPPED AutoStop WorkSpace but leaves it STOPPED: AutoStop WorkSpaces are left to resume on a user's connection.",
          "state_transition", ("StartWorkspaces", "DescribeWorkspaces")),
    Fault("rebuild_ends_stopped",
          "A rebuilt WorkSpace leaves REBUILDING for STOPPED instead of AVAILABLE.",
          "state_transition", ("RebuildWorkspaces", "DescribeWorkspaces")),
    Fault("available_regresses_to_pending",
          "The second DescribeWorkspaces that finds a WorkSpace AVAILABLE reports it PENDING again: the launch cache behind State is refreshed one describe late.",
          "state_transition", ("DescribeWorkspaces",)),
    Fault("connected_while_stopped",
          "DescribeWorkspacesConnectionStatus reports CONNECTED for a STOPPED WorkSpace instead of UNKNOWN.",
          "state_transition", ("DescribeWorkspacesConnectionStatus",)),
    Fault("refused_action_still_applied",
          "Start, Stop, Reboot and Rebuild report a WorkSpace whose state forbids the action as failed, then apply the action all the same.",
          "state_transition", ("StartWorkspaces", "StopWorkspaces", "RebootWorkspaces", "RebuildWorkspaces")),
    Fault("create_keeps_refused_workspace",
          "CreateWorkspaces stores a WorkSpace before checking its user has none: a request refused with ResourceExists.WorkSpace is created anyway.",
          "state_transition", ("CreateWorkspaces",)),
    # async_completion
    Fault("stuck_rebooting",
          "A rebooted WorkSpace stays REBOOTING forever.",
          "async_completion", ("RebootWorkspaces", "DescribeWorkspaces")),
    Fault("stuck_pending",
          "A new WorkSpace stays PENDING forever.",
          "async_completion", ("CreateWorkspaces", "DescribeWorkspaces")),
    Fault("stuck_rebuilding",
          "A rebuilt WorkSpace stays REBUILDING forever.",
          "async_completion", ("RebuildWorkspaces", "DescribeWorkspaces")),
    # use_after_terminate
    Fault("terminated_stays_available",
          "TerminateWorkspaces reports success but the WorkSpace stays AVAILABLE.",
          "use_after_terminate", ("TerminateWorkspaces", "DescribeWorkspaces")),
    # pagination
    Fault("page_duplicates_item",
          "Each page after the first repeats the last item of the page before.",
          "pagination", _DESCRIBES),
    Fault("page_drops_item",
          "The first item after each page boundary is skipped.",
          "pagination", _DESCRIBES),
    Fault("limit_ignored",
          "Limit is ignored: every matching item comes back in one page.",
          "pagination", ("DescribeWorkspaces", "DescribeWorkspaceDirectories")),
    Fault("endless_next_token",
          "The last page still carries a NextToken, which leads to an empty page with a NextToken again.",
          "pagination", _DESCRIBES),
    Fault("garbage_token_accepted",
          "A NextToken the server never issued is accepted and read as 'start from the beginning'.",
          "pagination", _DESCRIBES),
    Fault("token_not_bound_to_filters",
          "A NextToken is accepted with filters other than those that produced it.",
          "pagination", _DESCRIBES),
    Fault("token_marks_first_item",
          "NextToken records the first item of the page, not the last: with Limit > 1 the next page starts inside it.",
          "pagination", _DESCRIBES),
    Fault("token_names_highest_id",
          "NextToken records the page's highest id as if listings were sorted by id: with Limit > 1 pages overlap.",
          "pagination", _DESCRIBES),
    Fault("last_partial_page_lost",
          "Pages are counted as items // Limit, so a last page shorter than Limit is never announced by a NextToken.",
          "pagination", ("DescribeWorkspaces", "DescribeWorkspaceDirectories")),
    Fault("page_cap_skips_by_limit",
          "Pages are cut at 10 items while the next page starts Limit items on: a Limit over 10 skips items.",
          "pagination", ("DescribeWorkspaces", "DescribeWorkspaceDirectories")),
    Fault("page_overfilled_by_peek",
          "With a Limit, the item read ahead to see whether more remain is served too: Limit+1 items, one listed twice.",
          "pagination", ("DescribeWorkspaces", "DescribeWorkspaceDirectories")),
    # tags
    Fault("tags_append_duplicate_key",
          "CreateTags with an existing key appends a second tag with that key instead of overwriting it.",
          "tags", ("CreateTags", "DescribeTags")),
    Fault("tags_no_limit",
          "More than 50 tags per resource are accepted.",
          "tags", ("CreateTags",)),
    Fault("tags_delete_ignored",
          "DeleteTags answers success but removes nothing.",
          "tags", ("DeleteTags",)),
    Fault("tags_unknown_resource_accepted",
          "Tag operations on an unknown resource id succeed (DescribeTags returns an empty list).",
          "tags", _TAGS),
    Fault("tags_reserved_prefix_accepted",
          "Tag keys starting with the reserved 'aws:' prefix are accepted.",
          "tags", ("CreateTags",)),
    # filters
    Fault("filters_ignored",
          "DescribeWorkspaces ignores DirectoryId, UserName, BundleId and WorkspaceName and returns every WorkSpace.",
          "filters", ("DescribeWorkspaces",)),
    Fault("exclusive_filters_accepted",
          "Filter combination rules (exclusive members, UserName needs DirectoryId) are not enforced.",
          "filters", ("DescribeWorkspaces", "DescribeWorkspaceBundles", "DescribeWorkspaceDirectories")),
    Fault("bundle_owner_ignored",
          "DescribeWorkspaceBundles ignores Owner and returns AMAZON and account bundles together.",
          "filters", ("DescribeWorkspaceBundles",)),
    Fault("describe_ids_drops_last",
          "DescribeWorkspaces with WorkspaceIds looks up all but the last requested id (an off-by-one in the loop over the ids).",
          "filters", ("DescribeWorkspaces",)),
    Fault("connection_status_omits_available",
          "DescribeWorkspacesConnectionStatus lists only WorkSpaces with a recorded connection: an AVAILABLE one nobody connected to is left out.",
          "filters", ("DescribeWorkspacesConnectionStatus",)),
    # client_features
    Fault("token_ignored_with_limit",
          "NextToken is ignored when Limit is also given, as a paginator with PageSize sends: page one comes back again and the paginator never ends; plain calls without Limit page correctly.",
          "client_features", ("DescribeWorkspaces",)),
    # WorkSpaces beyond the seed operations
    Fault("restore_ignores_state",
          "RestoreWorkspace accepts a WorkSpace in any state (PENDING, TERMINATING) and sends it to RESTORING.",
          "state_precondition", ("RestoreWorkspace",)),
    Fault("migrate_keeps_source",
          "MigrateWorkspace makes the target WorkSpace but leaves the source AVAILABLE instead of terminating it.",
          "state_transition", ("MigrateWorkspace",)),
    # network family: IP access control groups and connection aliases
    Fault("ip_group_delete_while_associated",
          "DeleteIpGroup deletes a group still associated with a directory, which goes on naming the missing group in ipGroupIds.",
          "state_precondition", ("DeleteIpGroup",)),
    Fault("ip_rules_revoke_ignored",
          "RevokeIpRules answers success but compares the revoked CIDRs with whole rule items, so every rule stays in the group.",
          "state_transition", ("RevokeIpRules",)),
    Fault("ip_groups_filter_ignored",
          "DescribeIpGroups ignores GroupIds and lists every group of the account.",
          "filters", ("DescribeIpGroups",)),
    Fault("alias_never_created",
          "CreateConnectionAlias writes State CREATING into the stored alias and never puts it on the clock: it stays CREATING.",
          "async_completion", ("CreateConnectionAlias", "DescribeConnectionAliases")),
    Fault("unknown_alias_server_error",
          "Operations naming an AliasId index the alias table without an existence check: an unknown id answers HTTP 500 InternalFailure.",
          "not_a_server_error", ("DeleteConnectionAlias", "AssociateConnectionAlias", "DisassociateConnectionAlias",
                                 "DescribeConnectionAliasPermissions", "UpdateConnectionAliasPermission")),
    # pools and account families: WorkSpaces Pools, BYOL settings, account links
    Fault("pool_start_ignores_state",
          "StartWorkspacesPool on a RUNNING pool answers success and changes nothing instead of refusing with InvalidResourceStateException.",
          "state_precondition", ("StartWorkspacesPool",)),
    Fault("pool_update_replaces_settings",
          "UpdateWorkspacesPool rebuilds the pool from the request: members it does not name are dropped, the required BundleId, DirectoryId and RunningMode too.",
          "response_schema", ("UpdateWorkspacesPool", "DescribeWorkspacesPools")),
    Fault("pool_stop_skips_stopping",
          "StopWorkspacesPool puts the pool straight into STOPPED; STOPPING is never seen.",
          "state_transition", ("StopWorkspacesPool", "DescribeWorkspacesPools")),
    Fault("account_link_accept_twice",
          "AcceptAccountLinkInvitation on a link that is already LINKED answers success instead of ConflictException.",
          "state_precondition", ("AcceptAccountLinkInvitation",)),
    Fault("account_modification_stuck_pending",
          "A ModifyAccount modification stays PENDING forever: DescribeAccount never shows the new management CIDR range.",
          "async_completion", ("ModifyAccount", "DescribeAccountModifications", "DescribeAccount")),
    # directories family: registration, directory settings, client branding and add-ins
    Fault("modify_replaces_settings",
          "ModifyWorkspaceCreationProperties, ModifySelfservicePermissions and ModifyWorkspaceAccessProperties store the request's structure whole: members it does not name vanish.",
          "state_transition", ("ModifyWorkspaceCreationProperties", "ModifySelfservicePermissions",
                               "ModifyWorkspaceAccessProperties")),
    Fault("deregister_orphans_workspaces",
          "DeregisterWorkspaceDirectory deregisters a directory that still has WorkSpaces instead of refusing with OperationNotSupportedException.",
          "state_precondition", ("DeregisterWorkspaceDirectory",)),
    Fault("branding_logo_url_as_key",
          "Client branding reports each logo by its storage key ('branding/d-.../logo.png') where LogoUrl must be an http(s) URL.",
          "response_schema", ("ImportClientBranding", "DescribeClientBranding")),
    # images family: WorkSpace images, their sharing and associations
    Fault("images_pagination_ignored",
          "DescribeWorkspaceImages ignores MaxResults and NextToken: every image comes back in one page, with no NextToken.",
          "pagination", ("DescribeWorkspaceImages",)),
    Fault("image_delete_leaves_describable",
          "DeleteWorkspaceImage answers success but the image stays listed by DescribeWorkspaceImages.",
          "use_after_terminate", ("DeleteWorkspaceImage", "DescribeWorkspaceImages")),
    Fault("image_never_available",
          "New images stay PENDING forever: DescribeWorkspaceImages never shows them AVAILABLE.",
          "async_completion", ("CreateWorkspaceImage", "CopyWorkspaceImage", "ImportWorkspaceImage",
                               "ImportCustomWorkspaceImage", "CreateUpdatedWorkspaceImage", "DescribeWorkspaceImages")),
    Fault("image_unshare_ignored",
          "UpdateWorkspaceImagePermission with AllowCopyImage false answers success but the account stays in DescribeWorkspaceImagePermissions.",
          "state_transition", ("UpdateWorkspaceImagePermission", "DescribeWorkspaceImagePermissions")),
    Fault("image_create_ignores_workspace_state",
          "CreateWorkspaceImage makes an image of a WorkSpace in any state instead of refusing one that is not AVAILABLE.",
          "state_precondition", ("CreateWorkspaceImage",)),
    # bundles family: custom bundles, applications and their associations
    Fault("bundle_delete_leaves_describable",
          "DeleteWorkspaceBundle answers success but never removes the bundle: DescribeWorkspaceBundles keeps listing it.",
          "use_after_terminate", ("DeleteWorkspaceBundle",)),
    Fault("application_association_not_recorded",
          "AssociateWorkspaceApplication answers the new association but never saves it: the association describes never show it.",
          "state_transition", ("AssociateWorkspaceApplication", "DescribeWorkspaceAssociations",
                               "DescribeApplicationAssociations")),
    Fault("application_unknown_id_server_error",
          "An ApplicationId naming no application gets HTTP 500 InternalFailure instead of ResourceNotFoundException.",
          "not_a_server_error", ("AssociateWorkspaceApplication", "DisassociateWorkspaceApplication",
                                 "DescribeApplicationAssociations")),
    Fault("application_license_filter_ignored",
          "DescribeApplications ignores LicenseType and returns LICENSED and UNLICENSED applications together.",
          "filters", ("DescribeApplications",)),
]

CATALOGUE: dict[str, Fault] = {fault.name: fault for fault in _FAULTS}


def validate_fault_names(names: Iterable[str]) -> frozenset[str]:
    """Return ``names`` as a frozenset, or raise ValueError naming the closest known fault."""
    if isinstance(names, str):
        names = (names,)
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in CATALOGUE:
            close = difflib.get_close_matches(name, list(CATALOGUE), n=1, cutoff=0.3)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Expected a fault name from emulator.faults.CATALOGUE but got fault={name!r}.{hint}"
                " List them with: python -m emulator --list-faults"
            )
    return chosen
