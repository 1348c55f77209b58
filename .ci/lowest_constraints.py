"""Print a pip constraints file pinning every dependency of pyproject.toml to its declared lower bound.

    python .ci/lowest_constraints.py > lowest.txt
    pip install -c lowest.txt -e '.[test]'

Installing with it proves the low end of every range, as the default install proves the high end.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)")
LOWER_BOUND = re.compile(r">=\s*(?P<version>[0-9][0-9A-Za-z.]*)")


def lower_bounds(pyproject: Path) -> dict[str, str]:
    """Each dependency (core and every extra) -> the version its ``>=`` names."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    bounds: dict[str, str] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        bound = LOWER_BOUND.search(match.group("spec")) if match else None
        if bound is None:
            raise SystemExit(f"Expected a lower bound (>=) on every dependency but got {requirement!r} in {pyproject}")
        name = match.group("name").lower()
        version = bound.group("version")
        if bounds.get(name, version) != version:
            raise SystemExit(f"Expected one lower bound per dependency but {name} has {bounds[name]} and {version}")
        bounds[name] = version
    return bounds


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    for name, version in sorted(lower_bounds(root / "pyproject.toml").items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
