"""Train/validation/test splits of a PDIP table (paper Sec. 3.1: 50k val, 50k test, rest train).

Sizes are counts or fractions of the PDIPs, and together at most ``max_eval_share`` of them
(:func:`split_sizes`: a small crawl keeps most of its pairs for training, with a warning).
``random`` (the paper's): pairs are permuted with the given Generator; the first ``test_size``
are test, the next ``val_size`` validation, the rest training. ``user``: users (sorted by id) are permuted and taken whole, test first until it
holds at least ``test_size`` pairs, then validation likewise, so no user is in two splits and
the sizes are reached or slightly exceeded.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from i2pa_core.pdip.config import PDIPConfig


def split_sizes(n: int, cfg: PDIPConfig) -> tuple[int, int, str | None]:
    """``(n_val, n_test, note)`` for ``n`` PDIPs: counts as given, fractions of ``n`` rounded,
    both shrunk in proportion (test rounded up) to ``floor(max_eval_share * n)`` when together
    they exceed it; the note says so (None when the sizes were taken as given)."""
    def count(size):
        return round(size * n) if isinstance(size, float) and size < 1 else int(size)

    n_val, n_test = count(cfg.val_size), count(cfg.test_size)
    cap = math.floor(cfg.max_eval_share * n)
    if n_val + n_test <= cap:
        return n_val, n_test, None
    wanted = n_val, n_test
    n_test = math.ceil(cap * n_test / (n_val + n_test))   # test first, as when sizes fit
    n_val = cap - n_test
    return n_val, n_test, (f"{n:,} PDIPs: validation and test sizes {wanted[0]:,} and "
                           f"{wanted[1]:,} exceed max_eval_share = {cfg.max_eval_share:g} of "
                           f"them; used {n_val:,} and {n_test:,} (pairs.rules.val_size and "
                           "test_size take counts or fractions)")


def split_pairs(pairs: pd.DataFrame, cfg: PDIPConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``pairs`` (deterministically sorted) with a ``split`` column."""
    pairs = pairs.sort_values(["a_post_id", "b_post_id"], kind="stable").reset_index(drop=True)
    n_val, n_test, _ = split_sizes(len(pairs), cfg)
    if cfg.split == "user":
        labels = _user_labels(pairs["user_id"].to_numpy(dtype=object), n_val, n_test, rng)
    else:
        labels = _random_labels(len(pairs), n_val, n_test, rng)
    return pairs.assign(split=pd.array(labels, dtype="str"))


def split_warnings(pairs: pd.DataFrame, cfg: PDIPConfig) -> tuple[str, ...]:
    """What a user should hear about a split table: sizes shrunk to fit, and empty splits
    (nothing for no pairs at all: that is the funnel's diagnosis)."""
    if not len(pairs):
        return ()
    notes = [split_sizes(len(pairs), cfg)[2]]
    present = set(pairs["split"]) if len(pairs) else set()
    empty = [s for s in ("train", "val", "test") if s not in present]
    if empty:
        notes.append(f"{len(pairs):,} PDIPs: the {' and '.join(empty)} split"
                     f"{'s are' if len(empty) > 1 else ' is'} empty")
    return tuple(n for n in notes if n)


def _random_labels(n: int, n_val: int, n_test: int, rng: np.random.Generator) -> np.ndarray:
    labels = np.full(n, "train", dtype=object)
    perm = rng.permutation(n)
    labels[perm[:n_test]] = "test"
    labels[perm[n_test:n_test + n_val]] = "val"
    return labels


def _user_labels(users: np.ndarray, val_size: int, test_size: int,
                 rng: np.random.Generator) -> np.ndarray:
    uniq, inverse, counts = np.unique(users.astype(str), return_inverse=True, return_counts=True)
    perm = rng.permutation(len(uniq))
    before = np.cumsum(counts[perm]) - counts[perm]  # pairs of earlier users (none: empty)
    user_label = np.full(len(uniq), "train", dtype=object)
    test = before < test_size
    n_test = int(counts[perm][test].sum())
    val = ~test & (before - n_test < val_size)
    user_label[perm[test]], user_label[perm[val]] = "test", "val"
    return user_label[inverse.reshape(-1)]
