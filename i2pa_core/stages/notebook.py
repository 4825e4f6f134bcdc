"""Execute a stage notebook: ``python -m i2pa_core.stages.notebook notebooks/01_simulate.py
results/simulate``.

The jupytext percent ``.py`` is the reviewed source; it is converted in memory and executed by
papermill with the ``params.yaml`` sections that the stage declares in ``dvc.yaml`` injected as
parameters (``--stage``; :mod:`i2pa_core.stages.declared`). The executed copy, with its outputs, is
written to ``OUT_DIR/<notebook>.ipynb``.

``--set KEY=VALUE`` (repeatable) overrides one parameter for this execution only; VALUE is read
as YAML (``1``, ``0.1``, ``null``, ``[a, b]``, ``{epochs: 1}``). ``section.key.sub=VALUE``
replaces a key that exists in the parameter file; a bare ``name=VALUE`` replaces a whole section
or a variable of the notebook's ``parameters`` cell (a DVC ``foreach`` item passes its name this
way: ``--set run=${key}``). An unknown key is an error naming it, so a typo never runs silently
with the default.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from i2pa_core.config import ConfigError, load_params
from i2pa_core.stages.declared import (check_notebook_sections, declared_keys, declared_params,
                                       guard_code)

# YAML 1.1 (PyYAML) reads 1e-4 as a string; a KEY=VALUE override means the number.
_EXPONENT_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``"train.epochs=2"`` -> ``(["train", "epochs"], 2)``; the value is parsed as YAML."""
    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path):
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE with KEY like section.key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML: "
                          f"{str(exc).splitlines()[0]}") from None
    if isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value):
        value = float(value)
    return path, value


def apply_overrides(params: dict[str, Any], assignments: list[str],
                    notebook_names: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A copy of ``params`` with each ``KEY=VALUE`` assignment applied in order.

    Args:
        params: the parameter file's sections.
        assignments: ``section.key[.sub...]=VALUE`` (the key must exist) or ``name=VALUE``
            (``name`` a section or one of ``notebook_names``).
        notebook_names: variables of the notebook's ``parameters`` cell.
    Raises:
        ConfigError: a malformed assignment or a key that does not exist, named.
    """
    out = copy.deepcopy(params)
    for text in assignments:
        path, value = parse_assignment(text)
        if len(path) == 1:
            if path[0] not in out and path[0] not in notebook_names:
                known = sorted(set(out) | set(notebook_names))
                raise ConfigError(f"--set {path[0]}: no such section or notebook parameter; "
                                  f"known: {', '.join(known)}")
            out[path[0]] = value
            continue
        node = out
        for depth, name in enumerate(path[:-1]):
            node = node.get(name) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise ConfigError(f"--set {'.'.join(path)}: {'.'.join(path[:depth + 1])} "
                                  f"is not a section of the parameter file")
        if path[-1] not in node:
            raise ConfigError(f"--set {'.'.join(path)}: unknown key {path[-1]!r}; "
                              f"allowed: {', '.join(map(str, node))}")
        node[path[-1]] = value
    return out


# Exceptions that mean "fix your params or your input" (exit 2), by the name papermill reports;
# anything else (an UndeclaredParamError is a notebook that disagrees with dvc.yaml) exits 1.
USER_ERRORS = frozenset({"ConfigError", "PostsFormatError", "NoPairsError", "ImageError",
                         "UnsafePathError"})


def notebook_parameters(notebook) -> frozenset[str]:
    """Names assigned at top level in the cell tagged ``parameters`` (empty if none)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            return frozenset(target.id for node in tree.body if isinstance(node, ast.Assign)
                             for target in node.targets if isinstance(target, ast.Name))
    return frozenset()


def run_notebook(source: Path, out_dir: Path, params_path: Path,
                 overrides: list[str] | None = None, stage: str | None = None,
                 dvc_yaml: Path = Path("dvc.yaml")) -> Path:
    """Convert ``source`` with jupytext and execute it with papermill; return the executed path.

    With ``stage`` (as ``dvc.yaml`` runs it), only the params that the stage declares are
    injected (:mod:`i2pa_core.stages.declared`); without, every section (a run by hand).
    """
    import jupytext
    import nbformat
    import papermill

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    params = load_params(params_path)
    names = notebook_parameters(notebook)
    target = out_dir / f"{source.stem}.ipynb"
    if stage is not None:
        from i2pa_core.stages.skip import skip_if_nothing_to_do

        reason = skip_if_nothing_to_do(dvc_yaml, stage, params)
        if reason is not None:
            print(f"stage {stage} skipped: {reason}", file=sys.stderr)
            return target
        injected = declared_params(params, declared_keys(dvc_yaml, stage, params), stage)
        check_notebook_sections(names, params, injected, stage, str(source))
        params = injected
    parameters = apply_overrides(params, overrides or [], names)
    code = guard_code(params) if stage is not None else ""
    if code:
        index = next(i for i, cell in enumerate(notebook.cells)
                     if "parameters" in cell.metadata.get("tags", []))
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(
            code, metadata={"tags": ["declared-params"]}))
    out_dir.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(notebook, str(target), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=".")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i2pa_core.stages.notebook",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="jupytext percent notebook (.py)")
    parser.add_argument("out_dir", type=Path, help="folder for the executed .ipynb")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"),
                        help="parameter file whose sections are injected (default params.yaml)")
    parser.add_argument("--stage", help="the dvc.yaml stage being run (name, or name@item of a "
                        "foreach): only the params it declares are injected")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override one parameter, VALUE as YAML (repeatable), e.g. "
                             "--set train.epochs=1 or --set run=noise_10")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"error: {args.source}: no such notebook", file=sys.stderr)
        return 2
    from papermill.exceptions import PapermillExecutionError

    try:
        run_notebook(args.source, args.out_dir, args.params, args.overrides, args.stage)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PapermillExecutionError as exc:
        # The executed copy keeps the full traceback; the console gets the one line that matters.
        # A user error (bad params or input, no pairs to train on) exits 2, a failure 1.
        user = exc.ename in USER_ERRORS
        print(f"error: {args.source} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
              + ("" if user else f" (full traceback in {args.out_dir / (args.source.stem + '.ipynb')})"),
              file=sys.stderr)
        return 2 if user else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
