"""Brute-force PDIP reference, written independently of the sampler (tests and benchmark).

Every ordered pair of posts is checked against each rule of paper Sec. 3.1 literally, captions
are parsed with ``captions.tokenize`` and P uses ``math.erf``. Quadratic: small inputs only.
"""

from __future__ import annotations

import math

from i2pa_core.pdip.captions import tokenize

DAY_NS = 86_400 * 10**9


def _eligible(posts, cfg):
    out = []
    for row in posts.itertuples(index=False):
        up, down = row.upload_time.value, row.download_time.value
        if cfg.single_image and row.media_type != "image":
            continue
        if row.likes < cfg.min_likes:
            continue
        if cfg.min_age_days is not None and not (down - up > round(cfg.min_age_days * DAY_NS)):
            continue
        tokens = tokenize(row.caption)
        if cfg.max_words is not None and len(tokens.words) > cfg.max_words:
            continue
        log = math.log if cfg.score == "ln" else math.log10
        out.append(dict(id=row.post_id, user=row.user_id, t=up, s=log(row.likes),
                        tags=sorted(tokens.hashtags), mentions=sorted(tokens.mentions)))
    return out


def reference_probability(s_a: float, s_b: float, sigma: float) -> float:
    """Eq. 6 with math.erf: Phi(z) = (1 + erf(z / sqrt 2)) / 2."""
    z = (s_a - s_b) / (math.sqrt(2) * sigma)
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2)))


def reference_candidates(posts, cfg) -> list[tuple]:
    """All ordered PDIP candidates: (a_id, b_id, gap, interval_ns, p)."""
    posts_ok = _eligible(posts, cfg)
    out = []
    for A in posts_ok:
        for B in posts_ok:
            if A is B or A["s"] <= B["s"]:
                continue
            if cfg.same_user and A["user"] != B["user"]:
                continue
            if cfg.same_tags and (A["tags"] != B["tags"] or A["mentions"] != B["mentions"]):
                continue
            interval = abs(A["t"] - B["t"])
            if cfg.window_days is not None and interval > round(cfg.window_days * DAY_NS):
                continue
            p = reference_probability(A["s"], B["s"], cfg.sigma)
            if p >= cfg.threshold:
                out.append((A["id"], B["id"], A["s"] - B["s"], interval, p))
    return out


def reference_greedy(candidates: list[tuple]) -> list[tuple]:
    """Greedy by (largest gap, shortest interval, a_id, b_id); each post at most once."""
    used, out = set(), []
    for a, b, gap, interval, p in sorted(candidates, key=lambda c: (-c[2], c[3], c[0], c[1])):
        if a not in used and b not in used:
            used.update((a, b))
            out.append((a, b))
    return sorted(out)


def reference_chronological(candidates: list[tuple], times: dict) -> list[tuple]:
    """Posts in (time, id) order each take their best free partner (same edge key)."""
    edges = sorted(candidates, key=lambda c: (-c[2], c[3], c[0], c[1]))
    used, out = set(), []
    for post in sorted(times, key=lambda q: (times[q], q)):
        if post in used:
            continue
        for a, b, *_ in edges:
            if post in (a, b) and a not in used and b not in used:
                used.update((a, b))
                out.append((a, b))
                break
    return sorted(out)
