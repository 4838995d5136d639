"""pyproject.toml is the one list of dependencies; environment.yml must mirror it exactly."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    return {_normalise(r) for r in reqs}


def _environment_requirements() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {_normalise(r) for r in pip if not r.startswith("-e")}


def _normalise(requirement: str) -> str:
    name, _, rest = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?(.*)", requirement.strip()).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + rest.replace(" ", "")


def test_environment_yml_mirrors_pyproject():
    py, env = _pyproject_requirements(), _environment_requirements()
    assert py - env == set(), f"in pyproject.toml but not in environment.yml: {sorted(py - env)}"
    assert env - py == set(), f"in environment.yml but not in pyproject.toml: {sorted(env - py)}"


def test_every_dependency_is_pinned():
    unpinned = sorted(r for r in _pyproject_requirements() if "==" not in r)
    assert not unpinned, f"pin these to the tested version (reproducible builds): {unpinned}"


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip
