"""Fig. 9 and accuracy-against-P figures draw and carry their provenance note."""

from __future__ import annotations

from PIL import Image

from i2pa_core.human.analysis import accuracy_by_p, fig9_selection, final_answers, pair_table
from i2pa_core.human.figures import accuracy_by_p_figure, fig9_examples
from i2pa_core.human.panel import SIMULATED_PANEL
from test_human_analysis import PLAN, _responses, _scores


def test_figures_draw_with_the_note(tmp_path):
    table = pair_table(final_answers(_responses(), PLAN), _scores())
    plan = {**PLAN, "posts": {}}
    for i in range(1, 6):
        for side in "AB":
            Image.new("RGB", (8, 8), (40 * i, 90, 20)).save(tmp_path / f"{side}{i}.png")
            plan["posts"][f"{side}{i}"] = {"image": f"{side}{i}.png", "likes": 100 * i}
    fig = fig9_examples(fig9_selection(table), plan, tmp_path, SIMULATED_PANEL)
    assert SIMULATED_PANEL in fig._suptitle.get_text() and len(fig.axes) == 8
    assert "likes 100" in fig.axes[0].get_xlabel()
    fig = accuracy_by_p_figure(accuracy_by_p(table, [0.95, 0.97, 0.99]), SIMULATED_PANEL)
    assert fig.axes[0].get_title() == SIMULATED_PANEL and len(fig.axes[0].containers) == 3
