"""The scoring verbs as a user runs them: real processes, progress bars on (no --quiet), a folder
of real photos (scikit-image's) with a 1 px image, a truncated JPEG and a missing image, output
piped into a reader that stops early. Every run exits 0 or 2, says each kind of problem on one
line, and never prints a traceback."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """photos/ with three real photos, one 1x1 PNG and a truncated JPEG; a pair list in the
    released format whose last pair names an image that is not there; a small CNN checkpoint
    of the synthetic preset."""
    from i2pa_core.model.scorer import build_scorer

    root = tmp_path_factory.mktemp("crawl")
    photos = root / "photos"
    photos.mkdir()
    for name in ("coffee", "chelsea", "astronaut"):
        Image.fromarray(getattr(skimage_data, name)()).save(photos / f"{name}.jpg", quality=90)
    Image.new("RGB", (1, 1), (200, 10, 10)).save(photos / "dot.jpg")
    whole = (photos / "coffee.jpg").read_bytes()
    (photos / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    pd.DataFrame({"Low_popularity": ["coffee", "dot", "truncated", "astronaut"],
                  "High_popularity": ["chelsea", "astronaut", "coffee", "gone"]}).to_csv(
        root / "list.csv", index=False)
    torch.manual_seed(0)
    torch.save({"model": build_scorer("smallcnn").state_dict(),
                "meta": {"backbone": "smallcnn", "preset": "synthetic"}}, root / "small.pt")
    return root


def _i2pa(args: str, cwd: Path, pipe: str = "") -> subprocess.CompletedProcess:
    """``python -m i2pa_core.cli ARGS [| PIPE]`` in a shell, as a user types it."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    command = f"{sys.executable} -m i2pa_core.cli {args}" + (f" | {pipe}" if pipe else "")
    # pipefail: the exit code is i2pa's, not the reader's.
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _assert_clean(run, codes=(0,)):
    assert run.returncode in codes, run.stderr
    assert "Traceback" not in run.stderr
    # the last line of a traceback starts with the exception's name
    assert not re.search(r"^\w+(Error|Exception): ", run.stderr, re.M), run.stderr


def test_score_reports_each_bad_file_once_and_scores_the_rest(crawl):
    run = _i2pa("score photos --weights small.pt --format csv", crawl)
    _assert_clean(run)
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout), keep_default_na=False)
    scored = rows[rows["error"] == ""]
    assert sorted(Path(p).name for p in scored["path"]) == ["astronaut.jpg", "chelsea.jpg",
                                                            "coffee.jpg", "dot.jpg"]
    assert np.isfinite(scored["score"].astype(float)).all()
    skipped = [line for line in run.stderr.splitlines() if "skipped photos/" in line]
    assert len(skipped) == 1 and "truncated.jpg: corrupt or truncated" in skipped[0]
    assert "warning: 1 of 5 files skipped" in run.stderr
    assert "%|" in run.stderr or "img/s" in run.stderr  # the progress bar was on


def test_rank_and_eval_pairs_with_progress_bars(crawl):
    rank = _i2pa("rank photos --top 2 --weights small.pt", crawl)
    _assert_clean(rank)
    assert len([line for line in rank.stdout.splitlines() if line.strip()]) == 3  # header + 2
    run = _i2pa("eval-pairs list.csv --images photos --weights small.pt --out m.json "
                "--problems problems.csv", crawl)
    _assert_clean(run)
    kinds = [line for line in run.stderr.splitlines() if "eval-pairs: skipped" in line]
    assert len(kinds) == 2  # one line per kind of problem, not one per image
    assert any("1 missing image (first: gone" in k for k in kinds)
    assert any("1 unreadable image (first: truncated" in k for k in kinds)
    metrics = json.loads((crawl / "m.json").read_text())
    assert (metrics["n"], metrics["n_pairs"], metrics["missing"], metrics["unreadable"]) == \
        (2, 4, 1, 1)
    assert metrics["model"]["backbone"] == "smallcnn"
    assert len(pd.read_csv(crawl / "problems.csv")) == 2


def test_a_split_without_pairs_and_no_scorable_pair_exit_2(crawl):
    run = _i2pa("eval-pairs list.csv --images photos --weights small.pt --split train", crawl)
    _assert_clean(run, codes=(2,))
    assert run.stderr.strip().splitlines()[-1] == ("i2pa eval-pairs: error: list.csv: no pairs "
                                                   "of split 'train'")


@pytest.mark.parametrize("reader", ["head -n 2", "true"])
def test_output_into_a_closed_pipe_ends_quietly(crawl, reader):
    run = _i2pa("score photos --weights small.pt --format csv", crawl, pipe=reader)
    _assert_clean(run)
    assert "BrokenPipeError" not in run.stderr
    if reader.startswith("head"):
        assert run.stdout.splitlines()[0].startswith("score,score_100,path,error,backbone")


def test_the_synthetic_default_model_warns_once(crawl, monkeypatch, capsys):
    """Without --weights the pipeline's model is used; when it is the synthetic one, one line
    says that its scores mean nothing for real photos (and it is found from any folder)."""
    from i2pa_core.cli import weights
    from i2pa_core.cli.main import main

    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", crawl / "small.pt")
    monkeypatch.chdir(crawl.parent)
    assert main(["score", str(crawl / "photos")]) == 0
    err = capsys.readouterr().err
    assert err.count("no real-world meaning") == 1 and "inputs resized to 64x64" in err
    assert main(["score", str(crawl / "photos"), "--weights", str(crawl / "small.pt")]) == 0
    assert "no real-world meaning" not in capsys.readouterr().err


def test_the_default_weights_are_found_from_the_checkout_not_the_folder():
    from i2pa_core.cli import weights

    assert weights.DEFAULT_WEIGHTS == ROOT / "models" / "train" / "best.pt"
