"""The ``i2pa human`` verb (plan, serve, panel) as the lead wires it into the CLI."""

from __future__ import annotations

import argparse

import pytest

from i2pa_core.cli.common import UserError
from i2pa_core.cli.human import register_human
from i2pa_core.human.plan import read_plan
from test_human_data import tiny_platform


def _run(argv):
    parser = argparse.ArgumentParser(prog="i2pa")
    register_human(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def test_plan_verb_writes_a_reproducible_plan(tmp_path):
    posts, pairs = tiny_platform(tmp_path)
    posts.to_parquet(tmp_path / "posts.parquet")
    pairs.to_parquet(tmp_path / "pairs.parquet")
    argv = ["human", "plan", "--pairs", str(tmp_path / "pairs.parquet"), "--posts",
            str(tmp_path / "posts.parquet"), "--n-pairs", "4", "--n-training", "2",
            "--set", "n_subjects=3", "--seed", "5"]
    assert _run([*argv, "--out", str(tmp_path / "a.json")]) == 0
    assert _run([*argv, "--out", str(tmp_path / "b.json")]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    plan = read_plan(tmp_path / "a.json")
    assert (len(plan["pairs"]), len(plan["training"]), len(plan["subjects"])) == (4, 2, 3)
    with pytest.raises(UserError, match="only 12 usable test pairs"):
        _run([*argv[:-4], "--n-pairs", "40", "--out", str(tmp_path / "c.json")])


def test_serve_rejects_missing_folders_and_bad_plans(tmp_path):
    (tmp_path / "plan.json").write_text("{}")
    base = ["human", "serve", "--plan", str(tmp_path / "plan.json"), "--responses",
            str(tmp_path / "r.csv")]
    with pytest.raises(UserError, match="no such image folder"):
        _run([*base, "--images", str(tmp_path / "nope")])
    with pytest.raises(UserError, match="not an i2pa human plan"):
        _run([*base, "--images", str(tmp_path)])


def test_help_explains_every_option_with_an_example(capsys):
    for sub in ("plan", "serve", "panel"):
        with pytest.raises(SystemExit):
            _run(["human", sub, "--help"])
        text = capsys.readouterr().out
        assert "example: i2pa human " + sub in text
