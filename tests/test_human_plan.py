"""The experiment plan: reproducible, balanced sides, training disjoint from test, sessions."""

from __future__ import annotations

import json

import pytest

from i2pa_core.human.plan import (HumanConfig, make_plan, read_plan, safe_relative,
                                  subject_id, subject_index, subject_schedule, trials, write_plan)
from test_human_data import tiny_plan, tiny_platform


def test_same_seed_same_plan_other_seed_other_plan(tmp_path):
    posts, pairs = tiny_platform(tmp_path)
    cfg = HumanConfig(n_pairs=6, n_training=2, session_pairs=3, n_subjects=4)
    first, again = make_plan(pairs, posts, cfg, 7), make_plan(pairs, posts, cfg, 7)
    assert json.dumps(first) == json.dumps(again)
    other = make_plan(pairs, posts, cfg, 8)
    assert [p["a_post_id"] for p in other["pairs"]] != [p["a_post_id"] for p in first["pairs"]]


def test_training_pairs_come_from_other_splits_and_share_no_post(tmp_path):
    plan = tiny_plan(tmp_path)
    test_posts = {p[k] for p in plan["pairs"] for k in ("a_post_id", "b_post_id")}
    train_posts = {p[k] for p in plan["training"] for k in ("a_post_id", "b_post_id")}
    assert len(plan["pairs"]) == 6 and len(plan["training"]) == 2
    assert not test_posts & train_posts
    # tiny_platform: the first 12 pairs (posts P0000-P0023) are the test split.
    assert all(int(p[1:]) < 24 for p in test_posts)
    assert all(int(p[1:]) >= 24 for p in train_posts)


def test_sides_balanced_within_each_subject_and_over_subject_pairs(tmp_path):
    plan = tiny_plan(tmp_path)  # 6 test + 2 training pairs per subject
    a_left = {}
    for index in range(4):
        shown = trials(plan, index)
        a_of = {p["pair_id"]: p["a_post_id"] for p in plan["pairs"] + plan["training"]}
        a_left[index] = {t["pair_id"]: t["left"] == a_of[t["pair_id"]] for t in shown}
        assert sum(a_left[index].values()) == 4  # half of 8
    for even in (0, 2):  # odd subjects mirror the even one before them
        assert all(a_left[even][k] != a_left[even + 1][k] for k in a_left[even])


def test_each_subject_sees_every_pair_once_in_own_order_in_sessions(tmp_path):
    plan = tiny_plan(tmp_path)
    shown = trials(plan, 0)
    assert [t["session"] for t in shown] == [0, 0, 1, 1, 1, 2, 2, 2]
    assert [t["pair_id"] for t in shown[:2]] == ["T01", "T02"]
    assert sorted(t["pair_id"] for t in shown[2:]) == [f"H{i:02d}" for i in range(1, 7)]
    orders = {tuple(s["order"]) for s in plan["subjects"]}
    assert len(orders) > 1


def test_new_subjects_beyond_the_declared_ones_get_a_schedule_from_the_seed(tmp_path):
    plan = tiny_plan(tmp_path)
    assert plan["subjects"][3] == subject_schedule(plan, 3)
    extra = trials(plan, 10)
    assert len(extra) == 8 and {t["session"] for t in extra} == {0, 1, 2}
    assert subject_id(10) == "S11" and subject_index("S11") == 10
    for bad in ("S00", "X01", "S1a", "", "S../1"):
        with pytest.raises(ValueError):
            subject_index(bad)


def test_too_few_pairs_is_an_error(tmp_path):
    posts, pairs = tiny_platform(tmp_path)
    with pytest.raises(ValueError, match="only 12 usable test pairs, 50 requested"):
        make_plan(pairs, posts, HumanConfig(n_pairs=50), 0)
    with pytest.raises(ValueError, match="n_training must be at least 1"):
        HumanConfig(n_training=0)


def test_plan_round_trip_and_unsafe_image_paths_rejected(tmp_path):
    plan = tiny_plan(tmp_path)
    write_plan(tmp_path / "plan.json", plan)
    assert read_plan(tmp_path / "plan.json") == plan
    first = next(iter(plan["posts"]))
    plan["posts"][first]["image"] = "../secret.jpg"
    write_plan(tmp_path / "bad.json", plan)
    with pytest.raises(ValueError, match="without '..'"):
        read_plan(tmp_path / "bad.json")
    assert [safe_relative(p) for p in ("a/b.jpg", "/etc/x", "a/../../b", "a\\b", "")] == [
        True, False, False, False, False]
