"""Figures 1-3 of the paper: pure functions, data in, Figure out.

- Fig. 1 :func:`post_card`: one post, its absolute popularity (likes, user statistics, dates)
  beside its intrinsic score on a 0-100 gauge; :func:`pick_card_post` chooses a representative
  post (content, a score near the median, an image with visible structure).
- Fig. 2 :func:`sample_pdips`: sample PDIPs, A (more popular) and B side by side with likes and P.
- Fig. 3 :func:`siamese_diagram`: the Siamese training model of Sec. 3.2, drawn with patches.

The figures of the results (Fig. 4-7 and the per-category scores) are in
:mod:`i2pa_core.plots.results`. Nothing here saves files: use
:func:`i2pa_core.plots.style.save_figure` with a caption that says where the data came from.
"""

from __future__ import annotations

import textwrap
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from i2pa_core.plots.style import PALETTE, plt, use_style
from i2pa_core.metrics import seeded_subset

ImageLoader = Callable[[str], np.ndarray]  # post_id -> RGB array (H, W, 3)


def post_card(post_row: pd.Series, image_array: np.ndarray, score_100: float) -> plt.Figure:
    """Fig. 1: image, caption, user statistics, dates and likes, and the 0-100 score gauge.

    Args:
        post_row: one row of the posts table (user_id, caption, followers, followings,
            user_posts, upload_time, download_time, likes; missing statistics show as "n/a").
        image_array: the post's RGB image.
        score_100: the intrinsic score already rescaled to 0-100 (e.g. ``ScoreReference.to_100``).
    """
    use_style()
    fig = plt.figure(figsize=(7.2, 3.2))
    grid = fig.add_gridspec(2, 2, width_ratios=(1, 1.35), height_ratios=(4, 1), wspace=0.08)
    ax_img = fig.add_subplot(grid[:, 0])
    ax_img.imshow(image_array)
    ax_img.set_axis_off()
    ax_text = fig.add_subplot(grid[0, 1])
    ax_text.set_axis_off()
    ax_text.text(0.0, 1.0, _card_text(post_row), va="top", ha="left", fontsize=8.5,
                 linespacing=1.55, transform=ax_text.transAxes)
    _score_gauge(fig.add_subplot(grid[1, 1]), score_100)
    return fig


def image_structure(image: np.ndarray, blocks: int = 8) -> float:
    """Standard deviation of the luminance (0-1) of the image's ``blocks`` x ``blocks`` block
    means: coarse structure (a subject, a horizon), which pixel noise alone does not give."""
    rgb = np.asarray(image, dtype=np.float64)
    rgb = rgb / 255.0 if np.asarray(image).dtype == np.uint8 else rgb
    lum = rgb[..., :3] @ np.array([0.299, 0.587, 0.114]) if rgb.ndim == 3 else rgb
    h, w = (lum.shape[0] // blocks) * blocks, (lum.shape[1] // blocks) * blocks
    if h == 0 or w == 0:
        return float(lum.std())
    means = lum[:h, :w].reshape(blocks, h // blocks, blocks, w // blocks).mean(axis=(1, 3))
    return float(means.std())


def pick_card_post(scores: pd.Series, image_loader: ImageLoader, rng: np.random.Generator,
                   categories: pd.Series | None = None, min_structure: float = 0.07,
                   band: float = 0.1, max_images: int = 500) -> str:
    """Fig. 1's post: a representative one, not whatever a random draw gives (an empty square).

    Candidates are the posts with a finite score whose ground-truth category (``categories``,
    indexed by post_id, where known) is not ``"empty"``. Those whose score lies within ``band``
    of the median (mid-rank percentile ``(rank - 0.5) / n`` among all finite ``scores`` in
    [0.5 - band, 0.5 + band])
    are tried first in an order drawn from ``rng``, then the rest, nearest the median first;
    the first image whose :func:`image_structure` reaches ``min_structure`` is chosen. If none
    of the first ``max_images`` tried does, the most structured of them is. The default 0.07
    is reached by 1 % of the simulated platform's "empty" test images and by 67-100 % of each
    other category's (3,000 test images), so it also keeps empty squares out of a crawl's card.

    Args:
        scores: score per post_id (e.g. the test posts' scores).
        image_loader: post_id -> RGB array.
    """
    finite = scores[np.isfinite(scores.to_numpy(dtype=np.float64))]
    if finite.empty:
        raise ValueError("no post has a finite score")
    distance = ((finite.rank() - 0.5) / len(finite) - 0.5).abs()  # the median's is 0
    if categories is not None:
        category = categories.reindex(finite.index)
        distance = distance[(category != "empty").to_numpy()]
        if distance.empty:
            raise ValueError('every scored post is of category "empty"')
    central = distance.index[(distance <= band).to_numpy()]
    rest = distance.drop(central).sort_values(kind="stable")
    order = list(central[rng.permutation(len(central))]) + list(rest.index)
    best, best_structure = order[0], -1.0
    for post_id in order[:max_images]:
        value = image_structure(image_loader(post_id))
        if value >= min_structure:
            return str(post_id)
        if value > best_structure:
            best, best_structure = post_id, value
    return str(best)


def _stat(row: pd.Series, key: str) -> str:
    value = row.get(key)
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}"


def _card_text(row: pd.Series) -> str:
    caption = str(row.get("caption") or "")
    shown = (textwrap.fill(caption, 48, max_lines=3, placeholder=" ...") if caption
             else "(no caption)")
    return "\n".join([
        f"@{row.get('user_id', '?')}",
        shown,
        "",
        f"followers {_stat(row, 'followers')}   followings {_stat(row, 'followings')}   "
        f"posts {_stat(row, 'user_posts')}",
        f"uploaded    {pd.Timestamp(row['upload_time']):%Y-%m-%d %H:%M}",
        f"downloaded  {pd.Timestamp(row['download_time']):%Y-%m-%d %H:%M}",
        f"likes {_stat(row, 'likes')}  (absolute popularity)",
    ])


def _score_gauge(ax: plt.Axes, score_100: float) -> None:
    """A 0-100 bar filled up to the score, with the value written beside it."""
    ax.barh([0], [100], color="#e6e6e6", height=0.6)
    ax.barh([0], [float(np.clip(score_100, 0, 100))], color=PALETTE[0], height=0.6)
    ax.set(xlim=(0, 100), yticks=[], xticks=[0, 25, 50, 75, 100])
    ax.set_title(f"intrinsic popularity score {score_100:.0f} / 100", loc="left", fontsize=9)
    ax.grid(False)
    ax.spines["left"].set_visible(False)


def sample_pdips(pairs: pd.DataFrame, posts: pd.DataFrame, image_loader: ImageLoader,
                 rng: np.random.Generator, n: int = 6) -> plt.Figure:
    """Fig. 2: ``n`` PDIPs drawn at random, three per row: A (more popular) left, B right.

    Each image is titled with its likes; P = P(Q_A >= Q_B | S_A, S_B) (Eq. 6) sits under the pair.
    """
    use_style()
    pick = seeded_subset(pairs, min(n, len(pairs)), rng)
    likes = posts.set_index("post_id")["likes"]
    rows = int(np.ceil(len(pick) / 3))
    fig = plt.figure(figsize=(8.4, 1.55 * rows + 0.2))
    # Two image columns per pair and a narrow spacer column between pairs.
    grid = fig.add_gridspec(rows, 8, width_ratios=(1, 1, 0.25, 1, 1, 0.25, 1, 1), wspace=0.05,
                            hspace=0.35)
    for i, pair in enumerate(pick.itertuples(index=False)):
        row, col = divmod(i, 3)
        for j, (post_id, tag) in enumerate(((pair.a_post_id, "A"), (pair.b_post_id, "B"))):
            ax = fig.add_subplot(grid[row, 3 * col + j])
            ax.imshow(image_loader(post_id))
            ax.set_title(f"{tag}: {int(likes[post_id]):,} likes", fontsize=8)
            ax.set_axis_off()
        ax.text(-0.025, -0.06, f"P = {pair.p:.3f}", transform=ax.transAxes, ha="center",
                va="top", fontsize=8)
    return fig


_BOX = dict(boxstyle="round,pad=0.012,rounding_size=0.02", linewidth=1.2)


def _box(ax, xy, size, text, colour, fontsize=9) -> tuple[float, float, float, float]:
    """A rounded box with centred text; returns (x, y, width, height)."""
    (x, y), (w, h) = xy, size
    ax.add_patch(FancyBboxPatch((x, y), w, h, facecolor=colour, edgecolor="#333333", **_BOX))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)
    return x, y, w, h


def _arrow(ax, start, end, style="-|>", **kw) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=11,
                                 color=kw.pop("color", "#333333"), linewidth=1.1, **kw))


def siamese_diagram(backbone: str = "ResNet-50") -> plt.Figure:
    """Fig. 3: A and B through the shared-weight f, O_AB = Q_A - Q_B, sigmoid, P_AB, BCE
    against the label (Eq. 6-9)."""
    use_style()
    fig, ax = plt.subplots(figsize=(8.8, 3.0))
    ax.set(xlim=(-0.01, 1.02), ylim=(-0.02, 1.0))
    ax.set_axis_off()
    light, accent, loss = "#dbe9f4", "#fde3d8", "#e2f2e8"
    for y, tag in ((0.66, "A"), (0.12, "B")):
        _box(ax, (0.01, y), (0.1, 0.22), f"image {tag}", "#f2f2f2")
        _box(ax, (0.17, y), (0.15, 0.22), f"f\n({backbone})", light)
        _box(ax, (0.38, y + 0.05), (0.07, 0.12), f"$Q_{tag}$", "white")
        _arrow(ax, (0.11 + 0.006, y + 0.11), (0.17 - 0.006, y + 0.11))
        _arrow(ax, (0.32 + 0.006, y + 0.11), (0.38 - 0.006, y + 0.11))
    _arrow(ax, (0.245, 0.66 - 0.01), (0.245, 0.34 + 0.01), style="<|-|>", linestyle="--",
           color=PALETTE[1])
    ax.text(0.255, 0.5, "shared\nweights", color=PALETTE[1], va="center", fontsize=8)
    _box(ax, (0.5, 0.39), (0.16, 0.22), "$O_{AB} = Q_A - Q_B$", accent)
    _arrow(ax, (0.45 + 0.006, 0.77), (0.5 - 0.006, 0.56))
    _arrow(ax, (0.45 + 0.006, 0.23), (0.5 - 0.006, 0.44))
    _box(ax, (0.7, 0.42), (0.08, 0.16), r"$\sigma(\cdot)$", accent)
    _arrow(ax, (0.66 + 0.006, 0.5), (0.7 - 0.006, 0.5))
    _box(ax, (0.82, 0.42), (0.06, 0.16), "$P_{AB}$", "white")
    _arrow(ax, (0.78 + 0.006, 0.5), (0.82 - 0.006, 0.5))
    _box(ax, (0.91, 0.40), (0.085, 0.2), "BCE\nloss", loss)
    _arrow(ax, (0.88 + 0.006, 0.5), (0.91 - 0.006, 0.5))
    _box(ax, (0.9, 0.74), (0.105, 0.14), r"label $\bar P_{AB}$", "white", fontsize=8)
    _arrow(ax, (0.952, 0.74 - 0.006), (0.952, 0.6 + 0.006))
    ax.text(0.5, 0.02, "training: Siamese pair of shared-weight streams; testing: one stream "
            "scores one image", ha="center", fontsize=8, style="italic", color="#555555")
    return fig
