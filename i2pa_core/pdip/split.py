"""Train/validation/test splits of a PDIP table (paper Sec. 3.1: 50k val, 50k test, rest train).

``random`` (the paper's): pairs are permuted with the given Generator; the first ``test_size``
are test, the next ``val_size`` validation, the rest training (sizes are clipped to what
exists). ``user``: users (sorted by id) are permuted and taken whole, test first until it
holds at least ``test_size`` pairs, then validation likewise, so no user is in two splits and
the sizes are reached or slightly exceeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.pdip.config import PDIPConfig


def split_pairs(pairs: pd.DataFrame, cfg: PDIPConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Return ``pairs`` (deterministically sorted) with a ``split`` column."""
    pairs = pairs.sort_values(["a_post_id", "b_post_id"], kind="stable").reset_index(drop=True)
    if cfg.split == "user":
        labels = _user_labels(pairs["user_id"].to_numpy(dtype=object), cfg, rng)
    else:
        labels = _random_labels(len(pairs), cfg, rng)
    return pairs.assign(split=pd.array(labels, dtype="str"))


def _random_labels(n: int, cfg: PDIPConfig, rng: np.random.Generator) -> np.ndarray:
    labels = np.full(n, "train", dtype=object)
    perm = rng.permutation(n)
    n_test = min(cfg.test_size, n)
    n_val = min(cfg.val_size, n - n_test)
    labels[perm[:n_test]] = "test"
    labels[perm[n_test:n_test + n_val]] = "val"
    return labels


def _user_labels(users: np.ndarray, cfg: PDIPConfig, rng: np.random.Generator) -> np.ndarray:
    uniq, inverse, counts = np.unique(users.astype(str), return_inverse=True, return_counts=True)
    perm = rng.permutation(len(uniq))
    before = np.cumsum(counts[perm]) - counts[perm]  # pairs of earlier users (none: empty)
    user_label = np.full(len(uniq), "train", dtype=object)
    test = before < cfg.test_size
    n_test = int(counts[perm][test].sum())
    val = ~test & (before - n_test < cfg.val_size)
    user_label[perm[test]], user_label[perm[val]] = "test", "val"
    return user_label[inverse.reshape(-1)]
