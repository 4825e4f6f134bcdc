"""Frozen ImageNet features: the penultimate, global-pooled output of a pretrained backbone,
computed once per image and cached (the frozen-encoder baseline, issue 13).

For ``efficientnet_lite0`` the features are timm's ``forward_features`` (stem, 16 blocks, the
1x1 head convolution to 1280 channels, batch norm, ReLU6) averaged over space: ``(B, 3, H, W)
-> (B, 1280)``, exactly the input of the ImageNet classifier, which :class:`FeatureEncoder`
drops. Images go through the same path as the scorer's: decoded to RGB
(:func:`i2pa_core.model.inference.decode_uint8`), resized to ``input_size`` px square (bilinear;
the 64 px images of the simulated platform are upsampled), ImageNet mean/std normalised, and
mapped by :class:`~i2pa_core.model.scorer.Scorer`'s fixed renormalisation to the [-1, 1] the
weights were trained on.

:func:`extract_features` keys its cache (:mod:`i2pa_core.io.feature_cache`) by the md5 of each
file's bytes; the file itself records the encoder name, the sha256 of its weights file and the
input size, so that a second run computes only images it has not seen. A file that cannot be
read or decoded is reported by path (``Features.problems``) and gets a row of NaN; it never
stops the run. On the CPU with a fixed thread count the features are deterministic (for one
batch size; across batch sizes they agree to ~1e-5, the order of float sums).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from i2pa_core.io.feature_cache import file_md5, file_sha256, read_cache, write_cache
from i2pa_core.io.images import ImageError
from i2pa_core.model.inference import decode_uint8
from i2pa_core.model.presets import Preset, Transform
from i2pa_core.model.scorer import Scorer, build_scorer, pretrained_state_dict, \
    pretrained_weights_file

DEFAULT_ENCODER = "efficientnet_lite0"


class FeatureEncoder(nn.Module):
    """A pretrained :class:`Scorer` without its last layer: ImageNet mean/std normalised
    ``(B, 3, H, W) -> (B, D)`` penultimate features (D = 1280 for EfficientNet-Lite0)."""

    def __init__(self, scorer: Scorer):
        super().__init__()
        scorer.net.set_submodule(scorer.head_path, nn.Identity())
        self.scorer = scorer.eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.scorer.renormalize:  # ImageNet mean/std -> the weights' own normalisation
            images = images * self.scorer.in_scale + self.scorer.in_shift
        return self.scorer.net(images).flatten(1)  # (B, 3, H, W) -> (B, D)


def load_encoder(backbone: str = DEFAULT_ENCODER) -> FeatureEncoder:
    """The ImageNet-pretrained ``backbone`` as a feature encoder, eval mode (offline only;
    :class:`~i2pa_core.model.scorer.PretrainedWeightsMissing` says what to install)."""
    return FeatureEncoder(build_scorer(backbone, pretrained=True))


def input_transform(input_size: int) -> Transform:
    """Deterministic geometry of the encoder's input: any image -> ``input_size`` px square."""
    if input_size < 32:
        raise ValueError(f"input_size {input_size}: the encoder needs at least 32 px")
    return Transform(Preset(resize=(input_size, input_size), crop=None, flip=False,
                            normalize=True), train=False, generator=None)


def encoder_meta(backbone: str, input_size: int) -> dict:
    """What a cache file's features are: encoder name, weights file sha256, input size."""
    path = pretrained_weights_file(backbone)
    if not path.is_file():
        pretrained_state_dict(backbone)  # raises PretrainedWeightsMissing, naming the file
    stat = path.stat()
    return {"encoder": backbone, "input_size": int(input_size),
            "weights_sha256": _sha256(str(path), stat.st_size, stat.st_mtime_ns)}


@functools.lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)  # size and mtime only key the memo: a replaced file is re-hashed


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run with ``threads`` intra-op threads (None: leave torch's setting), then restore it."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def encode_batch(encoder: nn.Module, images: torch.Tensor, transform: Transform) -> np.ndarray:
    """Features of one uint8 batch: ``(B, 3, H, W) -> (B, D)`` float32, no gradients."""
    with torch.inference_mode():
        x = transform.normalize_batch(images).contiguous(memory_format=torch.channels_last)
        return encoder(x).float().numpy()  # (B, 3, H, W) -> (B, D)


@dataclass
class Features:
    """Features of a list of image files, row i for ``paths[i]`` (NaN rows for problems)."""

    paths: list[str]
    matrix: np.ndarray                 # (N, D) float32
    meta: dict                         # encoder, weights_sha256, input_size
    problems: dict[str, str] = field(default_factory=dict)  # path -> one-line reason
    computed: int = 0                  # images run through the encoder (the rest: cache)
    seconds: float = 0.0               # wall time of the whole call

    @property
    def ok(self) -> np.ndarray:
        """(N,) bool: rows with features."""
        if self.matrix.shape[1] == 0:  # no image had features
            return np.zeros(len(self.paths), bool)
        return ~np.isnan(self.matrix).any(axis=1)


def extract_features(paths, input_size: int = 96, backbone: str = DEFAULT_ENCODER,
                     cache: str | os.PathLike | None = None, batch: int = 64,
                     threads: int | None = None, progress: bool = True,
                     save_every: int = 8192) -> Features:
    """Penultimate features of the pretrained ``backbone`` for image files, batched and cached.

    Args:
        paths: image files; identical bytes share one cache row.
        input_size: side (px) the images are resized to before the encoder.
        cache: ``.npz`` cache file (created if missing); None: compute everything.
        batch: images per forward pass.
        threads: torch intra-op threads during the call (None: torch's setting).
        progress: a tqdm bar over the images to compute.
        save_every: write the cache after about this many new images, so an interrupted run
            keeps most of its work.
    Returns:
        :class:`Features`; unreadable or undecodable files are in ``problems`` (and warned
        about), their rows NaN.
    """
    start = time.perf_counter()
    input_transform(input_size)  # a bad size fails here, even when every image is cached
    if batch < 1 or save_every < 1:
        raise ValueError(f"batch {batch} and save_every {save_every} must be >= 1")
    paths = [os.fspath(p) for p in paths]
    meta = encoder_meta(backbone, input_size)
    problems: dict[str, str] = {}
    digests = _digests(paths, problems)
    rows = read_cache(cache, meta) if cache is not None else {}
    todo: dict[str, str] = {}  # md5 -> the first path with those bytes
    for path, digest in digests.items():
        if digest not in rows:
            todo.setdefault(digest, path)
    failed: dict[str, str] = {}  # md5 -> why it does not decode
    computed = _compute(list(todo.items()), rows, failed, meta, backbone, cache, batch,
                        threads, progress, save_every) if todo else 0
    problems.update({p: failed[d] for p, d in digests.items() if d in failed})
    if problems:
        first = next(iter(problems.items()))
        warnings.warn(f"{len(problems)} of {len(set(paths))} images skipped (no features), "
                      f"e.g. {first[0]}: {first[1]}", stacklevel=2)
    return Features(paths, _assemble(paths, digests, rows), meta, problems, computed,
                    time.perf_counter() - start)


def _digests(paths: list[str], problems: dict[str, str]) -> dict[str, str]:
    """path -> md5 of its bytes, for every path that can be read (the others to problems)."""
    out = {}
    for path in paths:
        if path in out or path in problems:
            continue
        try:
            out[path] = file_md5(path)
        except OSError as exc:
            problems[path] = f"cannot read file ({exc.strerror or exc})"
    return out


def _compute(todo: list[tuple[str, str]], rows: dict, failed: dict, meta: dict,
             backbone: str, cache, batch: int, threads: int | None, progress: bool,
             save_every: int) -> int:
    """Encode the ``(md5, path)`` pairs of ``todo`` into ``rows``; the number encoded."""
    transform = input_transform(meta["input_size"])
    encoder, computed, unsaved = load_encoder(backbone), 0, 0
    bar = tqdm(total=len(todo), desc=f"frozen features {meta['input_size']} px", unit="img",
               disable=not progress)
    with torch_threads(threads), bar:
        for first in range(0, len(todo), batch):
            chunk = todo[first:first + batch]
            decoded = _decode(chunk, transform, failed)
            if decoded:
                feats = encode_batch(encoder, torch.stack([x for _, x in decoded]), transform)
                rows.update(zip([d for d, _ in decoded], feats))
                computed, unsaved = computed + len(decoded), unsaved + len(decoded)
            bar.update(len(chunk))
            if cache is not None and unsaved >= save_every:
                write_cache(cache, meta, rows)
                unsaved = 0
    if cache is not None and unsaved:
        write_cache(cache, meta, rows)
    return computed


def _decode(chunk, transform: Transform, failed: dict) -> list[tuple[str, torch.Tensor]]:
    """The decoded ``(md5, (3, S, S) uint8)`` of a chunk; the others' reasons into ``failed``."""
    out = []
    for digest, path in chunk:
        try:
            out.append((digest, decode_uint8(path, transform)))
        except ImageError as exc:
            failed[digest] = str(exc)
    return out


def _assemble(paths: list[str], digests: dict[str, str], rows: dict) -> np.ndarray:
    dim = len(next(iter(rows.values()))) if rows else 0
    matrix = np.full((len(paths), dim), np.nan, dtype=np.float32)
    for i, path in enumerate(paths):
        row = rows.get(digests.get(path))
        if row is not None:
            matrix[i] = row
    return matrix


def cache_file(folder: str | os.PathLike, backbone: str, input_size: int) -> Path:
    """The conventional cache file of one encoder and input size in ``folder``."""
    return Path(folder) / f"{backbone}_{input_size}px.npz"
