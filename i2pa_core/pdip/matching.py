"""One image, one pair: exact, deterministic matching of PDIP candidates (paper Sec. 3.1).

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
  *lazy heap* holds each free post's best edge to a free partner. A popped edge whose partner was
  taken is recomputed and pushed again; since a post's best edge only gets worse as partners
  disappear, a popped live edge is the global minimum of the key and the greedy takes it. The
  best partner is the free post of most extreme S in the post's window, found in O(log n) by
  range-minimum trees over the free posts (:class:`_DenseGroup`). Memory is O(group size).

``chronological``: posts in (upload time, post id) order; a free post with a free partner takes
its best partner by the same edge key.
"""

from __future__ import annotations

import heapq

import numpy as np

from i2pa_core.pdip.candidates import gap_floor, pdip_probability
from i2pa_core.pdip.config import PDIPConfig
from i2pa_core.pdip.prepare import PreparedPosts

SEQUENTIAL_BELOW = 4096   # live edges: finish with a plain scan
MIN_PROGRESS = 0.02       # share of live edges taken per round before switching to a scan
SENTINEL = int(np.iinfo(np.int64).max)


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
    group = _DenseGroup(prep, start, stop, cfg)
    pairs = group.greedy() if cfg.matching == "greedy_gap" else group.chronological()
    a = np.array([p[0] for p in pairs], dtype=np.int64) + start
    b = np.array([p[1] for p in pairs], dtype=np.int64) + start
    return (a, b, prep.score[a] - prep.score[b], np.abs(prep.time[a] - prep.time[b]))


def min_candidate_gap(cfg: PDIPConfig) -> float:
    """The smallest float gap g with ``pdip_probability(g, 0) >= T`` (bisection on the bits).

    P depends on the float gap only (Eq. 6 divides ``S_A - S_B``) and is monotone in it, so an
    edge is a candidate exactly when its gap is at least this value.
    """
    lo, hi = 0, int(np.float64(1e3).view(np.int64))   # P(0) = 0.5 < T <= P(1e3) = 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pdip_probability(np.int64(mid).view(np.float64), 0.0, cfg.sigma) >= cfg.threshold:
            hi = mid
        else:
            lo = mid
    return max(float(np.int64(hi).view(np.float64)), gap_floor(cfg))


class _MinTree:
    """Range minimum of int keys with point removal: a bottom-up segment tree on a list."""

    def __init__(self, keys: np.ndarray):
        self.size = size = 1 << max(0, (len(keys) - 1).bit_length())
        level = np.full(size, SENTINEL, dtype=np.int64)
        level[:len(keys)] = keys
        levels = [level]
        while len(level) > 1:
            level = np.minimum(level[0::2], level[1::2])
            levels.append(level)
        self.tree = np.concatenate([[SENTINEL]] + levels[::-1]).tolist()  # root at 1

    def remove(self, pos: int) -> None:
        tree, i = self.tree, pos + self.size
        tree[i] = SENTINEL
        i >>= 1
        while i:
            low = min(tree[2 * i], tree[2 * i + 1])
            if low == tree[i]:
                break
            tree[i] = low
            i >>= 1

    def query(self, lo: int, hi: int) -> int:
        """Minimum key over leaves ``[lo, hi)`` (SENTINEL when empty)."""
        tree, best = self.tree, SENTINEL
        lo += self.size
        hi += self.size
        while lo < hi:
            if lo & 1:
                if tree[lo] < best:
                    best = tree[lo]
                lo += 1
            if hi & 1:
                hi -= 1
                if tree[hi] < best:
                    best = tree[hi]
            lo >>= 1
            hi >>= 1
        return best


class _DenseGroup:
    """Best free partner of a post in O(log n), for one dense group (local indices, time order).

    The best edge of post p pairs it with the free post of most extreme S in its window: the
    largest S (p is B) or the smallest (p is A); among equal S the shorter interval, then the
    smaller rank. Each side of p is a range of positions, and on the right the nearest post is the
    leftmost, so ``code(S) * n + position`` orders the right side by the edge key; on the left the
    nearest is the latest time, then the smallest rank, a fixed order ``left`` of the positions.
    Four range-minimum trees (largest/smallest S x left/right) give the four contenders, compared
    by the full edge key. This needs two different S to never give the same float gap; when the
    values are too close for that guarantee, the window is scanned instead (``scan_best``).
    """

    force_scan = False  # tests: check the trees against the scan

    def __init__(self, prep: PreparedPosts, start: int, stop: int, cfg: PDIPConfig):
        t, s, r = prep.time[start:stop], prep.score[start:stop], prep.rank[start:stop]
        n, w = len(t), cfg.window_ns
        if w is None or w >= t[-1] - t[0]:
            lo, hi = np.zeros(n, np.int64), np.full(n, n, np.int64)
        else:
            lo, hi = np.searchsorted(t, t - w, "left"), np.searchsorted(t, t + w, "right")
        values, code = np.unique(s, return_inverse=True)
        code = code.reshape(-1).astype(np.int64)
        self.by_left = np.lexsort((r, -t))              # latest time first, then smallest rank
        left = np.empty(n, np.int64)
        left[self.by_left] = np.arange(n)
        high, low, pos = (len(values) - 1 - code) * n, code * n, np.arange(n)
        self.trees = [_MinTree(high + pos), _MinTree(high + left), _MinTree(low + pos),
                      _MinTree(low + left)]
        self.n, self.s_np, self.t_np, self.r_np = n, s, t, r
        self.t, self.s, self.r = t.tolist(), s.tolist(), r.tolist()
        self.lo, self.hi, self.by_left = lo.tolist(), hi.tolist(), self.by_left.tolist()
        self.free = bytearray(b"\x01") * n
        self.contenders: list = [None] * n  # per post, the edge found by each tree (0: unknown)
        self.min_gap = min_candidate_gap(cfg)
        spread = 2 * float(np.abs(values).max()) if n else 0.0
        self.exact_gaps = len(values) < 2 or float(np.diff(values).min()) > np.spacing(spread)

    def best(self, p: int):
        """Post p's best edge to a free partner: ``(-gap, interval, rank_a, rank_b, a, b)``.

        Each of the four contenders is kept: a range minimum over a shrinking set stays the
        minimum while it is free, and a side without a candidate stays without, so only the
        trees whose contender was taken are queried again.
        """
        if self.force_scan or not self.exact_gaps:
            return self.scan_best(p)
        kept = self.contenders[p]
        if kept is None:
            kept = self.contenders[p] = [0, 0, 0, 0]
        lo, hi, n, free, found = self.lo[p], self.hi[p], self.n, self.free, None
        for k in range(4):
            edge = kept[k]
            if edge == 0 or (edge is not None and not free[edge[4] + edge[5] - p]):
                q = self.trees[k].query(p + 1, hi) if k % 2 == 0 else self.trees[k].query(lo, p)
                edge = kept[k] = None if q == SENTINEL else \
                    self._edge(p, q % n if k % 2 == 0 else self.by_left[q % n])
            if edge is not None and (found is None or edge < found):
                found = edge
        return found

    def _edge(self, p: int, j: int):
        s, r = self.s, self.r
        if s[j] == s[p]:
            return None
        a, b = (j, p) if s[j] > s[p] else (p, j)
        gap = s[a] - s[b]
        if gap < self.min_gap:
            return None
        return (-gap, abs(self.t[j] - self.t[p]), r[a], r[b], a, b)

    def scan_best(self, p: int):
        """The same edge by scanning p's window (O(window))."""
        lo, hi, s = self.lo[p], self.hi[p], self.s_np
        js = np.flatnonzero(np.frombuffer(self.free, dtype=bool)[lo:hi]) + lo
        js = js[js != p]
        a_is_j = s[js] > s[p]
        a, b = np.where(a_is_j, js, p), np.where(a_is_j, p, js)
        gap = s[a] - s[b]
        ok = (s[js] != s[p]) & (gap >= self.min_gap)
        if not ok.any():
            return None
        a, b, gap = a[ok], b[ok], gap[ok]
        interval = np.abs(self.t_np[a] - self.t_np[b])
        k = np.lexsort((self.r_np[b], self.r_np[a], interval, -gap))[0]
        return (-float(gap[k]), int(interval[k]), int(self.r_np[a[k]]), int(self.r_np[b[k]]),
                int(a[k]), int(b[k]))

    def take(self, a: int, b: int) -> None:
        self.free[a] = self.free[b] = 0
        for tree in self.trees:
            tree.remove(a)
            tree.remove(b)

    def greedy(self) -> list[tuple[int, int]]:
        """Lazy heap of each free post's best edge (see module doc)."""
        heap = [edge + (p,) for p in range(self.n) if (edge := self.best(p)) is not None]
        heapq.heapify(heap)
        free, out = self.free, []
        while heap:
            entry = heapq.heappop(heap)
            a, b, p = entry[4:]
            if not free[p]:
                continue
            if free[a] and free[b]:
                self.take(a, b)
                out.append((a, b))
                continue
            edge = self.best(p)  # partner taken: p's best edge got worse; re-queue it
            if edge is not None:
                heapq.heappush(heap, edge + (p,))
        return out

    def chronological(self) -> list[tuple[int, int]]:
        out = []
        for p in range(self.n):
            if self.free[p] and (edge := self.best(p)) is not None:
                self.take(edge[4], edge[5])
                out.append(edge[4:6])
        return out
