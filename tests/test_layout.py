"""The package's shape: layers that import downward only, no cycles, no private names across
modules, the pipeline never importing the CLI, and small modules.

Layers, bottom to top (a module may import its own layer's top-level modules, its own
subpackage, and anything below):

0. ``config``, ``paths``, ``paper``, ``metrics``: typed config, pipeline paths, the paper's
   numbers, statistics
1. ``io``: files, posts table, pair lists, images, checkpoints
2. ``plots``, ``model``: figure style and paper figures; the scorer, presets, losses, Grad-CAM
3. ``simulate``, ``pdip``, ``train``: the platform, the PDIP sampler, training
4. ``evaluate``, ``human``, ``beyond``: what uses a trained model or the sampler's output
5. ``stages``, ``cli``: DVC glue and the command line
"""

from __future__ import annotations

import ast

import pytest

from import_graph import PACKAGE, ROOT, direct_imports, imported_names, package_files

LAYERS = {"config": 0, "paths": 0, "paper": 0, "metrics": 0, "__init__": 0,
          "io": 1, "plots": 2, "model": 2, "simulate": 3, "pdip": 3, "train": 3,
          "evaluate": 4, "human": 4, "beyond": 4, "stages": 5, "cli": 5}
MAX_LINES = 300


def part(path: str) -> str:
    """``i2pa_core/pdip/sampler.py`` -> ``pdip``; ``i2pa_core/paper.py`` -> ``paper``."""
    rest = path[len(PACKAGE) + 1:]
    return rest.split("/")[0].removesuffix(".py")


def test_every_part_has_a_layer_and_a_docstring():
    parts = {part(p) for p in package_files()}
    assert parts <= set(LAYERS), f"parts without a layer: {sorted(parts - set(LAYERS))}"
    for sub in (ROOT / PACKAGE).iterdir():
        if sub.is_dir() and (sub / "__init__.py").is_file():
            doc = ast.get_docstring(ast.parse((sub / "__init__.py").read_text()))
            assert doc, f"{sub.name}/__init__.py has no docstring saying what part it is"


@pytest.mark.parametrize("path", package_files())
def test_imports_go_downward(path):
    mine = part(path)
    for target in direct_imports(path):
        theirs = part(target)
        if theirs in (mine, "__init__") or target.endswith(f"{mine}/__init__.py"):
            continue
        assert LAYERS[theirs] < LAYERS[mine] or (LAYERS[theirs] == LAYERS[mine] == 0), (
            f"{path} (layer {LAYERS[mine]}, {mine}) imports {target} "
            f"(layer {LAYERS[theirs]}, {theirs})")


def test_the_pipeline_never_imports_the_cli():
    offenders = [(p, t) for p in package_files() if part(p) != "cli"
                 for t in direct_imports(p) if part(t) == "cli"]
    assert not offenders, offenders


def test_no_private_name_is_imported_across_modules():
    offenders = [(p, m, n) for p in package_files() + _notebooks_and_tests()
                 for m, n in imported_names(p)
                 if m.startswith(PACKAGE) and n is not None and n.startswith("_")]
    assert not offenders, offenders


def _notebooks_and_tests() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for folder in ("notebooks", "benchmarks")
                  for p in (ROOT / folder).glob("*.py"))


def test_no_import_cycle():
    graph = {p: direct_imports(p) - {p} for p in package_files()}
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def test_the_cycle_check_finds_a_cycle(monkeypatch):
    """The check above, on a hand-made graph with a cycle."""
    import test_layout

    fake = {"i2pa_core/a.py": frozenset({"i2pa_core/b.py"}),
            "i2pa_core/b.py": frozenset({"i2pa_core/a.py"})}
    monkeypatch.setattr(test_layout, "package_files", lambda: sorted(fake))
    monkeypatch.setattr(test_layout, "direct_imports", lambda p: fake[p])
    with pytest.raises(AssertionError, match="import cycle"):
        test_layout.test_no_import_cycle()


@pytest.mark.parametrize("path", package_files())
def test_modules_are_small(path):
    n = len((ROOT / path).read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path}: {n} lines (at most {MAX_LINES})"
