"""pyproject.toml is the source of truth; environment.yml must mirror its pins exactly."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert all("==" in spec for spec in pinned), "every direct dependency is pinned"
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    mirrored = [spec for spec in pip_section if not spec.startswith("-e")]
    assert sorted(mirrored) == sorted(pinned)


def test_dvc_analytics_off():
    assert "analytics = false" in (ROOT / ".dvc" / "config").read_text()
