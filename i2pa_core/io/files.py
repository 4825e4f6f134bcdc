"""File output that never leaves a half-written file behind.

Every writer goes through :func:`atomic_path`: the content is written to a temporary file
in the destination folder and renamed over the target only once it is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file 0600; give it the mode a plain open() would (0666 less umask).
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_json(target: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_metrics(target: str | os.PathLike, metrics: dict) -> Path:
    """A stage's metrics: the full dict in ``details.json`` beside ``target`` when it nests, and
    its top-level numbers and words in ``target`` (``metrics.json``, what ``dvc metrics show``
    tabulates), so that the table stays readable. :func:`read_metrics` reads the full dict."""
    target = Path(target)
    nested = any(isinstance(v, (dict, list, tuple)) for v in metrics.values())
    details = target.with_name("details.json")
    if nested:
        write_json(details, metrics)
    elif details.exists():
        details.unlink()
    return write_json(target, {k: v for k, v in metrics.items()
                               if not isinstance(v, (dict, list, tuple))})


def read_metrics(target: str | os.PathLike) -> dict:
    """The full metrics of :func:`write_metrics` (``details.json`` when there is one)."""
    target = Path(target)
    details = target.with_name("details.json")
    return json.loads((details if details.exists() else target).read_text(encoding="utf-8"))


def _json_default(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def write_parquet(target: str | os.PathLike, frame: pd.DataFrame) -> Path:
    """Write ``frame`` to Parquet atomically, without the pandas index.

    Parquet output is byte-identical for identical frames (no timestamps are embedded).
    """
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    return Path(target)


def write_table(stem: str | os.PathLike, frame: pd.DataFrame, caption: str,
                float_format: str = "{:.3f}") -> list[Path]:
    """Write a small results table as ``stem.csv``, ``stem.md`` and ``stem.tex``.

    Args:
        stem: path without extension, e.g. ``figures/table1_database``.
        frame: the table; its index is not written.
        caption: one sentence placed under the Markdown table and in the LaTeX caption. It must
            say where the data came from (synthetic platform or real data).
    """
    stem = Path(stem)
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else float_format.format(v))
    csv_path = stem.with_suffix(".csv")
    write_text(csv_path, frame.to_csv(index=False))
    md = shown.to_markdown(index=False) if _has_tabulate() else _markdown(shown)
    write_text(stem.with_suffix(".md"), f"{md}\n\n*{caption}*\n")
    tex = shown.to_latex(index=False, caption=caption, label=f"tab:{stem.name}", escape=True)
    write_text(stem.with_suffix(".tex"), tex)
    return [csv_path, stem.with_suffix(".md"), stem.with_suffix(".tex")]


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def _markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
