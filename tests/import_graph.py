"""The import graph of i2pa_core, read from the source with ``ast`` (nothing is imported).

Shared by the layout tests and the DVC-dependency test. A module is a file path relative to
the repository root (``i2pa_core/pdip/sampler.py``); importing it also runs the ``__init__.py``
of every package above it, so those count as reached too. Imports inside functions count: a
stage that calls the function runs them.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "i2pa_core"


def module_file(dotted: str) -> str | None:
    """``i2pa_core.pdip.sampler`` -> ``i2pa_core/pdip/sampler.py`` (or a package's __init__)."""
    base = ROOT / Path(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(ROOT).as_posix()
    return None


def dotted_name(path: str) -> str:
    """``i2pa_core/pdip/sampler.py`` -> ``i2pa_core.pdip.sampler``."""
    parts = Path(path).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _packages_above(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [f for f in (module_file(".".join(parts[:k])) for k in range(1, len(parts)))
            if f is not None]


@lru_cache(maxsize=None)
def imported_names(path: str) -> tuple[tuple[str, str | None], ...]:
    """``(module, name)`` per import of the file: ``name`` is the imported attribute of a
    ``from M import name`` (None for ``import M``); relative imports resolved."""
    source = (ROOT / path).read_text(encoding="utf-8")
    tree = ast.parse(source, filename=path)
    here = dotted_name(path).split(".")
    if not path.endswith("__init__.py"):
        here = here[:-1]  # the package the file is in
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.extend((module, alias.name) for alias in node.names)
    return tuple(out)


@lru_cache(maxsize=None)
def direct_imports(path: str) -> frozenset[str]:
    """The i2pa_core files that ``path`` imports directly (with their packages' __init__)."""
    reached = set()
    for module, name in imported_names(path):
        if not (module == PACKAGE or module.startswith(PACKAGE + ".")):
            continue
        targets = [module]
        if name is not None and module_file(f"{module}.{name}") is not None:
            targets.append(f"{module}.{name}")  # `from package import submodule`
        for dotted in targets:
            found = module_file(dotted)
            if found is not None:
                reached.add(found)
            reached.update(_packages_above(dotted))
    reached.discard(path)
    return frozenset(reached)


def closure(paths) -> set[str]:
    """Every i2pa_core file reached from ``paths``, directly or indirectly (``paths`` included
    when they are package files)."""
    todo, seen = list(paths), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(direct_imports(path) - seen)
    return {p for p in seen if p.startswith(PACKAGE + "/")}


def package_files() -> list[str]:
    """Every Python file of i2pa_core, as repository-relative paths."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*.py"))
