"""Benchmark: the emulator's throughput against moto's server, same run, per operation both serve.

Both servers run on 127.0.0.1 with 100 WorkSpaces each; boto3 clients call each
operation in interleaved rounds and each scenario's figure is the median of the
per-round ratios; the headline is describe_workspaces(). Operations that make a
new resource on every call (CreateWorkspaces, CreateWorkspaceImage,
RegisterWorkspaceDirectory and their removals) are left out: repeated thousands
of times they would measure a growing listing, not the operation.
Run ``python -m bench.emulator [--quick]``.
"""
from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import time

import boto3
from botocore.config import Config

__all__ = ["run"]

_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                "aws_session_token": "testing", "region_name": "us-east-1"}
WORKSPACES = 100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, config=Config(retries={"max_attempts": 1}), **_CREDENTIALS)


def _populate(client, directory_id: str, bundle_id: str) -> list[str]:
    ids = []
    for start in range(0, WORKSPACES, 25):
        batch = [{"DirectoryId": directory_id, "UserName": f"bench{start + i:03d}", "BundleId": bundle_id}
                 for i in range(min(25, WORKSPACES - start))]
        result = client.create_workspaces(Workspaces=batch)
        if result.get("FailedRequests"):
            raise RuntimeError(f"Expected every benchmark WorkSpace to be created but got {result['FailedRequests'][:1]}")
        ids += [w["WorkspaceId"] for w in result["PendingRequests"]]
    return ids


def _start_moto():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    ec2, ds = _client("ec2", url), _client("ds", url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")
               ["Subnet"]["SubnetId"] for i, zone in enumerate("ab")]
    directory = ds.create_directory(Name="bench.example.com", Password="Bench-Passw0rd!", Size="Small",
                                    VpcSettings={"VpcId": vpc, "SubnetIds": subnets})["DirectoryId"]
    workspaces = _client("workspaces", url)
    workspaces.register_workspace_directory(DirectoryId=directory, SubnetIds=subnets)
    # moto keeps no bundles: any well-formed bundle id is accepted.
    return server, workspaces, directory, "wsb-0a1b2c3d4"


class Side:
    """One server's client and the resources the scenarios name on it."""

    def __init__(self, client, directory: str, workspace_ids: list[str]):
        self.client, self.directory, self.workspace_ids = client, directory, workspace_ids
        _wait_available(client, workspace_ids[:1])  # an image is made of an AVAILABLE WorkSpace
        self.image = client.create_workspace_image(Name="bench-image", Description="bench",
                                                   WorkspaceId=workspace_ids[0])["ImageId"]


def _wait_available(client, workspace_ids: list[str], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        states = {w["State"] for w in client.describe_workspaces(WorkspaceIds=workspace_ids)["Workspaces"]}
        if states == {"AVAILABLE"}:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Expected the benchmark WorkSpaces to become AVAILABLE within {limit} s "
                               f"but they are {sorted(states)}")
        time.sleep(0.1)


def _scenarios(emu: Side, moto: Side) -> dict:
    """Scenario name -> (call on the emulator, call on moto): the operations both serve, called alike."""
    calls = {
        # What a user types; the emulator answers with its default page of 25, moto with all 100.
        "describe_workspaces()": lambda side: side.client.describe_workspaces(),
        # The same 25 WorkSpaces from both, so the payloads match.
        "describe_workspaces(WorkspaceIds=25)": lambda side: side.client.describe_workspaces(
            WorkspaceIds=side.workspace_ids[:25]),
        "describe_workspace_directories()": lambda side: side.client.describe_workspace_directories(),
        "create_tags(directory)": lambda side: side.client.create_tags(
            ResourceId=side.directory, Tags=[{"Key": "bench", "Value": "1"}]),
        "describe_tags(directory)": lambda side: side.client.describe_tags(ResourceId=side.directory),
        "describe_client_properties()": lambda side: side.client.describe_client_properties(
            ResourceIds=[side.directory]),
        "modify_client_properties()": lambda side: side.client.modify_client_properties(
            ResourceId=side.directory, ClientProperties={"ReconnectEnabled": "ENABLED"}),
        "modify_selfservice_permissions()": lambda side: side.client.modify_selfservice_permissions(
            ResourceId=side.directory, SelfservicePermissions={"RestartWorkspace": "ENABLED"}),
        "modify_workspace_creation_properties()": lambda side: side.client.modify_workspace_creation_properties(
            ResourceId=side.directory, WorkspaceCreationProperties={"EnableInternetAccess": False}),
        "describe_workspace_images()": lambda side: side.client.describe_workspace_images(ImageIds=[side.image]),
        "update_workspace_image_permission()": lambda side: side.client.update_workspace_image_permission(
            ImageId=side.image, AllowCopyImage=True, SharedAccountId="210987654321"),
        "describe_workspace_image_permissions()": lambda side: side.client.describe_workspace_image_permissions(
            ImageId=side.image),
    }
    return {name: (lambda call=call: call(emu), lambda call=call: call(moto)) for name, call in calls.items()}


def _rate(call, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - started)


def run(quick: bool = False) -> dict:
    """Measure both servers; returns the figures (requests per second, ratios, settings)."""
    from emulator import Emulator

    rounds, calls = (3, 60) if quick else (7, 300)
    emulator = Emulator()
    emulator.start()
    moto_server = None
    try:
        moto_server, moto, moto_directory, moto_bundle = _start_moto()
        emu = _client("workspaces", emulator.url)
        directory = emu.describe_workspace_directories()["Directories"][0]["DirectoryId"]
        bundle = emu.describe_workspace_bundles(Owner="AMAZON")["Bundles"][0]["BundleId"]
        emu_ids = _populate(emu, directory, bundle)
        moto_ids = _populate(moto, moto_directory, moto_bundle)
        scenarios = _scenarios(Side(emu, directory, emu_ids), Side(moto, moto_directory, moto_ids))
        results = {}
        for name, (emu_call, moto_call) in scenarios.items():
            emu_call(), moto_call()  # warm the connection pools
            emu_rates, moto_rates = [], []
            for index in range(rounds):
                order = [(emu_call, emu_rates), (moto_call, moto_rates)]
                for call, rates in (order if index % 2 == 0 else order[::-1]):
                    rates.append(_rate(call, calls))
            ratios = [e / m for e, m in zip(emu_rates, moto_rates)]
            results[name] = {"emulator_rps": round(statistics.median(emu_rates), 1),
                             "moto_rps": round(statistics.median(moto_rates), 1),
                             "emulator_vs_moto_ratio": round(statistics.median(ratios), 2)}
    finally:
        emulator.stop()
        if moto_server is not None:
            moto_server.stop()
    headline = results["describe_workspaces()"]
    return {
        "benchmark": "emulator_vs_moto_describe_workspaces",
        "workspaces": WORKSPACES, "rounds": rounds, "calls_per_round": calls, "quick": quick,
        "emulator_rps": headline["emulator_rps"], "moto_rps": headline["moto_rps"],
        "emulator_vs_moto_ratio": headline["emulator_vs_moto_ratio"],
        "scenarios": results,
    }


def _table(result: dict) -> str:
    lines = [f"{'scenario':40} {'emulator req/s':>15} {'moto req/s':>11} {'ratio':>7}"]
    for name, figures in result["scenarios"].items():
        lines.append(f"{name:40} {figures['emulator_rps']:>15.1f} {figures['moto_rps']:>11.1f} "
                     f"{figures['emulator_vs_moto_ratio']:>6.2f}x")
    lines.append(f"({result['workspaces']} WorkSpaces each; median of {result['rounds']} interleaved rounds "
                 f"of {result['calls_per_round']} calls; target ratio >= 2)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (for CI)")
    result = run(quick=parser.parse_args(argv).quick)
    print(_table(result))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
