"""Figures of the results (paper Fig. 4-7) and the per-category scores.

Pure functions: tables, scores and images in, a matplotlib Figure out (save it with
:func:`i2pa_core.plots.style.save_figure` and a caption naming the data source). The logic helpers
(:func:`fit_gaussian`, :func:`select_levels`) are separate so they can be tested on known
answers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from scipy import stats

from i2pa_core.plots.style import PALETTE, plt, use_style

# Fig. 4 of the paper: pairwise accuracy on its 50,000 test PDIPs, as fractions.
PAPER_FIG4 = {"Random": 0.50, "Virality Detection": 0.5321, "Khosla14": 0.5439,
              "Hessel17": 0.6554, "LikelyAI": 0.6887, "Human (majority)": 0.7240,
              "Ours (paper)": 0.7665}
LEVELS = ("excellent", "good", "fair", "bad", "poor")
SOURCES = ("re-run", "paper")


def comparison_bars(table: pd.DataFrame) -> plt.Figure:
    """Fig. 4: horizontal accuracy bars in the table's order, top to bottom.

    Args:
        table: method, accuracy (fraction), source ("re-run" or "paper"), and optional ci_low /
            ci_high (fractions; drawn as 95 % error bars where present). Paper rows are hatched
            and faded: reported in the paper, not re-run here.
    """
    bad = set(table["source"]) - set(SOURCES)
    if bad:
        raise ValueError(f"unknown source {sorted(bad)}; allowed: {', '.join(SOURCES)}")
    use_style()
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * len(table) + 1.0))
    y = np.arange(len(table))[::-1]
    acc = 100 * table["accuracy"].to_numpy(dtype=float)
    rerun = (table["source"] == "re-run").to_numpy()
    bars = ax.barh(y, acc, color=[PALETTE[0] if r else PALETTE[5] for r in rerun], height=0.65)
    for bar, r in zip(bars, rerun):
        if not r:
            bar.set(hatch="///", alpha=0.45, edgecolor="#333333")
    label_at = acc.copy()
    if {"ci_low", "ci_high"} <= set(table.columns):
        low, high = (100 * table[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high"))
        has = ~(np.isnan(low) | np.isnan(high))
        ax.errorbar(acc[has], y[has], xerr=[acc[has] - low[has], high[has] - acc[has]],
                    fmt="none", ecolor="#222222", capsize=3, linewidth=1)
        label_at[has] = high[has]
    for yi, x, a in zip(y, label_at, acc):
        ax.text(x + 0.6, yi, f"{a:.1f}", va="center", fontsize=8)
    ax.axvline(50, color="#888888", linestyle=":", linewidth=1)
    ax.set(yticks=y, yticklabels=table["method"], xlabel="pairwise accuracy on test PDIPs (%)",
           xlim=(40, max(100.0, float(np.nanmax(acc)) + 6)))
    ax.grid(axis="y", visible=False)
    ax.legend(handles=[Patch(color=PALETTE[0], label="re-run here (95 % bootstrap CI)"),
                       Patch(facecolor=PALETTE[5], alpha=0.45, hatch="///", edgecolor="#333333",
                             label="reported in the paper, not re-run")],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8)
    return fig


def fit_gaussian(scores) -> tuple[float, float]:
    """Maximum-likelihood Gaussian fit: (mean, population sd, ddof = 0) of the finite scores."""
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()), float(values.std())


def score_histogram(scores, bins: int = 40) -> plt.Figure:
    """Fig. 5: density histogram of the scores with the fitted Gaussian, mean and sd shown."""
    use_style()
    mean, sd = fit_gaussian(scores)
    values = np.asarray(scores, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    ax.hist(values[np.isfinite(values)], bins=bins, density=True, color=PALETTE[0], alpha=0.7,
            label=f"scores (n = {np.isfinite(values).sum():,})")
    grid = np.linspace(*ax.get_xlim(), 300)
    ax.plot(grid, stats.norm.pdf(grid, mean, sd), color=PALETTE[1], linewidth=2,
            label=f"Gaussian fit: mean {mean:.2f}, std {sd:.2f}")
    ax.axvline(mean, color=PALETTE[1], linestyle="--", linewidth=1)
    ax.set(xlabel="predicted intrinsic popularity score", ylabel="density")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def select_levels(scores: pd.Series, per_level: int = 4, levels=LEVELS,
                  lower_q: float = 0.01, upper_q: float = 0.99) -> pd.DataFrame:
    """Pick images at evenly spaced score values, best level first (Fig. 6).

    The targets are ``len(levels)`` evenly spaced values from the ``upper_q`` quantile of the
    scores down to the ``lower_q`` quantile (the quantiles keep a few outliers from stretching
    the range); each level takes the ``per_level`` not yet chosen posts nearest its target.

    Returns:
        DataFrame level, target, post_id, score; rows in level order, nearest first.
    """
    finite = scores[np.isfinite(scores.to_numpy(dtype=np.float64))]
    if len(finite) < per_level * len(levels):
        raise ValueError(f"need at least {per_level * len(levels)} scored posts, got {len(finite)}")
    targets = np.linspace(finite.quantile(upper_q), finite.quantile(lower_q), len(levels))
    free = np.ones(len(finite), dtype=bool)
    values = finite.to_numpy(dtype=np.float64)
    rows = []
    for level, target in zip(levels, targets):
        distance = np.where(free, np.abs(values - target), np.inf)
        for i in np.argsort(distance, kind="stable")[:per_level]:
            free[i] = False
            rows.append((level, float(target), finite.index[i], values[i]))
    return pd.DataFrame(rows, columns=["level", "target", "post_id", "score"])


def level_examples(selection: pd.DataFrame,
                   image_loader: Callable[[str], np.ndarray]) -> plt.Figure:
    """Fig. 6: one row per level (from :func:`select_levels`), each image titled with its score."""
    use_style()
    groups = list(selection.groupby("level", sort=False))
    cols = max(len(g) for _, g in groups)
    fig, axes = plt.subplots(len(groups), cols, figsize=(1.45 * cols + 0.9, 1.5 * len(groups)),
                             squeeze=False)
    for r, (level, group) in enumerate(groups):
        for c in range(cols):
            ax = axes[r, c]
            _image_axes(ax)
            if c < len(group):
                row = group.iloc[c]
                ax.imshow(image_loader(row["post_id"]))
                ax.set_title(f"{row['score']:.2f}", fontsize=8)
            else:
                ax.set_axis_off()
        axes[r, 0].set_ylabel(level, fontsize=9, rotation=0, ha="right", va="center")
    return fig


def _image_axes(ax: plt.Axes) -> None:
    """An axes that shows an image: no ticks, grid or spines, but room for a row label."""
    ax.set_xticks([]), ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def gradcam_grid(high_images, high_maps, low_images, low_maps, high_scores=None,
                 low_scores=None, alpha: float = 0.45, high_sign: int = 1, low_sign: int = -1,
                 cmap: str = "jet") -> plt.Figure:
    """Fig. 7: Grad-CAM overlays, high-score images on the top row, low-score on the bottom.

    Images are RGB (H, W, 3), maps (H, W) in [0, 1] (:func:`i2pa_core.model.gradcam.grad_cam`
    with ``sign`` = ``high_sign`` / ``low_sign``: by default +1, what raises the score, for the
    high row and -1, what lowers it, for the low row). Each row's label names the sign it maps;
    one colour bar, shared by every panel, gives the map's scale (each map divided by its
    image's maximum).
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    use_style()
    cols = max(len(high_images), len(low_images))
    fig, axes = plt.subplots(2, cols, figsize=(1.7 * cols + 1.6, 3.9), squeeze=False)
    rows = ((high_images, high_maps, high_scores, "high score", high_sign),
            (low_images, low_maps, low_scores, "low score", low_sign))
    for r, (images, maps, scores, label, sign) in enumerate(rows):
        for c in range(cols):
            ax = axes[r, c]
            _image_axes(ax)
            if c >= len(images):
                ax.set_axis_off()
                continue
            ax.imshow(overlay(images[c], maps[c], alpha, cmap))
            if scores is not None:
                ax.set_title(f"{scores[c]:.2f}", fontsize=8)
        axes[r, 0].set_ylabel(f"{label}\n{sign_label(sign)}", fontsize=8)
    bar = fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), cmap), ax=axes.ravel().tolist(),
                       fraction=0.025, pad=0.02)
    bar.set_label("Grad-CAM / image's maximum", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return fig


def sign_label(sign: int) -> str:
    """The row label of a Grad-CAM sign: what the map of ``sign`` x score shows."""
    if sign == 1:
        return "map of +score (raises it)"
    if sign == -1:
        return "map of \u2212score (lowers it)"
    raise ValueError(f"sign must be +1 or -1, got {sign!r}")


def category_scores(scores: pd.Series, categories: pd.Series) -> plt.Figure:
    """Violins of the score per content category (synthetic platform), highest median on top.

    Args:
        scores, categories: indexed by post_id; posts missing from either are left out.
    """
    use_style()
    frame = pd.DataFrame({"score": scores, "category": categories}).dropna()
    order = frame.groupby("category")["score"].median().sort_values().index.tolist()
    data = [frame.loc[frame["category"] == c, "score"].to_numpy() for c in order]
    fig, ax = plt.subplots(figsize=(5.6, 0.5 * len(order) + 1.2))
    parts = ax.violinplot(data, orientation="horizontal", showextrema=False, widths=0.8)
    for body, colour in zip(parts["bodies"], PALETTE * 2):
        body.set(facecolor=colour, alpha=0.45, edgecolor="none")
    ax.boxplot(data, orientation="horizontal", widths=0.18, showfliers=False, patch_artist=True,
               boxprops=dict(facecolor="white"), medianprops=dict(color="#222222"))
    ax.set_yticks(np.arange(1, len(order) + 1),
                  [f"{c} (n = {len(d):,})" for c, d in zip(order, data)])
    ax.set(xlabel="score")
    ax.grid(axis="y", visible=False)
    return fig


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45,
            cmap: str = "jet") -> np.ndarray:
    """Blend a heatmap (H, W) in [0, 1] over an RGB image (H, W, 3), uint8 or [0, 1] floats.

    Returns float RGB in [0, 1]: (1 - alpha) * image + alpha * colormap(heatmap).
    """
    from matplotlib import colormaps

    rgb = np.asarray(image, dtype=np.float64)
    if np.asarray(image).dtype == np.uint8:
        rgb = rgb / 255.0
    if rgb.shape[:2] != np.shape(heatmap):
        raise ValueError(f"image {rgb.shape[:2]} and heatmap {np.shape(heatmap)} sizes differ")
    colour = colormaps[cmap](np.clip(heatmap, 0.0, 1.0))[..., :3]
    return np.clip((1.0 - alpha) * rgb + alpha * colour, 0.0, 1.0)
