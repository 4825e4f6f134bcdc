"""Training data: PDIPs as (first, second, label) batches with each distinct image decoded once.

Every PDIP is stored with A = the more popular image. For training, each pair is shown in a
random order per epoch (:func:`epoch_order`): (A, B) with label 1 or (B, A) with label 0, so the
network sees both labels. Label noise (Table 2) flips a fixed, seeded share of the training
labels once (:func:`noise_flips`).

Randomness is derived from the run seed, the epoch and the batch number only, so a batch is the
same whatever the number of DataLoader workers or processes, and a resumed run sees exactly the
batches an uninterrupted one would.

A batch holds the distinct images of its pairs once (``images`` (U, 3, H, W) uint8, normalised
on the device by ``Transform.normalize_batch``) with index vectors
``first``/``second`` (B,) into them: unique ids -> one forward -> gather.

Small datasets can skip decoding after the first epoch: :class:`PairBatches` keeps the decoded
8-bit RGB pixels of up to ``cache_bytes`` bytes of images (first come, first kept, never
evicted, so the cache's content depends only on the batches seen). A cached image goes through
the same transform as a freshly decoded one, so batches are bit-identical with or without it.
Each DataLoader worker has its own cache, lost with the worker unless workers persist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, Sampler

from PIL import Image

from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.images import open_rgb
from i2pa_core.model.presets import Transform


@dataclass(frozen=True)
class PairSet:
    """Pairs of one split as indices into a list of image files."""

    paths: tuple[str, ...]   # distinct image files
    a_index: np.ndarray      # (N,) index into paths of the more popular image
    b_index: np.ndarray      # (N,) the less popular one

    def __len__(self) -> int:
        return len(self.a_index)


def pair_set(pairs: pd.DataFrame, posts: pd.DataFrame, image_root: str | os.PathLike,
             split: str | None = None) -> PairSet:
    """The pairs of ``split`` (all when None) with image paths from ``posts.image``.

    Raises:
        ValueError: a post id of the pairs has no image in ``posts``.
    """
    if split is not None:
        pairs = pairs[pairs["split"] == split]
    image_of = posts.set_index("post_id")["image"]
    ids = paired_post_ids(pairs)
    missing = [i for i in ids if i not in image_of.index or pd.isna(image_of.get(i))]
    if missing:
        raise ValueError(f"{len(missing)} paired post(s) without an image, e.g. {missing[0]!r}")
    position = {post_id: k for k, post_id in enumerate(ids)}
    root = Path(image_root)
    paths = tuple(str(root / image_of[i]) for i in ids)
    a_index = pairs["a_post_id"].map(position).to_numpy(np.int64)
    b_index = pairs["b_post_id"].map(position).to_numpy(np.int64)
    return PairSet(paths, a_index, b_index)


def first_pairs(pairs: PairSet, n: int) -> PairSet:
    """The first ``n`` pairs with only the image files they use (validation scores every file
    of its PairSet, so keeping all of them would score images no pair reads)."""
    a, b = pairs.a_index[:n], pairs.b_index[:n]
    used = np.unique(np.concatenate([a, b]))
    position = np.full(len(pairs.paths), -1, dtype=np.int64)
    position[used] = np.arange(len(used))
    return PairSet(tuple(pairs.paths[k] for k in used), position[a], position[b])


def noise_flips(n: int, share: float, seed: int) -> np.ndarray:
    """(N,) bool: exactly round(share * n) labels flipped, chosen at random (Table 2)."""
    flips = np.zeros(n, dtype=bool)
    count = int(round(share * n))
    rng = np.random.default_rng([seed, 0x4E015E])
    flips[rng.choice(n, size=count, replace=False)] = True
    return flips


def epoch_order(n: int, seed: int, epoch: int, swap: bool,
                budget: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(order, swapped) of one epoch: a permutation of the pairs (cut to ``budget``) and, per
    pair in that order, whether it is shown as (B, A) with label 0."""
    rng = np.random.default_rng([seed, epoch, 0xE90C])
    order = rng.permutation(n)[:budget]
    swapped = rng.random(len(order)) < 0.5 if swap else np.zeros(len(order), dtype=bool)
    return order, swapped


class PairBatchSampler(Sampler):
    """Yields ``(epoch, batch_no, pair indices, swapped)`` for this process's share of each batch.

    A global batch of ``batch_pairs`` pairs is split across ``world`` processes by interleaving
    (rank r takes items r, r + world, ...); together the shares are exactly the single-process
    batch. A last batch smaller than ``world`` is dropped so that every process steps equally.
    """

    def __init__(self, n: int, batch_pairs: int, seed: int, swap: bool = True,
                 budget: int | None = None, rank: int = 0, world: int = 1):
        self.n, self.batch_pairs, self.seed, self.swap = n, batch_pairs, seed, swap
        self.budget, self.rank, self.world, self.epoch = budget, rank, world, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def pairs_per_epoch(self) -> int:
        """Pairs of all processes in one epoch (after the budget and the dropped tail)."""
        total = min(self.n, self.budget or self.n)
        tail = total % self.batch_pairs
        return total - tail if 0 < tail < self.world else total

    def __len__(self) -> int:
        return -(-self.pairs_per_epoch() // self.batch_pairs)

    def __iter__(self):
        order, swapped = epoch_order(self.n, self.seed, self.epoch, self.swap, self.budget)
        order, swapped = order[:self.pairs_per_epoch()], swapped[:self.pairs_per_epoch()]
        for batch_no, start in enumerate(range(0, len(order), self.batch_pairs)):
            part = slice(start + self.rank, start + self.batch_pairs, self.world)
            yield self.epoch, batch_no, order[part], swapped[part]


class PairBatches(Dataset):
    """Decodes one batch of pairs; indexed by the items :class:`PairBatchSampler` yields.

    Args:
        cache_bytes: memory budget of the decoded-image cache (module docstring); 0: off.
    """

    def __init__(self, pairs: PairSet, transform: Transform, seed: int,
                 flips: np.ndarray | None = None, cache_bytes: int = 0):
        self.pairs, self.transform, self.seed = pairs, transform, seed
        self.flips = np.zeros(len(pairs), dtype=bool) if flips is None else flips
        self.cache_bytes, self.cached_bytes, self._cache = int(cache_bytes), 0, {}

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, item) -> dict[str, torch.Tensor]:
        epoch, batch_no, index, swapped = item
        a, b = self.pairs.a_index[index], self.pairs.b_index[index]
        first, second = np.where(swapped, b, a), np.where(swapped, a, b)
        # Label: 1 when `first` is the more popular per the (possibly noise-flipped) PDIP label.
        target = (swapped == self.flips[index]).astype(np.float32)
        unique, inverse = np.unique(np.concatenate([first, second]), return_inverse=True)
        gen = torch.Generator().manual_seed(int(np.random.SeedSequence(
            [self.seed, epoch, batch_no]).generate_state(1)[0]))
        to_uint8 = self.transform.to_uint8
        images = torch.stack([to_uint8(self.image(k), gen)
                              for k in unique.tolist()])  # (U, 3, H, W) uint8; normalised later
        inverse = torch.from_numpy(inverse)
        return {"images": images, "first": inverse[:len(first)], "second": inverse[len(first):],
                "target": torch.from_numpy(target)}

    def image(self, k: int) -> Image.Image:
        """Image ``k`` of ``pairs.paths`` as RGB, from the cache when it holds it."""
        pixels = self._cache.get(k)
        if pixels is not None:
            return Image.fromarray(pixels, "RGB")  # a copy: the cached array is never written
        image = open_rgb(self.pairs.paths[k])
        size = image.width * image.height * 3
        if self.cached_bytes + size <= self.cache_bytes:
            pixels = np.asarray(image)  # (H, W, 3) uint8
            pixels.flags.writeable = False
            self._cache[k] = pixels
            self.cached_bytes += size
        return image
