"""Overview figure of a simulated platform: where the likes come from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.plots.style import plt, use_style
from i2pa_core.metrics import seeded_subset

_MAX_POINTS = 20_000  # scatter panels show a fixed-seed subsample


def _subsample(n: int) -> np.ndarray:
    if n <= _MAX_POINTS:
        return np.arange(n)
    return seeded_subset(np.arange(n), _MAX_POINTS, np.random.default_rng(0))


def plot_platform(platform) -> plt.Figure:
    """Four panels: likes distribution, followers vs likes, likes vs post age, and the hidden
    intrinsic score q vs within-user-demeaned log-likes. The title says the data is simulated."""
    use_style()
    posts, truth = platform.posts, platform.truth
    log_likes = np.log(posts["likes"].clip(lower=1).to_numpy())
    age = ((posts["download_time"] - posts["upload_time"]).dt.total_seconds() / 86400).to_numpy()
    pick = _subsample(len(posts))
    users = posts["user_id"].to_numpy()
    demeaned = log_likes - pd.Series(log_likes).groupby(users).transform("mean").to_numpy()
    fig, ax = plt.subplots(2, 2, figsize=(8.5, 6.5))
    ax[0, 0].hist(np.log10(posts["likes"].clip(lower=1)), bins=60)
    ax[0, 0].set(xlabel="log10 likes", ylabel="posts", title="Likes per post")
    ax[0, 1].scatter(posts["followers"].to_numpy()[pick], posts["likes"].clip(lower=1).to_numpy()[pick],
                     s=2, alpha=0.2, rasterized=True)
    ax[0, 1].set(xscale="log", yscale="log", xlabel="followers (at download)", ylabel="likes",
                 title="Audience dominates absolute likes")
    bins = np.arange(0, np.ceil(age.max()) + 5, 5)
    median = pd.Series(demeaned).groupby(np.digitize(age, bins)).median()
    ax[1, 0].scatter(age[pick], demeaned[pick], s=2, alpha=0.1, rasterized=True)
    ax[1, 0].plot(bins[median.index.to_numpy() - 1] + 2.5, median.to_numpy(), color="C1",
                  label="median per 5 days")
    ax[1, 0].axvline(30, color="0.4", ls="--", lw=0.8)
    ax[1, 0].set(xlabel="post age at download (days)", ylabel="ln likes (within-user demeaned)",
                 title="Young posts are still gathering likes")
    ax[1, 0].legend(loc="lower right")
    _within_user_panel(ax[1, 1], users, truth["q"].to_numpy(), demeaned, pick)
    fig.suptitle("Synthetic platform (simulated data, not Instagram)")
    fig.tight_layout()
    return fig


def _within_user_panel(ax, users, q, demeaned, pick) -> None:
    """q vs ln likes after removing each user's mean: the part PDIPs are meant to recover."""
    q_demeaned = q - pd.Series(q).groupby(users).transform("mean").to_numpy()
    r = np.corrcoef(q_demeaned, demeaned)[0, 1]
    ax.scatter(q_demeaned[pick], demeaned[pick], s=2, alpha=0.15, rasterized=True)
    ax.set(xlabel="intrinsic score q (within-user demeaned)",
           ylabel="ln likes (within-user demeaned)", title=f"Within a user, q shows (r = {r:.2f})")
