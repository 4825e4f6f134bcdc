"""Each DVC stage depends on every i2pa_core file that it runs, and on nothing it does not run.

A stage runs its command's module (``python -m i2pa_core...``) and its notebook, and through
them every i2pa_core file they import, directly or indirectly. If one of those files is not under
a ``deps`` entry, editing it does not re-run the stage and its committed results go stale
silently. The reverse (a dep that the stage never reaches) re-runs the stage for nothing.
"""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from import_graph import PACKAGE, ROOT, closure, module_file

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def stage_entry_files(stage: dict) -> list[str]:
    """The files a stage's command runs: the ``-m`` module and any ``.py`` argument."""
    words = shlex.split(stage["cmd"])
    files = []
    for i, word in enumerate(words):
        if word == "-m" and i + 1 < len(words):
            found = module_file(words[i + 1])
            assert found is not None, f"{words[i + 1]}: no such module"
            files.append(found)
        elif word.endswith(".py") and (ROOT / word).is_file():
            files.append(word)
    return files


def stage_body(name: str) -> dict:
    """A stage's definition (the ``do`` of a ``foreach``)."""
    return STAGES[name].get("do", STAGES[name])


def package_deps(stage: dict) -> list[str]:
    """The stage's deps inside i2pa_core (templated entries cannot be checked)."""
    return [d for d in stage.get("deps", [])
            if d.startswith(PACKAGE + "/") and "${" not in d]


def covered(path: str, deps: list[str]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_cover_every_file_the_stage_imports(name):
    stage = stage_body(name)
    reached = closure(stage_entry_files(stage))
    missing = sorted(p for p in reached if not covered(p, package_deps(stage)))
    assert not missing, (f"stage {name}: imports {len(missing)} i2pa_core file(s) that its deps "
                         f"do not cover: {', '.join(missing)}")


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_package_dep_is_imported_by_the_stage(name):
    stage = stage_body(name)
    reached = closure(stage_entry_files(stage))
    unused = [dep for dep in package_deps(stage)
              if not any(covered(p, [dep]) for p in reached)]
    assert not unused, f"stage {name}: deps that it never imports: {', '.join(unused)}"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_the_notebook_is_a_dep(name):
    stage = stage_body(name)
    for entry in stage_entry_files(stage):
        if not entry.startswith(PACKAGE + "/"):
            assert entry in stage.get("deps", []), f"stage {name}: {entry} is not in its deps"


def test_the_walk_sees_imports_inside_functions_and_relative_imports(tmp_path, monkeypatch):
    """The walker itself, on a hand-made package: a function-level import and a relative one."""
    import import_graph

    pkg = tmp_path / PACKAGE / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n    return g()\n")
    (pkg / "b.py").write_text("from i2pa_core import top\n")
    (tmp_path / PACKAGE / "top.py").write_text("import os\n")
    (tmp_path / "nb.py").write_text("x = 1\nfrom i2pa_core.sub.a import f\n")
    monkeypatch.setattr(import_graph, "ROOT", tmp_path)
    for cached in (import_graph.imported_names, import_graph.direct_imports):
        cached.cache_clear()
    try:
        assert import_graph.closure(["nb.py"]) == {
            f"{PACKAGE}/__init__.py", f"{PACKAGE}/sub/__init__.py", f"{PACKAGE}/sub/a.py",
            f"{PACKAGE}/sub/b.py", f"{PACKAGE}/top.py"}
    finally:
        for cached in (import_graph.imported_names, import_graph.direct_imports):
            cached.cache_clear()


def test_stage_templates_name_existing_files():
    """Every plain (non-templated) dep path exists, so a rename cannot leave a dead entry."""
    dead = [(name, dep) for name in STAGES for dep in stage_body(name).get("deps", [])
            if "${" not in dep and not dep.startswith(("data/", "models/", "results/"))
            and not (ROOT / dep).exists()]
    assert not dead, f"deps that do not exist: {dead}"
    assert all(re.match(r"^[\w@-]+$", n) for n in STAGES)
