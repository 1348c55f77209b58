"""Suite benchmark: the conformance suite's request rate against a plain boto3 loop, its wall time, xdist, memory.

Three measurements, each of ``python -m pytest conformance`` in a subprocess
with the ``ci`` Hypothesis profile:

- **rate**: the request/response tests (valid and invalid requests) of a few
  Describe operations run against an emulator in its own process, with
  :mod:`bench.recorder` keeping every request they send; then a plain boto3
  loop replays exactly those requests (raw ones as signed HTTP posts) to the
  same emulator. ``suite_vs_boto3_ratio`` is the median over rounds of
  (suite requests/s) / (loop requests/s); rounds alternate which goes first.
- **wall**: the whole default suite (embedded emulator), ``-n 0`` and ``-n 2``
  in alternating pairs: ``suite_wall_s`` is the median ``-n 0`` wall time,
  ``xdist_speedup`` the median of the pairs' ratios.
- **memory**: ``peak_rss_mb``, the largest resident set (VmHWM) of a ``-n 0``
  suite process, read from /proc while it runs.

``--quick`` measures one operation and one round of each: a smoke run of the
machinery, not figures to quote.

    python -m bench.suite [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.exceptions
import botocore.httpsession
from botocore import xform_name

__all__ = ["run", "main", "replay", "run_pytest", "EmulatorProcess", "KEYS"]

ROOT = Path(__file__).resolve().parents[1]
# The figures run() always returns (numbers, or None with a note when a part could not run).
KEYS = ("suite_vs_boto3_ratio", "suite_rps", "boto3_rps", "suite_wall_s", "xdist_speedup", "peak_rss_mb")
RATE_TESTS = "test_exchanges"
RATE_OPERATIONS = ("DescribeWorkspaces", "DescribeWorkspaceBundles", "DescribeWorkspaceDirectories", "DescribeTags")
QUICK_OPERATIONS = ("DescribeWorkspaces",)
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
HYPOTHESIS_SEED = "20240408"  # one seed for every suite run, so rounds send the same requests


class EmulatorProcess:
    """``python -m emulator`` in its own process, as a user would run it; a context manager."""

    def __init__(self, *extra: str) -> None:
        self.extra = extra
        self.process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "EmulatorProcess":
        command = [sys.executable, "-m", "emulator", "--port", "0", "--polls-per-state", "1", *self.extra]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.process.kill()
            error = self.process.stderr.read()
            raise RuntimeError(f"Expected python -m emulator to print its URL but got {line!r}: {error[-500:]}")
        self.url = line
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_pytest(args: list[str], *, env: dict | None = None, timeout: float = 900) -> dict:
    """Run ``python -m pytest <args>`` from the repository; wall time, exit code, peak RSS, last lines."""
    command = [sys.executable, "-m", "pytest", *args]
    full_env = dict(os.environ, HYPOTHESIS_PROFILE="ci", **(env or {}))
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=output, stderr=subprocess.STDOUT, text=True)
        deadline = started + timeout
        high_water = 0
        while True:
            high_water = max(high_water, _high_water_kib(process.pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        lines = output.read().strip().splitlines()
    return {
        "command": "python -m pytest " + " ".join(args),
        "wall_s": round(wall, 2),
        "returncode": process.returncode,
        # Where /proc is missing, ru_maxrss (KiB on Linux), which may include the memory of this
        # process at the fork: a child's high-water mark starts from its parent's.
        "peak_rss_mb": round((high_water or usage.ru_maxrss) / 1024, 1),
        "summary": lines[-1] if lines else "",
    }


def _high_water_kib(pid: int) -> int:
    """The peak resident set (VmHWM, KiB) of a running process, 0 when /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


# -- rate ---------------------------------------------------------------------------------------


def _record_suite(url: str, operations, folder: Path) -> dict:
    record_path = folder / "sent.pickle"
    args = ["conformance", "-p", "no:cacheprovider", "-p", "bench.recorder", "-q", "-k", RATE_TESTS,
            "--operations", ",".join(operations), "--endpoint", url, "--hypothesis-seed", HYPOTHESIS_SEED,
            "--report", str(folder / "rate-report.json")]
    outcome = run_pytest(args, env={"BENCH_RECORD": str(record_path)})
    if not record_path.exists():
        raise RuntimeError(f"Expected the suite to record its requests but it did not: {outcome['summary']}")
    with open(record_path, "rb") as handle:
        record = pickle.load(handle)
    record_path.unlink()
    record["outcome"] = outcome
    return record


class _PlainLoop:
    """What a user would write: a boto3 client, and a signed HTTP post for bodies boto3 cannot send."""

    def __init__(self, url: str) -> None:
        self.url = url
        config = botocore.config.Config(parameter_validation=False, retries={"total_max_attempts": 1})
        session = boto3.Session(**CREDENTIALS)
        self.client = session.client("workspaces", endpoint_url=url, config=config)
        self.credentials = session.get_credentials().get_frozen_credentials()
        # urllib3's default: no Nagle delay between a request's headers and its body.
        self.http = botocore.httpsession.URLLib3Session(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])

    def send(self, entry: tuple) -> None:
        if entry[0] == "call":
            _, operation, params = entry
            try:
                getattr(self.client, xform_name(operation))(**params)
            except (botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError):
                pass
            return
        _, operation, body, options = entry
        target = options.get("target") or (f"WorkspacesService.{operation}" if operation else None)
        headers = {"Content-Type": options.get("content_type") or "application/x-amz-json-1.1"}
        if target:
            headers["X-Amz-Target"] = target
        request = botocore.awsrequest.AWSRequest(method="POST", url=self.url + "/", data=body, headers=headers)
        botocore.auth.SigV4Auth(self.credentials, "workspaces", CREDENTIALS["region_name"]).add_auth(request)
        self.http.send(request.prepare())

    def close(self) -> None:
        self.http.close()
        self.client.close()


def replay(url: str, sent: list[tuple]) -> float:
    """Send ``sent`` (as recorded by bench.recorder) with a plain boto3 loop; return requests per second."""
    loop = _PlainLoop(url)
    try:
        loop.send(sent[0])  # warm the connection pool, as the suite's probes warm its own
        started = time.perf_counter()
        for entry in sent:
            loop.send(entry)
        elapsed = time.perf_counter() - started
    finally:
        loop.close()
    return len(sent) / elapsed


def measure_rate(operations, rounds: int, folder: Path) -> dict:
    """Suite against plain boto3 on the same emulator process, ``rounds`` interleaved pairs."""
    suite_rates, loop_rates, notes = [], [], []
    with EmulatorProcess() as emulator:
        previous = None
        for index in range(rounds):
            loop_first = index % 2 == 1 and previous is not None
            if loop_first:
                loop_rate = replay(emulator.url, previous["sent"])
            record = _record_suite(emulator.url, operations, folder)
            if record["outcome"]["returncode"] != 0:
                notes.append(f"round {index}: the suite did not pass: {record['outcome']['summary']}")
            if not loop_first:
                loop_rate = replay(emulator.url, record["sent"])
            suite_rates.append(record["requests"] / record["seconds"])
            loop_rates.append(loop_rate)
            previous = record
    ratios = [s / b for s, b in zip(suite_rates, loop_rates)]
    return {
        "operations": list(operations),
        "tests": RATE_TESTS,
        "rounds": rounds,
        "requests_per_round": previous["requests"],
        "suite_rps": round(statistics.median(suite_rates), 1),
        "boto3_rps": round(statistics.median(loop_rates), 1),
        "suite_vs_boto3_ratio": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "notes": notes,
    }


# -- wall time, xdist, memory ---------------------------------------------------------------------


def _has_xdist() -> bool:
    try:
        import xdist  # noqa: F401
    except ImportError:
        return False
    return True


def measure_wall(operations, rounds: int, folder: Path) -> dict:
    """The default suite with -n 0 and -n 2 in alternating pairs; wall times, speedup, peak RSS."""
    base = ["conformance", "-p", "no:cacheprovider", "-q", "--report", str(folder / "wall-report.json")]
    if operations:
        base += ["--operations", ",".join(operations)]
    xdist = _has_xdist()
    serial, parallel, notes = [], [], []
    for index in range(rounds):
        order = ["0", "2"] if index % 2 == 0 else ["2", "0"]
        for workers in order:
            if workers == "2" and not xdist:
                continue
            args = base + (["-p", "no:xdist"] if workers == "0" and not xdist else ["-n", workers])
            outcome = run_pytest(args)
            if outcome["returncode"] != 0:
                notes.append(f"-n {workers}, round {index}: exit {outcome['returncode']}: {outcome['summary']}")
            (serial if workers == "0" else parallel).append(outcome)
    if not xdist:
        notes.append("pytest-xdist is not installed (pip install pytest-xdist): no -n 2 runs")
    passed = [o for o in serial if o["returncode"] == 0]
    pairs = [(s, p) for s, p in zip(serial, parallel) if s["returncode"] == 0 and p["returncode"] == 0]
    if parallel and not pairs:
        notes.append("no pair of -n 0 and -n 2 runs both passed: xdist_speedup not measured")
    return {
        "command": serial[0]["command"] if serial else None,
        "operations": list(operations) if operations else "all",
        "rounds": rounds,
        "suite_wall_s": round(statistics.median(o["wall_s"] for o in passed), 2) if passed else None,
        "xdist_wall_s": round(statistics.median(p["wall_s"] for _, p in pairs), 2) if pairs else None,
        "xdist_speedup": round(statistics.median(s["wall_s"] / p["wall_s"] for s, p in pairs), 2) if pairs else None,
        "peak_rss_mb": max((o["peak_rss_mb"] for o in serial), default=None),
        "runs": serial + parallel,
        "notes": notes,
    }


def run(quick: bool = False) -> dict:
    """Measure the suite: rate against plain boto3, wall time, xdist speedup and peak memory."""
    rate_operations = QUICK_OPERATIONS if quick else RATE_OPERATIONS
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as folder:
        rate = measure_rate(rate_operations, 1 if quick else 5, Path(folder))
        wall = measure_wall(QUICK_OPERATIONS if quick else None, 1 if quick else 3, Path(folder))
    return {
        "benchmark": "suite",
        "quick": quick,
        "cpus": os.cpu_count(),
        "suite_vs_boto3_ratio": rate["suite_vs_boto3_ratio"],
        "suite_rps": rate["suite_rps"],
        "boto3_rps": rate["boto3_rps"],
        "suite_wall_s": wall["suite_wall_s"],
        "xdist_speedup": wall["xdist_speedup"],
        "peak_rss_mb": wall["peak_rss_mb"],
        "rate": rate,
        "wall": wall,
        "notes": rate["notes"] + wall["notes"],
    }


def table(result: dict) -> str:
    """The figures as a small text table."""
    rate, wall = result["rate"], result["wall"]
    lines = [
        f"{'figure':28} {'value':>10}  detail",
        f"{'suite requests/s':28} {rate['suite_rps']:>10.1f}  {', '.join(rate['operations'])}: {rate['tests']}",
        f"{'plain boto3 requests/s':28} {rate['boto3_rps']:>10.1f}  the same {rate['requests_per_round']} requests",
        f"{'suite_vs_boto3_ratio':28} {rate['suite_vs_boto3_ratio']:>10.3f}  median of {rate['rounds']} rounds",
        f"{'suite_wall_s':28} {_figure(wall['suite_wall_s'])}  -n 0, operations: {wall['operations']}",
        f"{'xdist_speedup':28} {_figure(wall['xdist_speedup'])}  -n 0 / -n 2, median of {wall['rounds']} pairs",
        f"{'peak_rss_mb':28} {_figure(wall['peak_rss_mb'])}  largest -n 0 suite process",
    ]
    lines += [f"note: {note}" for note in result["notes"]]
    return "\n".join(lines)


def _figure(value) -> str:
    return f"{value:>10.2f}" if isinstance(value, (int, float)) else f"{'n/a':>10}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one operation, one round of each measurement")
    result = run(quick=parser.parse_args(argv).quick)
    print(table(result))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
