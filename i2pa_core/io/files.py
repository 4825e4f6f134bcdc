"""File output that never leaves a half-written file behind.

Every writer goes through :func:`atomic_path`: the content is written to a temporary file
in the destination folder and renamed over the target only once it is complete.

:func:`format_p` is the one way a p-value is written as text (tables, captions, figures): two
significant digits in scientific notation, ``< 1e-300`` for an underflow. JSON and CSV keep
the number.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
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


P_FLOOR = 1e-300


def format_p(p) -> str:
    """A p-value as text: two significant digits in scientific notation (``1.0e-05``),
    ``< 1e-300`` for 0 or anything below 1e-300 (an underflow), ``1.0`` for 1 and ``n/a``
    for NaN or None. ValueError outside [0, 1]."""
    if p is None or (isinstance(p, (float, np.floating)) and np.isnan(p)):
        return "n/a"
    p = float(p)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"a p-value lies in [0, 1], got {p!r}")
    if p < P_FLOOR:
        return f"< {P_FLOOR:.0e}"
    text = f"{p:.1e}"
    return "1.0" if text == "1.0e+00" else text


def is_p_column(name) -> bool:
    """Whether a column holds p-values by its name: ``p_value``, ``p-value``, or a name ending
    in ``_p`` / ``_p_value`` (``mcnemar_p``). A bare ``p`` is the PDIP probability of Eq. 6."""
    name = str(name).lower()
    return name in ("p_value", "p-value", "pvalue") or name.endswith(("_p", "_p_value"))


def write_table(stem: str | os.PathLike, frame: pd.DataFrame, caption: str,
                float_format: str = "{:.3f}", p_columns=None) -> list[Path]:
    """Write a small results table as ``stem.csv``, ``stem.md`` and ``stem.tex``.

    Args:
        stem: path without extension, e.g. ``figures/table1_database``.
        frame: the table; its index is not written.
        caption: one sentence placed under the Markdown table and in the LaTeX caption. It must
            say where the data came from (synthetic platform or real data).
        float_format: for the float columns of the Markdown and LaTeX tables.
        p_columns: the p-value columns, written there by :func:`format_p`
            (``1.0e-05``, ``< 1e-300``) instead; by default the float columns that
            :func:`is_p_column` names. The CSV keeps every number as it is.
    """
    stem = Path(stem)
    shown = frame.copy()
    if p_columns is None:
        p_columns = [c for c in shown.columns if is_p_column(c)]
    as_p = [pd.api.types.is_float_dtype(shown[c]) and c in p_columns for c in shown.columns]
    for col, p_col in zip(shown.columns, as_p):
        if pd.api.types.is_float_dtype(shown[col]):
            fmt = format_p if p_col else float_format.format
            shown[col] = shown[col].map(lambda v, fmt=fmt: "" if pd.isna(v) else fmt(v))
    csv_path = stem.with_suffix(".csv")
    write_text(csv_path, frame.to_csv(index=False))
    # tabulate would read "1.0e-05" back as a number and print it as "1e-05" (and 0 as "0"):
    # p columns are kept as written, right-aligned.
    keep = {"disable_numparse": [i for i, p in enumerate(as_p) if p],
            "colalign": ["right" if p else "global" for p in as_p]} if any(as_p) else {}
    md = shown.to_markdown(index=False, **keep) if _has_tabulate() else _markdown(shown)
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
