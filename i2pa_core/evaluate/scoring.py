"""Batched scoring of image files: scores, 0-100 scores, folder rankings, pairwise evaluation.

The model is f of the paper (``models.Scorer``, ``(B, 3, H, W) -> (B,)``); at test time one stream
scores one image (Sec. 3.2). Files are decoded by :func:`i2pa_core.io.images.open_rgb` (every bad
file becomes a row with an ``error``), preprocessed and scored ``batch`` at a time by the one
scoring path of :mod:`i2pa_core.model.inference` (deterministic preset geometry, then
``normalize_batch`` and the forward pass). Everything is a stream: :func:`iter_scores` holds one
batch at a time, so memory does not grow with the number of files; :func:`score_paths` collects the
rows into a frame for notebooks.

**The 0-100 score** (the paper's Fig. 1 shows one without saying how it is made) is the score's
percentile among reference scores, made by :class:`i2pa_core.evaluate.score_scale.ScoreReference`
(re-exported here): the empirical percentile among the validation images' scores stored in the
checkpoint, or, for a checkpoint without them, the percentile under a Gaussian fit (by default
the paper's Fig. 5 fit, :data:`PAPER_REFERENCE`).
"""

from __future__ import annotations

import heapq
import os
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

import numpy as np
import pandas as pd
import torch

from i2pa_core.io.images import DEFAULT_MAX_PIXELS, ImageError, UnsafePathError, contained_path
from i2pa_core.io.images import image_for_id, iter_image_files
from i2pa_core.metrics import pairwise_accuracy
from i2pa_core.model.inference import decode_uint8, forward_scores
from i2pa_core.model.presets import Transform, make_transform
from i2pa_core.evaluate.score_scale import PAPER_REFERENCE, ScoreReference  # noqa: F401

SCORE_COLUMNS = ["path", "score", "score_100", "error"]


class ScoredImage(NamedTuple):
    """One output row: ``error`` is "" for a scored file, else the reason (scores are nan)."""

    path: str
    score: float
    score_100: float
    error: str


def as_transform(preset: str | Transform) -> Transform:
    """A preset name becomes its deterministic (evaluation) transform; a Transform is kept."""
    return preset if isinstance(preset, Transform) else make_transform(preset, train=False)


def iter_scores(items: Iterable[tuple[os.PathLike | str, str | None]], model: torch.nn.Module,
                preset: str | Transform, batch: int = 32,
                reference: ScoreReference = PAPER_REFERENCE,
                max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu") -> Iterator[ScoredImage]:
    """Score ``(path, skip_reason)`` items (as :func:`i2pa_core.io.images.iter_image_files` yields
    them).

    Yields exactly one :class:`ScoredImage` per item, in input order; an item with a reason,
    or whose file cannot be decoded, yields a row with that error. Puts ``model`` in eval mode.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    transform = as_transform(preset)
    model.eval().to(device)
    items = iter(items)
    while chunk := list(islice(items, batch)):
        yield from _score_chunk(chunk, model, transform, reference, max_pixels, device)


def _score_chunk(chunk, model, transform, reference, max_pixels, device):
    tensors, errors = {}, {}
    for i, (path, reason) in enumerate(chunk):
        if reason is None:
            try:
                tensors[i] = decode_uint8(path, transform, max_pixels)  # (3, H, W) uint8
            except ImageError as exc:
                reason = str(exc)
            except Exception as exc:  # a preset that cannot handle this image (e.g. too small)
                reason = f"preprocessing failed ({type(exc).__name__}: {exc})"
        if reason is not None:
            errors[i] = reason
    scores = _forward_by_shape(model, tensors, transform, device, errors)
    for i, (path, _) in enumerate(chunk):
        if i in errors:
            yield ScoredImage(str(path), float("nan"), float("nan"), errors[i])
        else:
            yield ScoredImage(str(path), scores[i], float(reference.to_100(scores[i])), "")


def _forward_by_shape(model, tensors: dict, transform: Transform, device: str,
                      errors: dict) -> dict:
    """Score uint8 tensors, stacking those of equal shape (presets without a fixed size).

    A shape the network cannot take (an image smaller than its pooling stack, say) is an error
    of those images, recorded in ``errors``; it never ends the run.
    """
    groups: dict[tuple, list[int]] = {}
    for i, tensor in tensors.items():
        groups.setdefault(tuple(tensor.shape), []).append(i)
    scores = {}
    for shape, indices in groups.items():
        stacked = torch.stack([tensors[i] for i in indices])  # (B, 3, H, W) uint8
        try:
            out = forward_scores(model, stacked, transform, torch.device(device)).tolist()
        except RuntimeError as exc:
            why = str(exc).splitlines()[0]
            errors.update({i: f"the model cannot score a {shape[2]}x{shape[1]} px input "
                              f"({why})" for i in indices})
            continue
        scores.update(zip(indices, out))
    return scores


def score_paths(paths: Iterable[str | os.PathLike], model: torch.nn.Module,
                preset: str | Transform, batch: int = 32, reference: ScoreReference =
                PAPER_REFERENCE,
                max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu") -> pd.DataFrame:
    """Score files and folders (recursively); one row per file, skipped ones with ``error``.

    Returns:
        DataFrame with columns ``path, score, score_100, error`` (``error`` "" when scored).
    """
    rows = iter_scores(iter_image_files(paths), model, preset, batch, reference, max_pixels,
                       device)
    return pd.DataFrame(list(rows), columns=SCORE_COLUMNS)


class Ranking(NamedTuple):
    """Output of :func:`rank_folder`."""

    top: pd.DataFrame        # rank, path, score, score_100; best first
    skipped: pd.DataFrame    # path, error
    n_scored: int


def top_k(rows: Iterable[ScoredImage], k: int, on_skip: Callable | None = None) -> Ranking:
    """Keep the ``k`` best-scored rows of a stream (ties: the earlier row first); flat memory."""
    heap, skipped, n_scored = [], [], 0
    for order, row in enumerate(rows):
        if row.error:
            skipped.append((row.path, row.error))
            if on_skip is not None:
                on_skip(row)
            continue
        n_scored += 1
        entry = (row.score, -order, row)
        if len(heap) < k:
            heapq.heappush(heap, entry)
        elif entry > heap[0]:
            heapq.heapreplace(heap, entry)
    best = [entry[2] for entry in sorted(heap, reverse=True)]
    top = pd.DataFrame({"rank": np.arange(1, len(best) + 1),
                        "path": [r.path for r in best], "score": [r.score for r in best],
                        "score_100": [r.score_100 for r in best]})
    return Ranking(top, pd.DataFrame(skipped, columns=["path", "error"]), n_scored)


def rank_folder(folder: str | os.PathLike, model: torch.nn.Module, preset: str | Transform,
                top: int = 10, batch: int = 32, reference: ScoreReference = PAPER_REFERENCE,
                max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu") -> Ranking:
    """A folder's ``top`` best photos first (recursively), and every file that was skipped."""
    rows = iter_scores(iter_image_files([folder]), model, preset, batch, reference, max_pixels,
                       device)
    return top_k(rows, top)


def locate_images(post_ids: Iterable[str], image_dir: str | os.PathLike, ext: str = ".jpg",
                  image_paths: Mapping[str, str] | None = None
                  ) -> Iterator[tuple[str, Path | str, str | None, str | None]]:
    """``(post_id, path, kind, reason)`` per id; kind is None, ``"missing"`` or ``"unsafe"``.

    The file is ``image_dir/<id><ext>``, or ``image_paths[id]`` (a path relative to
    ``image_dir``, e.g. the posts table's ``image`` column). Paths never leave ``image_dir``.
    """
    for post_id in post_ids:
        try:
            if image_paths is not None and not image_paths.get(post_id):
                yield post_id, post_id, "missing", "missing: no image path for this post id"
                continue
            path = (contained_path(image_dir, image_paths[post_id]) if image_paths is not None
                    else image_for_id(image_dir, post_id, ext))
        except UnsafePathError as exc:
            yield post_id, post_id, "unsafe", str(exc)
            continue
        if path.is_file():
            yield post_id, path, None, None
        else:
            yield post_id, path, "missing", "missing: no such file"


def evaluate_pairs(pairs: pd.DataFrame, image_dir: str | os.PathLike, model: torch.nn.Module,
                   preset: str | Transform, ext: str = ".jpg",
                   image_paths: Mapping[str, str] | None = None, batch: int = 32,
                   max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu",
                   confidence: float = 0.95, rng: np.random.Generator | int | None = 0,
                   on_skip: Callable | None = None) -> dict:
    """Pairwise accuracy of ``model`` on a pairs table (``a_post_id`` = the more popular).

    Each distinct image is scored once; a pair counts when both of its images were scored.
    ``on_skip(post_id, path, reason)`` is called for every image that could not be scored.

    Returns:
        ``accuracy, n, ci_low, ci_high, confidence`` (:func:`i2pa_core.metrics.pairwise_accuracy`),
        and ``n_pairs`` (all), ``pairs_skipped``, ``images`` (distinct ids), ``scored``,
        ``missing``,
        ``unsafe``, ``unreadable`` (image counts) and ``problems`` (DataFrame post_id, path,
        kind, reason).
    """
    a_ids, b_ids = pairs["a_post_id"].astype(str), pairs["b_post_id"].astype(str)
    ids = pd.unique(pd.concat([a_ids, b_ids], ignore_index=True))
    located = list(locate_images(ids, image_dir, ext, image_paths))
    rows = iter_scores(((path, reason) for _, path, _, reason in located), model, preset,
                       batch, PAPER_REFERENCE, max_pixels, device)
    scores, problems = {}, []
    for (post_id, path, kind, _), row in zip(located, rows):
        if not row.error:
            scores[post_id] = row.score
            continue
        problems.append((post_id, str(path), kind or "unreadable", row.error))
        if on_skip is not None:
            on_skip(post_id, str(path), row.error)
    score_a, score_b = a_ids.map(scores), b_ids.map(scores)
    both = (score_a.notna() & score_b.notna()).to_numpy()
    result = pairwise_accuracy(score_a.to_numpy()[both], score_b.to_numpy()[both], confidence,
                               rng=rng)
    table = pd.DataFrame(problems, columns=["post_id", "path", "kind", "reason"])
    counts = table["kind"].value_counts()
    return {**result, "n_pairs": len(pairs), "pairs_skipped": int((~both).sum()),
            "images": len(ids), "scored": len(scores),
            **{kind: int(counts.get(kind, 0)) for kind in ("missing", "unsafe", "unreadable")},
            "problems": table}
