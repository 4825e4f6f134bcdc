"""One file of cached image features, keyed by image content and by the encoder that made them.

A cache file (``.npz``, read with ``allow_pickle=False``) holds three arrays:

- ``keys``: (N,) the md5 of each image file's bytes (hex), so a renamed or copied image keeps
  its row and a changed file gets a new one;
- ``features``: (N, D) float32, row i belonging to ``keys[i]``;
- ``meta``: a JSON object that says which features these are, e.g. ``{"encoder":
  "efficientnet_lite0", "weights_sha256": ..., "input_size": 96}``.

Features of another encoder, weights file or input size never mix with these: reading a file
whose ``meta`` differs from the requested one is a :class:`CacheMismatch` that names both. A
file that cannot be read (truncated, not an npz, inconsistent arrays) is reported with a
warning naming it and treated as empty; the next write replaces it. Writes are atomic
(:func:`i2pa_core.io.files.atomic_path`), so an interrupted run leaves the previous file whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from i2pa_core.io.files import atomic_path


class CacheMismatch(ValueError):
    """A cache file that holds features of another encoder, weights file or input size."""


class CorruptCacheWarning(UserWarning):
    """A cache file that could not be read; it is ignored and rewritten."""


def file_md5(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file's bytes (OSError when it cannot be read)."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (a weights file's identity)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_cache(path: str | os.PathLike, meta: dict) -> dict[str, np.ndarray]:
    """The cached rows of ``path`` as ``{md5: (D,) float32}``; ``{}`` when there is no file.

    Raises:
        CacheMismatch: the file was written for a different ``meta``.
    Warns:
        CorruptCacheWarning: the file cannot be read; it is treated as empty.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        keys, features, stored = _load(path)
    except Exception as exc:  # zipfile, numpy, json and our own checks all raise differently
        warnings.warn(f"{path}: feature cache cannot be read ({type(exc).__name__}: {exc}); "
                      "ignoring it, it will be rewritten", CorruptCacheWarning, stacklevel=2)
        return {}
    if stored != _plain(meta):
        raise CacheMismatch(f"{path} holds features of {_describe(stored)}, not of "
                            f"{_describe(meta)}; use another cache file for these")
    return dict(zip(keys.tolist(), features))


def _load(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    with np.load(path, allow_pickle=False) as archive:
        keys, features = archive["keys"], archive["features"]
        stored = json.loads(str(archive["meta"]))
    if keys.ndim != 1 or features.ndim != 2 or len(keys) != len(features):
        raise ValueError(f"keys {keys.shape} and features {features.shape} do not match")
    if not isinstance(stored, dict):
        raise ValueError("meta is not a JSON object")
    return keys, features.astype(np.float32, copy=False), stored


def write_cache(path: str | os.PathLike, meta: dict, rows: dict[str, np.ndarray]) -> Path:
    """Write ``rows`` (``{md5: (D,) features}``) with ``meta`` to ``path`` atomically."""
    keys = np.array(list(rows), dtype="<U32")
    features = (np.stack(list(rows.values())).astype(np.float32) if rows
                else np.zeros((0, 0), np.float32))
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, keys=keys, features=features, meta=np.array(json.dumps(_plain(meta))))
    return Path(path)


def _plain(meta: dict) -> dict:
    """``meta`` as JSON reads it back (tuples become lists, keys strings)."""
    return json.loads(json.dumps(meta, sort_keys=True))


def _describe(meta: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))
