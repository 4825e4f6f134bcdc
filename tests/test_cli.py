"""The i2pa command line: verbs, help, exit codes (0 success, 2 user error), no tracebacks."""

import pandas as pd
import pytest

from i2pa_core.cli.main import main


@pytest.mark.parametrize("verb", ["simulate", "pairs", "validate"])
def test_help_explains_every_option(verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([verb, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text
    for line in text.splitlines():
        if line.strip().startswith("--") and "  " in line.strip():
            assert line.split("  ", 1)[1].strip(), f"option without help: {line}"


def test_simulate_then_pairs(tmp_path, capsys):
    args = ["simulate", "--users", "20", "--days", "90", "--no-images", "--seed", "5", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a/posts.parquet").read_bytes() == (tmp_path / "b/posts.parquet").read_bytes()
    assert not (tmp_path / "a/images").exists()
    out = tmp_path / "pairs.parquet"
    assert main(["pairs", str(tmp_path / "a/posts.parquet"), "--out", str(out),
                 "--threshold", "0.9", "--val-size", "3", "--test-size", "3"]) == 0
    pairs = pd.read_parquet(out)
    assert (pairs["p"] >= 0.9).all() and (pairs["split"] == "test").sum() == 3


def test_params_file_section_is_used(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("base: {seed: 1}\nsimulate: {n_users: 7, render_images: false}\n")
    assert main(["simulate", "--out", str(tmp_path / "s"), "--params", str(params), "--quiet"]) == 0
    assert pd.read_parquet(tmp_path / "s/users.parquet").shape[0] == 7


@pytest.mark.parametrize("argv, message", [
    (["validate", "missing.csv"], "missing.csv: no such posts file"),
    (["simulate", "--out", "x", "--set", "bogus=1"], "unknown key(s) bogus"),
    (["simulate", "--out", "x", "--set", "novalue"], "--set expects KEY=VALUE"),
    (["pairs", "--out", "p.parquet"], "give a posts table"),
    (["pairs", "--from-i2pa", "missing.csv", "--out", "p.parquet"], "no such pair list"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_pairs_from_released_list(tmp_path):
    listing = tmp_path / "list.csv"
    listing.write_text("Low_popularity,High_popularity\nBArs5gvFY7q,7s0kDUqUCW\n")
    assert main(["pairs", "--from-i2pa", str(listing), "--out", str(tmp_path / "p.parquet")]) == 0
    pairs = pd.read_parquet(tmp_path / "p.parquet")
    assert pairs.loc[0, "a_post_id"] == "7s0kDUqUCW" and pairs.loc[0, "b_post_id"] == "BArs5gvFY7q"


def test_version_and_examples_on_their_own_lines(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"i2pa {version('i2pa')}"
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    lines = capsys.readouterr().out.splitlines()
    assert "examples: i2pa score photos/ --format csv > scores.csv" in lines
    assert "          i2pa score a.jpg b.png --weights model-resnet50.pth --preset official" in \
        lines


def test_pairs_out_honours_the_extension(tmp_path, capsys):
    listing = tmp_path / "list.csv"
    listing.write_text("Low_popularity,High_popularity\nBArs5gvFY7q,7s0kDUqUCW\n")
    assert main(["pairs", "--from-i2pa", str(listing), "--out", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().startswith("a_post_id,b_post_id,")
    assert main(["pairs", "--from-i2pa", str(listing), "--out", str(tmp_path / "p.parquet")]) == 0
    assert pd.read_parquet(tmp_path / "p.parquet")["a_post_id"].tolist() == ["7s0kDUqUCW"]
    assert main(["pairs", "--from-i2pa", str(listing), "--out", str(tmp_path / "p.txt")]) == 2
    assert "p.txt: a pairs table is written as .parquet or .csv" in capsys.readouterr().err
    assert not (tmp_path / "p.txt").exists()
