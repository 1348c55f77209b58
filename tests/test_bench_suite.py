"""Self-tests of the suite benchmark and of ``python -m bench``: the figures they promise, with numbers."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import bench.__main__ as bench_main
from bench import suite
from emulator import Emulator


def test_quick_suite_benchmark_returns_every_documented_figure():
    result = suite.run(quick=True)
    for key in suite.KEYS:
        if key == "xdist_speedup" and not suite._has_xdist():
            assert result[key] is None and any("xdist" in note for note in result["notes"])
            continue
        assert isinstance(result[key], (int, float)) and result[key] > 0, (key, result[key])
    assert result["notes"] == [], result["notes"]  # the suite passed on every run it timed
    rate = result["rate"]
    assert rate["requests_per_round"] > 50
    assert rate["suite_vs_boto3_ratio"] == pytest.approx(rate["ratios"][0])
    assert result["peak_rss_mb"] < 1000
    assert "suite_vs_boto3_ratio" in suite.table(result)


def test_replay_sends_boto3_calls_and_raw_bodies():
    sent = [
        ("call", "DescribeWorkspaces", {"Limit": 5}),
        ("raw", "DescribeTags", b'{"ResourceId": "d-1234567890"}', {"content_type": "application/x-amz-json-1.1"}),
        ("raw", "DescribeTags", b"not json", {}),
    ]
    with Emulator() as emulator:
        seen = []
        original = emulator.backend.handle

        def counting(operation, params):
            seen.append(operation)
            return original(operation, params)

        emulator.backend.handle = counting
        rate = suite.replay(emulator.url, sent)
    assert rate > 0
    # The warm-up repeats the first request; the malformed body never reaches the backend.
    assert seen == ["DescribeWorkspaces", "DescribeWorkspaces", "DescribeTags"]


def _fake_parts(quick):
    return {
        "generation": lambda quick: {"generation_vs_jsonschema_ratio": 5.0},
        "emulator": lambda quick: {"emulator_vs_moto_ratio": 1.5},
        "suite": lambda quick: {"suite_vs_boto3_ratio": 0.9, "suite_wall_s": 61.0, "xdist_speedup": None,
                                "peak_rss_mb": 80.0, "notes": ["pytest-xdist is not installed"]},
    }


def test_main_writes_every_headline_figure_and_judges_it_against_its_target(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench_main, "_parts", lambda: _fake_parts(False))
    output = tmp_path / "results.json"
    assert bench_main.main(["--quick", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert set(bench_main.HEADLINE) <= set(result)
    assert result["met"] == {
        "suite_vs_boto3_ratio": True, "generation_vs_jsonschema_ratio": True, "emulator_vs_moto_ratio": False,
        "suite_wall_s": False, "xdist_speedup": None, "peak_rss_mb": True,
    }
    out = capsys.readouterr().out
    assert "emulator_vs_moto_ratio" in out and "NO" in out and "pytest-xdist is not installed" in out


def test_unknown_part_is_named(monkeypatch):
    monkeypatch.setattr(bench_main, "_parts", lambda: _fake_parts(False))
    with pytest.raises(ValueError, match="parts=\\['suit'\\]"):
        bench_main.run(parts=["suit"])


def test_package_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=suite.ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "--quick" in done.stdout and "results.json" in done.stdout
