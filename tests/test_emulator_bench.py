"""The emulator benchmark runs both servers in one process and reports its figures."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("moto.server")

from bench import emulator as bench_emulator  # noqa: E402


def test_quick_benchmark_reports_both_servers(capsys):
    assert bench_emulator.main(["--quick"]) == 0
    out = capsys.readouterr().out
    table, _, document = out.partition("\n{")
    result = json.loads("{" + document)
    assert "describe_workspaces()" in table and "moto req/s" in table
    assert result["workspaces"] == 100 and result["quick"] is True
    for figures in [result, *result["scenarios"].values()]:
        assert figures["emulator_rps"] > 0 and figures["moto_rps"] > 0
        assert figures["emulator_vs_moto_ratio"] > 0
    assert set(result) >= {"emulator_rps", "moto_rps", "emulator_vs_moto_ratio"}
