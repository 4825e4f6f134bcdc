"""Statistics and figures of a generated PDIP database (paper Table 1).

Pure functions: frames in, a frame or a matplotlib Figure out; saving is the caller's job
(``io.write_table``, ``plotting.save_figure``). Outputs made from the simulated platform must
say so in their caption: use :data:`SYNTHETIC_NOTE`.

Our reading of Table 1 (the paper does not define the statistics further):

* *Number of PDIPs*: rows of the pairs table. *Users involved*: distinct users among the
  images in PDIPs (A's and B's users; equal to the pairs' ``user_id`` under the same-user rule).
* *Average likes per image*, *proportion of no hashtag / no @ sign / no caption* and *average
  length of descriptive text* are taken **over the images in PDIPs** (each image is in at most one
  PDIP, so every image counts once), not over the whole crawl and not per pair.
* Captions are parsed by :func:`i2pa_core.captions.tokenize`. *No caption*: the caption is
  missing or blank (a caption of hashtags or emojis only is a caption). *Length of descriptive
  text*: descriptive words per image, images without caption counting 0 words.
* *Average P*: mean of the pairs' Eq. 6 probability; *upload interval*: mean ``interval_days``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from i2pa_core import paper
from i2pa_core.pdip.captions import tokenize
from i2pa_core.plots.style import PALETTE
from i2pa_core.plots.style import SIMULATED_NOTE as SYNTHETIC_NOTE  # noqa: F401  (public API)

# (attribute, paper's value as a number, display of the paper's value): the paper's Table 1.
PAPER_TABLE1 = paper.TABLE1


def pdip_images(posts: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``posts`` whose image is in a PDIP (A or B), each image once."""
    ids = pd.unique(np.concatenate([pairs["a_post_id"].to_numpy(dtype=object),
                                    pairs["b_post_id"].to_numpy(dtype=object)]))
    images = posts.loc[posts["post_id"].isin(ids)]
    if len(images) != len(ids):
        raise ValueError(f"{len(ids) - len(images)} post id(s) of the pairs are not in posts")
    return images


def caption_stats(captions: pd.Series) -> dict[str, float]:
    """Shares (in %) of no hashtag / no mention / no caption and mean descriptive words."""
    tokens = [tokenize(c) for c in captions]
    blank = [not isinstance(c, str) or not c.strip() for c in captions]
    n = max(len(tokens), 1)
    return {"no_hashtag": 100.0 * sum(not t.hashtags for t in tokens) / n,
            "no_mention": 100.0 * sum(not t.mentions for t in tokens) / n,
            "no_caption": 100.0 * sum(blank) / n,
            "words": sum(t.n_words for t in tokens) / n}


def table1(posts: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Table 1 of the paper on a generated database: columns attribute, paper, ours (floats).

    Args:
        posts: the posts table the pairs were drawn from (needs post_id, user_id, likes, caption).
        pairs: a PDIP table (a_post_id, b_post_id, p, interval_days).
    """
    images = pdip_images(posts, pairs)
    text = caption_stats(images["caption"])
    ours = [len(pairs), images["user_id"].nunique(), images["likes"].mean(),
            pairs["p"].mean(), pairs["interval_days"].mean(), text["no_hashtag"],
            text["no_mention"], text["no_caption"], text["words"]]
    return pd.DataFrame({"attribute": [row[0] for row in PAPER_TABLE1],
                         "paper": [row[1] for row in PAPER_TABLE1],
                         "ours": np.asarray(ours, dtype=float)})


def display_table1(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 1 with both value columns as display strings (counts with thousands separators)."""
    shown = {row[0]: row[2] for row in PAPER_TABLE1}
    out = frame.copy()
    out["paper"] = [shown.get(a, f"{v:g}") for a, v in zip(frame["attribute"], frame["paper"])]
    out["ours"] = [_display(a, v) for a, v in zip(frame["attribute"], frame["ours"])]
    return out


def _display(attribute: str, value: float) -> str:
    if np.isnan(value):
        return ""
    if attribute.startswith("Number"):
        return f"{int(round(value)):,}"
    if attribute.startswith("Average likes"):
        return f"{value:,.0f}"
    return f"{value:.3f}" if attribute.startswith("Average P") else f"{value:.1f}"


def plot_funnel(funnel: pd.DataFrame) -> plt.Figure:
    """Two horizontal bar panels: posts left after each post rule, candidate pairs after each
    pair rule (log scale), each bar labelled with what remains and what the rule removed."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, level, colour in zip(axes, ("posts", "pairs"), PALETTE):
        rows = funnel.loc[funnel["level"] == level]
        y = np.arange(len(rows))[::-1]
        remaining = rows["remaining"].to_numpy(dtype=float)
        ax.barh(y, np.maximum(remaining, 0.8), color=colour)
        ax.set_yticks(y, rows["rule"].tolist())
        ax.set_xscale("log" if level == "pairs" else "linear")
        ax.set_title(f"{level}: left after each rule")
        ax.set_xlabel(f"number of {'candidate pairs' if level == 'pairs' else 'posts'}")
        for yi, left, removed in zip(y, remaining, rows["removed"].to_numpy()):
            note = f"{int(left):,}" + (f"  (-{int(removed):,})" if removed else "")
            ax.text(max(left, 0.8), yi, " " + note, va="center", fontsize=7)
        ax.margins(x=0.35)
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def plot_pdip_distributions(pairs: pd.DataFrame, bins: int = 40) -> plt.Figure:
    """Histograms of the pairs' Eq. 6 probability P and of their upload intervals (days)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    p, interval = pairs["p"].to_numpy(), pairs["interval_days"].to_numpy()
    axes[0].hist(p, bins=bins, color=PALETTE[0])
    axes[0].set_xlabel("P(Q_A >= Q_B | S_A, S_B)  (Eq. 6)")
    axes[0].set_title(f"P of {len(p):,} PDIPs (mean {np.mean(p) if len(p) else np.nan:.3f})")
    axes[1].hist(interval, bins=bins, color=PALETTE[1])
    axes[1].set_xlabel("upload interval |t_A - t_B| (days)")
    axes[1].set_title(f"upload interval (mean {np.mean(interval) if len(p) else np.nan:.1f} d)")
    for ax in axes:
        ax.set_ylabel("PDIPs")
    fig.tight_layout()
    return fig


# The params that relax each funnel rule (pairs.rules.<key>).
RELAX = {"media_type": "single_image: false", "min_likes": "min_likes",
         "min_age": "min_age_days", "max_words": "max_words", "same_user": "same_user: false",
         "same_tags": "same_tags: false", "window": "window_days",
         "threshold": "threshold (lower) or sigma (lower)", "matched": "matching"}


def diagnose_funnel(funnel: pd.DataFrame) -> str:
    """Why a funnel ends at 0 PDIPs: the rule that emptied it (else the one that removed the
    largest share of what reached it) and the ``pairs.rules`` key to relax."""
    rules = funnel[~funnel["rule"].isin(["input", "all_pairs"])]
    before = rules["removed"] + rules["remaining"]
    emptied = rules[(rules["remaining"] == 0) & (before > 0)]
    share = rules["removed"] / before.where(before > 0)
    row = emptied.iloc[0] if len(emptied) else rules.loc[share.fillna(0).idxmax()]
    reached = int(row["removed"] + row["remaining"])
    what = "posts" if row["level"] == "posts" else "candidate pairs"
    return (f"rule {row['rule']} removed {int(row['removed']):,} of the {reached:,} {what} that "
            f"reached it ({100 * row['removed'] / max(reached, 1):.0f} %); relax "
            f"pairs.rules.{RELAX.get(row['rule'], row['rule'])}")
