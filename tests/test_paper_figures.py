"""Paper figures: smoke tests (they render, with the right axes and patches) and the logic
helpers against hand-computed answers."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from i2pa_core.plots import paper as PF
from i2pa_core.plots import results as PE
from i2pa_core.plots.style import plt


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _render(fig):
    fig.canvas.draw()
    return fig


def _image(post_id="x"):
    rng = np.random.default_rng(abs(hash(post_id)) % 1000)
    return rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)


POST = pd.Series({"post_id": "P1", "user_id": "U7", "caption": "lunch with friends #food @ann",
                  "followers": 287314, "followings": 264, "user_posts": 1512, "likes": 37036,
                  "upload_time": pd.Timestamp("2018-01-01 18:39", tz="UTC"),
                  "download_time": pd.Timestamp("2018-07-11 20:20", tz="UTC")})


def _texts(fig):
    titles = [ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center", "right")]
    return " ".join([t.get_text() for ax in fig.axes for t in ax.texts] + titles)


def test_post_card_shows_statistics_and_score():
    fig = _render(PF.post_card(POST, _image(), 73.4))
    assert len(fig.axes) == 3
    text = _texts(fig)
    for piece in ("@U7", "287,314", "264", "1,512", "37,036", "2018-01-01 18:39",
                  "2018-07-11 20:20", "73 / 100", "lunch with friends"):
        assert piece in text
    gauge = fig.axes[2]
    assert [p.get_width() for p in gauge.patches] == [100, pytest.approx(73.4)]


def test_post_card_copes_with_missing_statistics():
    row = POST.drop(["followers"]).copy()
    row["caption"] = ""
    text = _texts(_render(PF.post_card(row, _image(), 120.0)))
    assert "followers n/a" in text and "(no caption)" in text


def test_sample_pdips_draws_n_pairs():
    pairs = pd.DataFrame({"a_post_id": [f"a{i}" for i in range(10)],
                          "b_post_id": [f"b{i}" for i in range(10)], "p": np.linspace(0.95, 1, 10)})
    posts = pd.DataFrame({"post_id": [*pairs.a_post_id, *pairs.b_post_id],
                          "likes": [*range(2000, 2010), *range(100, 110)]})
    seen = []
    loader = lambda pid: seen.append(pid) or _image(pid)  # noqa: E731
    fig = _render(PF.sample_pdips(pairs, posts, loader, np.random.default_rng(0), n=6))
    assert len(fig.axes) == 12 and len(seen) == 12
    assert sum("P = " in t.get_text() for ax in fig.axes for t in ax.texts) == 6
    first = fig.axes[0].get_title()
    assert first.startswith("A: 2,00") and fig.axes[1].get_title().startswith("B: 10")
    again = []
    PF.sample_pdips(pairs, posts, lambda pid: again.append(pid) or _image(pid),
                    np.random.default_rng(0), n=6)
    assert again == seen
    assert len(PF.sample_pdips(pairs, posts, _image, np.random.default_rng(1), n=4).axes) == 8


def test_siamese_diagram_has_every_block():
    fig = _render(PF.siamese_diagram())
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    # 2 x (image, f, Q) + difference + sigmoid + P_AB + loss + label = 11 boxes.
    assert len(boxes) == 11 and len(arrows) == 11
    text = _texts(fig)
    for piece in ("image A", "image B", "ResNet-50", "shared", "O_{AB}", "P_{AB}", "BCE"):
        assert piece in text


def test_comparison_bars_marks_paper_values():
    """The older table (``source``) still draws: re-run rows left, the paper's hatched, right.
    The new schema is tested in test_figures_review.py."""
    table = pd.DataFrame({"method": ["Random", "Ours", "Khosla14 (paper)"],
                          "accuracy": [0.5, 0.8, 0.5439], "ci_low": [0.49, 0.79, np.nan],
                          "ci_high": [0.51, 0.81, np.nan],
                          "source": ["re-run", "re-run", "paper"]})
    fig = _render(PE.comparison_bars(table))
    left, right = fig.axes
    assert [b.get_hatch() for b in left.patches] == [None, None]
    assert [b.get_hatch() for b in right.patches] == ["///"]
    assert [pytest.approx(b.get_width()) for b in [*left.patches, *right.patches]] == [
        50, 80, 54.39]
    # The table's first row is drawn on top, the axis starts at 0.
    assert [t.get_text() for t in left.get_yticklabels()] == ["Random", "Ours"]
    assert left.get_yticks()[0] > left.get_yticks()[1] and left.get_xlim()[0] == 0
    with pytest.raises(ValueError, match="re-run, paper"):
        PE.comparison_bars(table.assign(source="guess"))


def test_paper_fig4_values():
    assert PE.PAPER_FIG4["Khosla14"] == 0.5439 and PE.PAPER_FIG4["Ours (paper)"] == 0.7665


def test_fit_gaussian_known_sample():
    mean, sd = PE.fit_gaussian([1, 2, 3, 4, 5, np.nan])
    assert mean == pytest.approx(3.0) and sd == pytest.approx(np.sqrt(2.0))


def test_score_histogram_shows_the_fit():
    fig = _render(PE.score_histogram(np.array([1.0, 2, 3, 4, 5] * 20), bins=5, max_components=1))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("mean 3.00, std 1.41" in label for label in labels)
    assert len(fig.axes[0].lines) == 2  # the Gaussian curve and the paper's fit (text only)


def test_select_levels_picks_evenly_spaced_scores():
    scores = pd.Series(np.arange(101.0), index=[f"p{i}" for i in range(101)])
    one = PE.select_levels(scores, per_level=1, lower_q=0.0, upper_q=1.0)
    assert one["post_id"].tolist() == ["p100", "p75", "p50", "p25", "p0"]
    assert one["level"].tolist() == list(PE.LEVELS)
    # Default quantiles on 0..100 are 1 and 99: targets 99, 74.5, 50, 25.5, 1.
    two = PE.select_levels(scores, per_level=2)
    assert two["target"].unique().tolist() == [99.0, 74.5, 50.0, 25.5, 1.0]
    # Nearest first; ties (98 vs 100 for 99, 74 vs 75 for 74.5) go to the earlier post.
    assert two["post_id"].tolist()[:4] == ["p99", "p98", "p74", "p75"]
    assert two["post_id"].is_unique


def test_select_levels_never_reuses_a_post_and_needs_enough():
    scores = pd.Series([0.0, 0.0, 0.0, 0.0, 0.0, 10.0], index=list("abcdef"))
    picked = PE.select_levels(scores, per_level=1, lower_q=0.0, upper_q=1.0)
    assert picked["post_id"].tolist() == ["f", "a", "b", "c", "d"]
    with pytest.raises(ValueError, match="at least 10"):
        PE.select_levels(scores, per_level=2)


def test_level_examples_grid():
    scores = pd.Series(np.arange(30.0), index=[f"p{i}" for i in range(30)])
    fig = _render(PE.level_examples(PE.select_levels(scores, per_level=3), _image))
    assert len(fig.axes) == 15
    assert [fig.axes[i].get_ylabel() for i in range(0, 15, 3)] == list(PE.LEVELS)


def test_gradcam_grid_rows():
    images = [_image(str(i)) for i in range(3)]
    maps = [np.random.default_rng(i).random((16, 16)) for i in range(3)]
    fig = _render(PE.gradcam_grid(images, maps, images[:2], maps[:2], [3.1, 2.9, 2.5], [0.1, 0.2]))
    assert len(fig.axes) == 7                    # 2 x 3 panels and one shared colour bar
    # Each row names the sign it maps: +score for the high row, -score for the low row.
    assert fig.axes[0].get_ylabel() == "high score\nmap of +score (raises it)"
    assert fig.axes[3].get_ylabel() == "low score\nmap of \u2212score (lowers it)"
    assert fig.axes[0].get_title() == "3.10" and not fig.axes[5].axison
    bar = fig.axes[6]
    assert bar.get_ylabel() == "Grad-CAM / image's maximum"
    assert bar.get_ylim() == (0.0, 1.0)
    swapped = _render(PE.gradcam_grid(images, maps, images, maps, high_sign=-1, low_sign=1))
    assert swapped.axes[0].get_ylabel().endswith("\u2212score (lowers it)")
    with pytest.raises(ValueError, match="sign must be"):
        PE.gradcam_grid(images, maps, images, maps, low_sign=0)


def test_category_scores_orders_by_median():
    index = [f"p{i}" for i in range(9)]
    scores = pd.Series([1, 2, 3, 10, 11, 12, -5, -4, -3.0], index=index)
    categories = pd.Series(["food"] * 3 + ["pet"] * 3 + ["text"] * 3, index=index)
    fig = _render(PE.category_scores(scores, categories))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["text (n = 3)", "food (n = 3)", "pet (n = 3)"]  # bottom to top
