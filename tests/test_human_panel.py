"""The simulated observer panel: paper demographics, web-page file format, sane observers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from i2pa_core.human.analysis import final_answers
from i2pa_core.human.panel import PanelConfig, simulate_demographics, simulate_panel, write_panel
from i2pa_core.human.plan import trials
from i2pa_core.human.store import read_responses, read_subjects
from i2pa_core.simulate.content import CATEGORIES, intrinsic_score, sample_attributes
from test_human_data import tiny_plan


def _truth(plan, seed=3) -> pd.DataFrame:
    ids = sorted(plan["posts"])
    rng = np.random.default_rng(seed)
    attrs = sample_attributes(rng, len(ids))
    category = rng.integers(0, len(CATEGORIES), len(ids))
    return pd.DataFrame({"post_id": ids, "category": np.array(CATEGORIES)[category], **attrs,
                         "q": intrinsic_score(category, attrs)})


def test_demographics_match_the_paper():
    subjects = simulate_demographics(PanelConfig(), np.random.default_rng(0))
    assert len(subjects) == 30 and (subjects["gender"] == "female").sum() == 14
    assert (subjects["used_instagram"] == "yes").sum() == 12
    assert (subjects["social_hours"] > 3).sum() == 9
    assert subjects["age"].between(20, 30).all() and subjects["social_hours"].between(0, 8).all()


def test_panel_files_have_the_web_format_and_answer_every_trial(tmp_path):
    plan = tiny_plan(tmp_path)
    cfg = PanelConfig(n_subjects=5, n_female=2)
    responses, subjects = simulate_panel(plan, _truth(plan), cfg, seed=1)
    write_panel(responses, subjects, tmp_path / "r.csv", tmp_path / "s.csv")
    assert (tmp_path / "r.csv").read_text().startswith(
        "subject,session,pair_id,left_post_id,choice,rt_ms,timestamp\nS01,0,T01,")
    rows, people = read_responses(tmp_path / "r.csv"), read_subjects(tmp_path / "s.csv")
    assert people["subject"].tolist() == ["S01", "S02", "S03", "S04", "S05"]
    for i, subject in enumerate(people["subject"]):
        mine = rows[rows["subject"] == subject]
        shown = trials(plan, i)
        assert mine["pair_id"].tolist() == [t["pair_id"] for t in shown]
        assert mine["left_post_id"].tolist() == [t["left"] for t in shown]
        assert all(c in (t["left"], t["right"]) for c, t in zip(mine["choice"], shown))
        assert mine["timestamp"].is_monotonic_increasing
    assert rows["rt_ms"].between(200, 60_000).all()
    again, _ = simulate_panel(plan, _truth(plan), cfg, seed=1)
    pd.testing.assert_frame_equal(responses, again)


def test_a_perfect_observer_follows_q(tmp_path):
    plan = tiny_plan(tmp_path)
    truth = _truth(plan)
    perfect = PanelConfig(n_subjects=2, n_female=1, perceive_prob=1.0, weight_sd=0.0,
                          noise_sd=0.0, shared_noise_sd=0.0)
    responses, _ = simulate_panel(plan, truth, perfect, seed=0)
    answers = final_answers(responses, plan)
    q = truth.set_index("post_id")["q"]
    expected = q.loc[answers["a_post_id"]].to_numpy() > q.loc[answers["b_post_id"]].to_numpy()
    assert (answers["correct"].to_numpy() == expected).all()
