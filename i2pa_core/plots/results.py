"""Figures of the results (paper Fig. 5-7) and the per-category scores; Fig. 4
(:func:`comparison_bars`) lives in :mod:`i2pa_core.plots.comparison` and is re-exported here.

Pure functions: tables, scores and images in, a matplotlib Figure out (save it with
:func:`i2pa_core.plots.style.save_figure` and a caption naming the data source). The logic helpers
(the score fits of :mod:`i2pa_core.plots.score_fit`, :func:`select_levels`) are separate so they
can be tested on known answers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from i2pa_core import paper
from i2pa_core.plots.comparison import comparison_bars  # noqa: F401  (Fig. 4, its own module)
from i2pa_core.plots.score_fit import describe_scores, finite, fit_gaussian  # noqa: F401
from i2pa_core.plots.style import PALETTE, plt, use_style

# Fig. 4 of the paper: pairwise accuracy on its 50,000 test PDIPs, as fractions.
PAPER_FIG4 = {"Random": 0.50, "Virality Detection": 0.5321, "Khosla14": 0.5439,
              "Hessel17": 0.6554, "LikelyAI": 0.6887, "Human (majority)": 0.7240,
              "Ours (paper)": 0.7665}
LEVELS = ("excellent", "good", "fair", "bad", "poor")


def score_histogram(scores, bins: int = 40, max_components: int = 2,
                    paper_fit: tuple[float, float] | None = (paper.FIG5_MEAN, paper.FIG5_STD)
                    ) -> plt.Figure:
    """Fig. 5: density histogram of the scores with the fit they call for, legend beside the axes.

    The fit is one Gaussian or a mixture of up to ``max_components`` Gaussians, whichever has the
    lowest BIC (:func:`i2pa_core.plots.score_fit.describe_scores`); a mixture is drawn with its
    components, and the one-Gaussian fit (the paper's kind of fit) dotted for comparison.
    ``paper_fit`` (mean, std; None to leave out) is quoted in the legend: the paper's model on
    Instagram, on another scale, so it is not drawn.
    """
    use_style()
    values = finite(scores)
    fit = describe_scores(values, max_components)
    best, gauss = fit["best"], fit["gaussian"]
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    ax.hist(values, bins=bins, density=True, color=PALETTE[0], alpha=0.6,
            label=f"scores (n = {len(values):,})")
    grid = np.linspace(*ax.get_xlim(), 400)
    if best.components == 1:
        ax.plot(grid, best.pdf(grid), color=PALETTE[1], linewidth=2,
                label=f"one Gaussian (lowest BIC): mean {best.means[0]:.2f}, "
                      f"std {best.sds[0]:.2f}")
    else:
        ax.plot(grid, best.pdf(grid), color=PALETTE[1], linewidth=2,
                label=f"mixture of {best.components} Gaussians (lowest BIC;\n"
                      f"BIC {fit['delta_bic']:,.0f} below one Gaussian's)")
        for i, curve in enumerate(best.component_pdfs(grid).T):
            ax.plot(grid, curve, color=PALETTE[1], linewidth=1, linestyle="--",
                    label=f"component {i + 1}: weight {best.weights[i]:.2f}, "
                          f"mean {best.means[i]:.2f}, std {best.sds[i]:.2f}")
        ax.plot(grid, gauss.pdf(grid), color="#333333", linewidth=1.2, linestyle=":",
                label=f"one Gaussian (rejected): mean {gauss.means[0]:.2f}, "
                      f"std {gauss.sds[0]:.2f}")
    if paper_fit is not None:
        ax.plot([], [], linestyle="none",
                label=f"paper's Fig. 5 (its model on Instagram, another\nscale; not drawn): "
                      f"one Gaussian, mean {paper_fit[0]:.2f}, std {paper_fit[1]:.2f}")
    ax.set(xlabel="predicted intrinsic popularity score", ylabel="density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7.5, handlelength=1.8,
              borderaxespad=0.0)
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
