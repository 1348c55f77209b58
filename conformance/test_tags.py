"""Tags: roundtrip, overwrite, delete, delete of an absent key, the 50-tag limit, reserved prefix, unknown resources.

Tags are written only on WorkSpaces this run created, and every key a test adds
is deleted again at its end.
"""
from __future__ import annotations

import pytest

import specs

from .behaviour import require

OPERATIONS = ["CreateTags", "DeleteTags", "DescribeTags"]
UNKNOWN_WORKSPACE = "ws-0cf0000000"  # well-formed, never issued (ids are random base-36)



def rule_value(kind: str, key: str):
    return next(entry[key] for entry in specs.rules()["tags"] if entry["kind"] == kind)


class Tagger:
    """Tag calls on one resource, with the failure helpers of the ``tags`` check."""

    def __init__(self, run, operation: str, resource_id: str) -> None:
        self.run, self.operation, self.resource_id = run, operation, resource_id
        self.added: set[str] = set()
        self.last = None

    def fail(self, title: str, message: str, rule: str, operation: str | None = None, check: str = "tags"):
        return self.run.failure(check, rule, title, message, operation=operation or self.operation, exchange=self.last)

    def create(self, tags: list[dict]):
        self.added |= {tag["Key"] for tag in tags}
        self.last = self.run.call("CreateTags", {"ResourceId": self.resource_id, "Tags": tags})
        return self.last

    def delete(self, keys: list[str]):
        self.last = self.run.call("DeleteTags", {"ResourceId": self.resource_id, "TagKeys": keys})
        return self.last

    def describe(self) -> dict[str, list]:
        """Key -> list of values (a list, so a duplicated key shows)."""
        self.last = self.run.call("DescribeTags", {"ResourceId": self.resource_id})
        body = self.last.response.json
        if self.last.response.status != 200 or not isinstance(body, dict) or not isinstance(body.get("TagList"), list):
            raise self.fail("DescribeTags failed on a live resource",
                            f"DescribeTags on {self.resource_id} answered {self.last.response.describe(300)}.",
                            "tags.taggable_resources", "DescribeTags")
        found: dict[str, list] = {}
        for tag in body["TagList"]:
            if isinstance(tag, dict):
                found.setdefault(tag.get("Key"), []).append(tag.get("Value") or "")
        return found

    def expect_ok(self, exchange, what: str, rule: str, operation: str) -> None:
        if exchange.response.status != 200:
            raise self.fail(f"{what} refused", f"{what} is valid, yet the target answered "
                            f"{exchange.response.describe(300)}.", rule, operation)

    def expect_rejected(self, exchange, what: str, rule: str, operation: str) -> None:
        codes = specs.rule(rule).get("codes") or []
        if not 400 <= exchange.response.status < 500:
            raise self.fail(f"{what} not rejected", f"{what} must be rejected with a client error "
                            f"({' or '.join(codes)}), but the target answered HTTP {exchange.response.status}.",
                            rule, operation)
        code = exchange.response.error_code
        if codes and code not in codes:
            # Refused, as the tags rule asks; with which code is the strict error_code check's business.
            raise self.fail(f"{what} refused with {code}", f"{what} must be refused with {' or '.join(codes)}, "
                            f"but the target answered {exchange.response.describe(300)}.", rule, operation,
                            check="error_code")

    def restore(self) -> None:
        keys = sorted(self.added)
        if keys and self.run.implemented("DeleteTags"):
            for start in range(0, len(keys), 50):
                self.delete(keys[start:start + 50])


def own_workspace(run) -> str | None:
    """A live WorkSpace this run created for its own use (tagged at creation), if any."""
    pool = run.pool(workspaces=1)
    # Not one a generated CreateWorkspaces made: its tags and settings are whatever was drawn.
    mine = [w for w in pool.workspaces if w in run.target.created and w not in run.target.generated]
    return mine[0] if mine else None


def own_resource(run) -> str:
    """A resource the suite may tag: a WorkSpace this run created, or on a loopback target a directory."""
    found = own_workspace(run)
    if found:
        return found
    if not run.target.remote:
        # The loopback account is the suite's own, and tests restore the tags they add.
        directories = run.pool(workspaces=0).directories
        if directories:
            return directories[0]
    pytest.skip("budget: no WorkSpace created by this run to tag (see --max-workspaces)")


def prefix(run) -> str:
    return f"cf-{run.target.run_id[:8]}"


@pytest.mark.conformance(checks=["tags"], operations=["CreateTags"])
def test_create_tags(operation, target_run):
    """Roundtrip (case-sensitive keys), overwrite, reserved prefix, the 50-tag limit, unknown resource."""
    require(target_run, "CreateTags", "DescribeTags")
    tagger = Tagger(target_run, operation, own_resource(target_run))
    p = prefix(target_run)
    try:
        upper, lower = f"{p}-Env", f"{p}-env"
        tagger.expect_ok(tagger.create([{"Key": upper, "Value": "Prod"}, {"Key": lower, "Value": ""}]),
                         "CreateTags with two keys differing in case", "tags.case_sensitive", operation)
        tags = tagger.describe()
        if tags.get(upper) != ["Prod"] or tags.get(lower) != [""]:
            raise tagger.fail("Tags do not read back as written",
                              f"After CreateTags {upper}=Prod and {lower}='' DescribeTags lists {upper}: "
                              f"{tags.get(upper)}, {lower}: {tags.get(lower)}; keys differing only in case are "
                              "distinct tags.", "tags.case_sensitive")
        tagger.expect_ok(tagger.create([{"Key": upper, "Value": "Test"}]), "CreateTags with an existing key",
                         "tags.overwrite", operation)
        tags = tagger.describe()
        if tags.get(upper) != ["Test"]:
            raise tagger.fail("CreateTags did not overwrite the existing key",
                              f"After CreateTags {upper}=Test on a resource tagged {upper}=Prod DescribeTags lists "
                              f"{upper}: {tags.get(upper)}; the value must be replaced, not added.", "tags.overwrite")

        reserved = rule_value("reserved_prefix", "prefix") + "conformance"
        tagger.expect_rejected(tagger.create([{"Key": reserved, "Value": "x"}]),
                               f"A tag key with the reserved prefix ({reserved!r})", "tags.reserved_prefix", operation)
        if reserved in tagger.describe():
            raise tagger.fail("A reserved-prefix tag was stored", f"{reserved!r} is listed by DescribeTags.",
                              "tags.reserved_prefix")

        limit = rule_value("max_tags", "max")
        count = sum(len(values) for values in tagger.describe().values())
        fill = [{"Key": f"{p}-fill-{i}", "Value": str(i)} for i in range(limit - count)]
        if fill:
            tagger.expect_ok(tagger.create(fill), f"CreateTags up to {limit} tags", "tags.max_tags", operation)
        tagger.expect_rejected(tagger.create([{"Key": f"{p}-one-too-many", "Value": "x"}]),
                               f"A tag beyond the limit of {limit}", "tags.max_tags", operation)
        total = sum(len(values) for values in tagger.describe().values())
        if total > limit:
            raise tagger.fail(f"The resource holds {total} tags", f"At most {limit} tags may be stored.",
                              "tags.max_tags")
    finally:
        tagger.restore()
    unknown = Tagger(target_run, operation, UNKNOWN_WORKSPACE)
    unknown.expect_rejected(unknown.create([{"Key": f"{p}-k", "Value": "v"}]),
                            f"CreateTags on the unknown WorkSpace {UNKNOWN_WORKSPACE}", "tags.unknown_resource",
                            operation)


@pytest.mark.conformance(checks=["tags"], operations=["DeleteTags"])
def test_delete_tags(operation, target_run):
    """DeleteTags removes exactly the keys named; an absent key is no error; unknown resources are refused."""
    require(target_run, "CreateTags", "DeleteTags", "DescribeTags")
    tagger = Tagger(target_run, operation, own_resource(target_run))
    p = prefix(target_run)
    try:
        keep, drop = f"{p}-env", f"{p}-Env"
        tagger.expect_ok(tagger.create([{"Key": keep, "Value": "a"}, {"Key": drop, "Value": "b"}]),
                         "CreateTags", "tags.case_sensitive", "CreateTags")
        tagger.expect_ok(tagger.delete([drop]), f"DeleteTags of {drop!r}", "tags.delete", operation)
        tags = tagger.describe()
        if drop in tags or tags.get(keep) != ["a"]:
            raise tagger.fail("DeleteTags did not remove exactly the key named",
                              f"After DeleteTags [{drop!r}] DescribeTags lists {drop}: {tags.get(drop)}, "
                              f"{keep}: {tags.get(keep)}; {drop!r} must be gone and {keep!r} (another key, "
                              "differing in case) kept.", "tags.delete")
        before = tagger.describe()
        tagger.expect_ok(tagger.delete([f"{p}-absent"]), "DeleteTags of a key the resource does not have",
                         "tags.delete_absent", operation)
        if tagger.describe() != before:
            raise tagger.fail("Deleting an absent key changed the tags",
                              "DeleteTags with a key the resource does not have must change nothing.",
                              "tags.delete_absent")
    finally:
        tagger.restore()
    unknown = Tagger(target_run, operation, UNKNOWN_WORKSPACE)
    unknown.expect_rejected(unknown.delete([f"{p}-k"]), f"DeleteTags on the unknown WorkSpace {UNKNOWN_WORKSPACE}",
                            "tags.unknown_resource", operation)


@pytest.mark.conformance(checks=["tags"], operations=["DescribeTags"])
def test_describe_tags(operation, target_run):
    """Tags given at creation are listed; an unknown resource is refused, not answered with no tags."""
    require(target_run, "DescribeTags")
    unknown = Tagger(target_run, operation, UNKNOWN_WORKSPACE)
    unknown.last = target_run.call("DescribeTags", {"ResourceId": UNKNOWN_WORKSPACE})
    unknown.expect_rejected(unknown.last, f"DescribeTags on the unknown WorkSpace {UNKNOWN_WORKSPACE}",
                            "tags.unknown_resource", operation)
    if not target_run.may_send("CreateWorkspaces"):
        return
    from .cleanup import RUN_TAG

    workspace = own_workspace(target_run)
    if workspace is None:
        return
    tagger = Tagger(target_run, operation, workspace)
    tags = tagger.describe()
    if target_run.target.run_id not in tags.get(RUN_TAG, []):
        raise tagger.fail("Tags given to CreateWorkspaces are not listed",
                          f"The WorkSpace was created with {RUN_TAG}={target_run.target.run_id}; DescribeTags lists "
                          f"{sorted(tags)[:10]}.", "tags.taggable_resources")
