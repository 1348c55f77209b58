"""Self-tests of contract versions: drift from the installed model, values only a newer model allows,
``--contract installed``, and the protocol the suite speaks whatever the model lists first."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import botocore
import pytest

import specs
from conformance import checks
from conformance.checks import CheckFailure, Exchange, Response
from conformance.client import Caller, Connection, speaking
from specs import derive
from strategies import wire

ROOT = Path(__file__).resolve().parents[1]
JSON = {"content-type": "application/x-amz-json-1.1"}
# An enum value of the installed model, and the definition that holds it, that an older contract lacks.
NEW_VALUE = ("Compute", "GRAPHICS_G7_2XLARGE")


def older_contract_files() -> dict[str, str]:
    """The installed model's specs as an older botocore would have written them: one enum value fewer."""
    files = dict(derive.derive())
    shape, value = NEW_VALUE
    for rel, text in files.items():
        if not rel.startswith("operations/"):
            continue
        spec = json.loads(text)
        for part in ("input", "output"):
            definition = spec[part].get("definitions", {}).get(shape)
            if definition and value in definition.get("enum", []):
                definition["enum"].remove(value)
        files[rel] = json.dumps(spec)
    info = json.loads(files["model.json"])
    info.update(botocore="1.0.0", digest="sha256:" + "0" * 64)
    files["model.json"] = json.dumps(info)
    return files


@pytest.fixture
def older_contract():
    """The run judges by a contract older than the installed botocore's model."""
    if NEW_VALUE[1] not in json.dumps(derive.derive()["operations/DescribeWorkspaces.json"]):
        pytest.skip(f"the installed botocore {botocore.__version__} does not know {NEW_VALUE}")
    specs._activate(older_contract_files(), "committed")
    yield
    specs.use_committed_specs()


def workspace_with_compute(name: str) -> dict:
    return {"Workspaces": [{"WorkspaceId": "ws-abcdefgh1", "WorkspaceProperties": {"ComputeTypeName": name}}]}


def judge(check, body: dict) -> CheckFailure | None:
    response = Response(200, dict(JSON), json.dumps(body).encode())
    try:
        check(Exchange("DescribeWorkspaces", {}, response))
    except CheckFailure as failure:
        return failure
    return None


def test_the_committed_contract_lists_every_protocol_of_its_model():
    info = specs.model_info()
    assert "json" in info["protocols"]
    assert "protocol" not in info  # which one is spoken is the suite's choice, not the model's first entry


def test_drift_names_versions_and_what_differs(older_contract):
    drift = specs.drift()
    assert drift is not None and drift.installed_is_newer
    assert drift.contract_botocore == "1.0.0"
    assert drift.installed_botocore == botocore.__version__
    assert drift.counts == {"enum values": (1, 0)}
    line = drift.line()
    assert line.startswith("contract drift:") and "\n" not in line
    assert "botocore 1.0.0" in line and f"botocore {botocore.__version__}" in line
    assert "(the installed model adds 1 enum value)" in line


def test_no_drift_when_the_installed_model_is_the_contract():
    specs._activate(derive.derive(), "committed")
    try:
        assert specs.drift() is None
        assert specs.installed_operation("DescribeWorkspaces") is None
    finally:
        specs.use_committed_specs()


def test_a_value_only_the_newer_model_knows_is_not_a_failure(older_contract):
    assert NEW_VALUE[1] not in specs.operation("DescribeWorkspaces")["output"]["definitions"]["Compute"]["enum"]
    assert judge(checks.response_enum, workspace_with_compute(NEW_VALUE[1])) is None
    assert judge(checks.response_schema, workspace_with_compute(NEW_VALUE[1])) is None


def test_a_value_no_model_knows_still_fails(older_contract):
    failure = judge(checks.response_enum, workspace_with_compute("GRAPHICS_G99_HUGE"))
    assert failure is not None and failure.check == "response_enum"
    assert "Workspaces[0].WorkspaceProperties.ComputeTypeName" in failure.title
    wrong_type = judge(checks.response_schema, workspace_with_compute(7))
    assert wrong_type is not None and wrong_type.check == "response_schema"


def test_without_a_newer_model_the_same_value_fails(older_contract, monkeypatch):
    # The same older contract with no newer model beside it: the value is a deviation.
    monkeypatch.setattr(specs, "installed_operation", lambda name: None)
    checks._installed_validators.cache_clear()
    try:
        failure = judge(checks.response_enum, workspace_with_compute(NEW_VALUE[1]))
    finally:
        checks._installed_validators.cache_clear()
    assert failure is not None and failure.check == "response_enum"


def test_contract_installed_switches_the_specs_in_force():
    specs.use_installed_model()
    try:
        assert specs.contract_origin() == "installed"
        assert specs.model_info()["botocore"] == botocore.__version__
        assert specs.drift() is None
    finally:
        specs.use_committed_specs()
    assert specs.contract_origin() == "committed"


def test_the_drift_report_lists_every_changed_operation(older_contract):
    old = older_contract_files()
    new = derive.derive()
    changed = [json.loads(t)["name"] for rel, t in old.items()
               if rel.startswith("operations/") and json.loads(t) != json.loads(new[rel])]
    assert len(changed) > 0
    summary = derive.drift_summary(old, new)
    # Every changed file's operation is named (the formatting of the derived text differs too).
    line = next(l for l in summary.splitlines() if l.strip().startswith("operation files changed"))
    for name in changed:
        assert name in line


# --- end to end --------------------------------------------------------------------------


PLUGIN = '''
"""Activate a contract older than the installed botocore's model, as a stale checkout would have."""
import json, pathlib
import specs
specs._activate(json.loads(pathlib.Path({path!r}).read_text()), "committed")
'''


def test_a_run_with_a_newer_botocore_prints_the_drift_line_and_records_it(tmp_path):
    if NEW_VALUE[1] not in derive.derive()["operations/DescribeWorkspaces.json"]:
        pytest.skip(f"the installed botocore {botocore.__version__} does not know {NEW_VALUE}")
    files = tmp_path / "older.json"
    files.write_text(json.dumps(older_contract_files()))
    (tmp_path / "older_contract.py").write_text(textwrap.dedent(PLUGIN.format(path=str(files))))
    report = tmp_path / "report.json"
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", PYTHONPATH=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "-p", "older_contract", "-p", "no:cacheprovider",
         "--operations", "DescribeWorkspaceBundles", "--report", str(report)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    drift_lines = [line for line in done.stdout.splitlines() if line.startswith("contract drift:")]
    assert len(drift_lines) == 1, done.stdout[:3000]
    assert f"installed botocore {botocore.__version__}" in drift_lines[0]
    contract = json.loads(report.read_text())["contract"]
    assert contract["botocore"] == "1.0.0" and contract["origin"] == "committed"
    assert contract["drift"]["installed_botocore"] == botocore.__version__
    assert contract["drift"]["differences"] == "the installed model adds 1 enum value"


def test_contract_installed_is_recorded_in_the_report(tmp_path):
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q", "--contract", "installed",
         "--operations", "DescribeWorkspaceBundles", "--report", str(report)],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, HYPOTHESIS_PROFILE="ci"), timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    contract = json.loads(report.read_text())["contract"]
    assert contract["origin"] == "installed" and contract["botocore"] == botocore.__version__
    assert "drift" not in contract


# --- the protocol spoken -------------------------------------------------------------------


def test_clients_speak_json_whatever_the_model_lists_first():
    core = speaking("json")
    model = core.get_service_model("workspaces")
    assert model.metadata["protocol"] == "json"
    assert getattr(model, "resolved_protocol", model.protocol) == "json"
    caller = Caller(Connection("http://127.0.0.1:9"))
    try:
        assert type(caller.client._serializer).__name__ == "JSONSerializer"
    finally:
        caller.close()


def test_a_client_pinned_to_another_protocol_is_refused_by_the_caller(monkeypatch):
    import conformance.client as client

    monkeypatch.setattr(client, "speaking", lambda protocol: speaking("query"))
    with pytest.raises(RuntimeError, match="Expected a WorkSpaces client speaking json"):
        Caller(Connection("http://127.0.0.1:9"))


def test_the_wire_serializer_is_json_whatever_the_model_lists_first():
    assert wire.PROTOCOL == "json"
    body = wire.botocore_body("DescribeWorkspaces", {"Limit": 5})
    assert json.loads(body) == {"Limit": 5}
    assert wire.boto3_sends_exactly("DescribeWorkspaces", {"Limit": 5})
