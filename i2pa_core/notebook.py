"""Execute a stage notebook: ``python -m i2pa_core.notebook notebooks/01_simulate.py results/simulate``.

The jupytext percent ``.py`` is the reviewed source; it is converted in memory and executed by
papermill with every section of ``params.yaml`` injected as parameters (``base``, ``simulate``,
...). The executed copy, with its outputs, is written to ``OUT_DIR/<notebook>.ipynb``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import ConfigError, load_params


def run_notebook(source: Path, out_dir: Path, params_path: Path) -> Path:
    """Convert ``source`` with jupytext and execute it with papermill; return the executed path."""
    import jupytext
    import papermill

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{source.stem}.ipynb"
    papermill.execute_notebook(notebook, str(target), parameters=load_params(params_path),
                               kernel_name="python3", progress_bar=False, cwd=".")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m i2pa_core.notebook", description=__doc__)
    parser.add_argument("source", type=Path, help="jupytext percent notebook (.py)")
    parser.add_argument("out_dir", type=Path, help="folder for the executed .ipynb")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"),
                        help="parameter file whose sections are injected (default params.yaml)")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"error: {args.source}: no such notebook", file=sys.stderr)
        return 2
    from papermill.exceptions import PapermillExecutionError

    try:
        run_notebook(args.source, args.out_dir, args.params)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PapermillExecutionError as exc:
        # The executed copy keeps the full traceback; the console gets the one line that matters.
        print(f"error: {args.source} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
              f"(full traceback in {args.out_dir / (args.source.stem + '.ipynb')})",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
