"""One image, one pair: exact, deterministic matching of PDIP candidates (PAPER.md §2).

The paper gives no policy. Two are offered; both act within a (user, tags) group, since no pair
crosses groups, so the union over groups is the global result.

``greedy_gap`` (default): take candidates in the order of the edge key
``(-(S_A - S_B), |t_A - t_B|, post_id_A, post_id_B)`` -- largest P first (P is monotone in the
gap; ordering by the gap also orders pairs whose P rounds to 1.0), then the shorter interval,
then the ids in string order -- and keep a pair when both posts are still free.
Two exact implementations of that one greedy:

* sparse groups (candidates fit a block): *locally dominant rounds*. An edge whose key is the
  smallest among all live edges at both of its endpoints is taken by the greedy (no earlier edge
  touches it), so all such edges are taken at once, their posts' other edges dropped, and the
  rounds repeat; when a round makes little progress the rest is finished by a sequential scan.
* dense groups (more window pairs than a block, e.g. one user with 10^5 posts in 100 days): a
  *lazy max-heap* holds each free post's best edge to a free partner, found by scanning its time
  window (O(window) memory). A popped edge whose partner was taken is recomputed and pushed
  again; since a post's best edge only gets worse as partners disappear, a popped live edge is the
  global minimum of the key and the greedy takes it. Each scan caches the post's TOP_K best
  edges, so a taken partner usually costs a list pop, not a rescan. Memory is O(group size).

``chronological``: posts in (upload time, post id) order; a free post with a free partner takes
its best partner by the same edge key.
"""

from __future__ import annotations

import heapq

import numpy as np

from .pairs_candidates import gap_floor, pdip_probability
from .pairs_config import PDIPConfig
from .pairs_prepare import PreparedPosts

SEQUENTIAL_BELOW = 4096   # live edges: finish with a plain scan
MIN_PROGRESS = 0.02       # share of live edges taken per round before switching to a scan
TOP_K = 256               # best edges cached per post in dense groups


def edge_order(prep: PreparedPosts, a, b, gap, interval) -> np.ndarray:
    """Permutation sorting edges by the greedy key (see module doc)."""
    return np.lexsort((prep.rank[b], prep.rank[a], interval, -gap))


def match_sparse(prep: PreparedPosts, a, b, gap, interval, policy: str, offset: int = 0
                 ) -> np.ndarray:
    """Indices of the matched edges among candidates whose posts lie in ``[offset, ...)``."""
    order = edge_order(prep, a, b, gap, interval)
    la, lb = a[order] - offset, b[order] - offset
    n_local = int(max(la.max(), lb.max())) + 1 if len(la) else 0
    if policy == "chronological":
        chosen = _chronological_sparse(la, lb, n_local)
    else:
        chosen = _greedy_rounds(la, lb, n_local)
    return order[np.sort(chosen)]


def _greedy_rounds(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Greedy matching of edges already in priority order, by locally dominant rounds."""
    taken = np.zeros(n, dtype=bool)
    live = np.arange(len(a))
    chosen = []
    while len(live):
        if len(live) < SEQUENTIAL_BELOW:
            chosen.append(_greedy_scan(a, b, live, taken))
            break
        best = np.full(n, len(a), dtype=np.int64)
        np.minimum.at(best, a[live], live)
        np.minimum.at(best, b[live], live)
        dominant = live[(best[a[live]] == live) & (best[b[live]] == live)]
        taken[a[dominant]] = taken[b[dominant]] = True
        chosen.append(dominant)
        live = live[~(taken[a[live]] | taken[b[live]])]
        if len(dominant) < MIN_PROGRESS * len(live):
            chosen.append(_greedy_scan(a, b, live, taken))
            break
    return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)


def _greedy_scan(a, b, live, taken) -> np.ndarray:
    out = []
    for e, u, v in zip(live.tolist(), a[live].tolist(), b[live].tolist()):
        if not taken[u] and not taken[v]:
            taken[u] = taken[v] = True
            out.append(e)
    return np.asarray(out, dtype=np.int64)


def _chronological_sparse(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Posts in local (time) order each take their best free partner (edges in key order)."""
    ends = np.concatenate([a, b])
    edge = np.concatenate([np.arange(len(a)), np.arange(len(b))])
    by_post = np.lexsort((edge, ends))          # per post, its edges in key order
    starts = np.searchsorted(ends[by_post], np.arange(n + 1))
    taken = np.zeros(n, dtype=bool)
    out = []
    edges, a_l, b_l = edge[by_post].tolist(), a.tolist(), b.tolist()
    for post in np.unique(ends).tolist():
        if taken[post]:
            continue
        for e in edges[starts[post]:starts[post + 1]]:
            other = b_l[e] if a_l[e] == post else a_l[e]
            if not taken[other]:
                taken[post] = taken[other] = True
                out.append(e)
                break
    return np.asarray(out, dtype=np.int64)


def match_dense(prep: PreparedPosts, start: int, stop: int, cfg: PDIPConfig):
    """Exact matching of one dense group ``[start, stop)``: arrays ``(a, b, gap, interval)``."""
    scan = _WindowScan(prep, start, stop, cfg)
    pairs = scan.lazy_heap() if cfg.matching == "greedy_gap" else scan.chronological()
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    return (a, b, prep.score[a] - prep.score[b], np.abs(prep.time[a] - prep.time[b]))


class _WindowScan:
    """Best free partner of a post by scanning its window (dense groups)."""

    def __init__(self, prep: PreparedPosts, start: int, stop: int, cfg: PDIPConfig):
        self.prep, self.start, self.stop, self.cfg = prep, start, stop, cfg
        self.free = np.ones(len(prep.time), dtype=bool)  # indexed globally, used in-group only
        self.floor = gap_floor(cfg)
        self.cache: dict[int, list] = {}

    def best(self, i: int):
        """Post i's ``TOP_K`` best edges to free partners, in key order (None if none)."""
        p, cfg = self.prep, self.cfg
        lo, hi = int(p.lo[i]), int(p.hi[i])
        js = np.flatnonzero(self.free[lo:hi]) + lo
        js = js[js != i]
        interval = np.abs(p.time[js] - p.time[i])
        gap = np.abs(p.score[js] - p.score[i])
        ok = gap >= self.floor
        if cfg.window_ns is not None:
            ok &= interval <= cfg.window_ns
        js, interval, gap = js[ok], interval[ok], gap[ok]
        if not len(js):
            return None
        a_is_j = p.score[js] > p.score[i]
        a, b = np.where(a_is_j, js, i), np.where(a_is_j, i, js)
        ok = pdip_probability(p.score[a], p.score[b], cfg.sigma) >= cfg.threshold
        if not ok.any():
            return None
        a, b, gap, interval = a[ok], b[ok], gap[ok], interval[ok]
        if len(gap) > TOP_K:  # keep the TOP_K largest gaps (and ties) before the full sort
            near = gap >= np.partition(gap, len(gap) - TOP_K)[len(gap) - TOP_K]
            a, b, gap, interval = a[near], b[near], gap[near], interval[near]
        top = np.lexsort((p.rank[b], p.rank[a], interval, -gap))[:TOP_K]
        return [a[top], b[top], -gap[top], interval[top], 0]  # [..., next position]

    def next_best(self, i: int):
        """Post i's best edge ``(key, a, b)`` to a free partner, from its cached top-K list.

        Partners only ever leave the free set, so the first free entry of a list sorted by the
        edge key is still the best edge whenever the list holds a free entry; else rescan.
        """
        for attempt in range(2):
            cached = self.cache.get(i) if attempt == 0 else self.best(i)
            if cached is None:
                continue
            self.cache[i] = cached
            a, b, neg_gap, interval, pos = cached
            while pos < len(a) and not (self.free[a[pos]] and self.free[b[pos]]):
                pos += 1
            cached[4] = pos
            if pos < len(a):
                key = (float(neg_gap[pos]), int(interval[pos]), int(self.prep.rank[a[pos]]),
                       int(self.prep.rank[b[pos]]))
                return key, int(a[pos]), int(b[pos])
            if len(a) < TOP_K and attempt == 0:
                return None  # the scan saw every valid partner: none is left
        return None

    def lazy_heap(self) -> list[tuple[int, int]]:
        heap = []
        for i in range(self.start, self.stop):
            found = self.next_best(i)
            if found is not None:
                heap.append((found[0], i, found[1], found[2]))
        heapq.heapify(heap)
        out = []
        while heap:
            key, i, a, b = heapq.heappop(heap)
            if not self.free[i]:
                continue
            if self.free[a] and self.free[b]:
                self.free[a] = self.free[b] = False
                self.cache.pop(a, None), self.cache.pop(b, None)
                out.append((a, b))
                continue
            found = self.next_best(i)  # partner taken: i's best edge got worse; re-queue it
            if found is not None:
                heapq.heappush(heap, (found[0], i, found[1], found[2]))
        return out

    def chronological(self) -> list[tuple[int, int]]:
        out = []
        for i in range(self.start, self.stop):
            if self.free[i]:
                found = self.next_best(i)
                if found is not None:
                    _, a, b = found
                    self.free[a] = self.free[b] = False
                    out.append((a, b))
        return out
