"""Post-level PDIP rules and the grouped, time-sorted post arrays the pair stages work on.

Post-level rules, applied in this order and counted in the funnel (paper Sec. 3.1):

* ``media_type``: ``media_type == "image"`` (carousels and videos removed);
* ``min_likes``: ``likes >= min_likes`` (49 out, 50 in);
* ``min_age``: ``download_time - upload_time > min_age_days`` ("more than one month", strict:
  exactly 30 days is out), compared in integer nanoseconds;
* ``max_words``: descriptive words ``<= max_words`` (6 in, 7 out), words as in ``captions``.

Survivors are grouped by (user, hashtag multiset, mention multiset) -- or less, when a rule is
switched off -- and sorted by (group, upload time, post id), so every pair lies inside a group
and the window rule bounds a contiguous range of partners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from i2pa_core.pdip.caption_features import caption_features
from i2pa_core.pdip.config import PDIPConfig

NS_PER_S = 10**9


@dataclass(frozen=True)
class PreparedPosts:
    """Eligible posts in (group, time, id) order; ``post_funnel`` rows are (rule, removed, left)."""

    post_id: np.ndarray       # object array of str
    user_id: np.ndarray       # object array of str
    rank: np.ndarray          # int64, rank of post_id in string order (tie-breaks)
    time: np.ndarray          # int64 upload time, ns since epoch
    score: np.ndarray         # float64, S = log(likes)
    group_start: np.ndarray   # int64 offsets, len = n_groups + 1
    user_start: np.ndarray    # int64 offsets of same-user runs (only when same_user is on)
    lo: np.ndarray            # first post index of each post's window (inclusive)
    hi: np.ndarray            # last post index + 1 of each post's window
    post_funnel: tuple

    def __len__(self) -> int:
        return len(self.post_id)


def log_score(likes: np.ndarray, score: str) -> np.ndarray:
    """S = ln(likes) or log10(likes), via ``math`` on each distinct count (exact, reproducible)."""
    fn = math.log if score == "ln" else math.log10
    uniq, inverse = np.unique(np.asarray(likes, dtype=np.int64), return_inverse=True)
    return np.array([fn(int(v)) for v in uniq], dtype=np.float64)[inverse].reshape(-1)


def prepare_posts(posts: pd.DataFrame, cfg: PDIPConfig) -> PreparedPosts:
    """Apply the post-level rules to a validated posts table and group/sort the survivors."""
    keep, funnel = _post_filters(posts, cfg)
    kept = posts.loc[keep]
    n_words, keys = caption_features(pa.array(kept["caption"], type=pa.string()))
    if cfg.max_words is not None:
        ok = n_words <= cfg.max_words
        funnel.append(("max_words", int((~ok).sum()), int(ok.sum())))
        kept, keys = kept.loc[ok], keys.filter(pa.array(ok))
    return _grouped(kept, keys, cfg, tuple(funnel))


def _post_filters(posts: pd.DataFrame, cfg: PDIPConfig):
    keep = np.ones(len(posts), dtype=bool)
    funnel = [("input", 0, len(posts))]
    upload, download = _ns(posts["upload_time"]), _ns(posts["download_time"])
    rules = [("media_type", cfg.single_image, lambda: posts["media_type"].to_numpy() == "image"),
             ("min_likes", True, lambda: posts["likes"].to_numpy() >= cfg.min_likes),
             ("min_age", cfg.min_age_ns is not None, lambda: download - upload > cfg.min_age_ns)]
    for name, active, rule in rules:
        if active:
            new = keep & rule()
            funnel.append((name, int(keep.sum() - new.sum()), int(new.sum())))
            keep = new
    return keep, funnel


def _ns(times: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _grouped(kept: pd.DataFrame, keys: pa.Array, cfg: PDIPConfig, funnel) -> PreparedPosts:
    users, user_code = kept["user_id"].to_numpy(dtype=object), pd.factorize(kept["user_id"])[0]
    key_code = pc.dictionary_encode(keys).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    n_keys = int(key_code.max()) + 1 if len(key_code) else 1
    zeros = np.zeros(len(kept), dtype=np.int64)
    group_key = (user_code.astype(np.int64) if cfg.same_user else zeros) * n_keys \
        + (key_code if cfg.same_tags else zeros)
    if not cfg.same_user:
        user_code = zeros
    post_id = kept["post_id"].to_numpy(dtype=object)
    rank = np.empty(len(post_id), dtype=np.int64)
    rank[pc.sort_indices(pa.array(post_id, type=pa.string())).to_numpy()] = np.arange(len(rank))
    time = _ns(kept["upload_time"])
    order = np.lexsort((rank, time, group_key, user_code))
    group_key, user_code, time = group_key[order], user_code[order], time[order]
    group_start = _run_starts(group_key)
    lo, hi = _window_bounds(time, group_start, cfg.window_ns)
    return PreparedPosts(post_id[order], users[order], rank[order], time,
                         log_score(kept["likes"].to_numpy(), cfg.score)[order], group_start,
                         _run_starts(user_code), lo, hi, funnel)


def _run_starts(sorted_codes: np.ndarray) -> np.ndarray:
    n = len(sorted_codes)
    inner = np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1
    return np.concatenate([[0], inner, [n]]).astype(np.int64) if n else np.zeros(1, np.int64)


def _window_bounds(time: np.ndarray, group_start: np.ndarray, window_ns: int | None):
    """Superset window ``[lo, hi)`` per post (exact check later, on each pair).

    Times are floored to seconds and every gap larger than the window is clipped to window + 1
    s, so a cumulative key stays small (< n * (window + 1) s) and separates groups; a pair within
    the window in ns is within ``ceil(window / 1 s)`` in floored seconds, hence inside the range.
    """
    n = len(time)
    sizes = np.diff(group_start)
    if window_ns is None:
        return np.repeat(group_start[:-1], sizes), np.repeat(group_start[1:], sizes)
    window_s = -(-window_ns // NS_PER_S)
    step = np.diff(time // NS_PER_S, prepend=0) if n else np.zeros(0, np.int64)
    step = np.minimum(step, window_s + 1)
    step[group_start[:-1]] = window_s + 1
    key = np.cumsum(step)
    return (np.searchsorted(key, key - window_s, side="left"),
            np.searchsorted(key, key + window_s, side="right"))
