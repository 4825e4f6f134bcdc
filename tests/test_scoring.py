"""Scoring, ranking and pairwise evaluation: the authors' pipeline reproduced to 1e-5, the 0-100
scale by hand values, every bad input reported without a traceback, exit codes 0 / 0 + warning / 2.
"""

import hashlib
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from i2pa_core.model.presets import Preset, Transform
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms

from i2pa_core.cli.main import main
from i2pa_core.evaluate.scoring import (PAPER_REFERENCE, ScoredImage, ScoreReference, evaluate_pairs,
                               rank_folder, score_paths, top_k)


@pytest.fixture
def cli(monkeypatch):
    """``i2pa`` main with the scoring verbs registered (whether or not cli_verbs has them yet)."""
    from i2pa_core.cli import data as cli_verbs
    from i2pa_core.cli.score import register_score

    if not any(getattr(r, "__name__", "") == "register_score" for r in cli_verbs.REGISTER):
        monkeypatch.setattr(cli_verbs, "REGISTER", [*cli_verbs.REGISTER, register_score])
    return main


@pytest.fixture(scope="module")
def authors(tmp_path_factory):
    """A checkpoint in the authors' format (random weights) and a folder of test photos."""
    root = tmp_path_factory.mktemp("authors")
    torch.manual_seed(0)
    net = torchvision.models.resnet50(weights=None)
    net.fc = nn.Linear(2048, 1)
    torch.save(net.state_dict(), root / "model-resnet50.pth")
    photos = root / "photos"
    (photos / "sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (180, 240, 3), np.uint8)).save(photos / "wide.jpg")
    Image.fromarray(rng.integers(0, 256, (97, 61, 3), np.uint8)).save(photos / "sub/tall.png")
    Image.fromarray(rng.integers(0, 256, (64, 64), np.uint8)).save(photos / "grey.jpg")
    weights = root / "model-resnet50.pth"
    return weights, photos, authors_reference(weights, sorted(photos.rglob("*.*")))


def authors_reference(weights, paths) -> dict:
    """The authors' released script, one image at a time: torchvision and PIL directly."""
    net = torchvision.models.resnet50(weights=None)
    net.fc = nn.Linear(2048, 1)
    net.load_state_dict(torch.load(weights, weights_only=True))
    net.eval()
    prepare = transforms.Compose([transforms.Resize([224, 224]), transforms.ToTensor()])
    scores = {}
    with torch.no_grad():
        for path in paths:
            image = Image.open(path).convert("RGB")
            scores[str(path)] = net(prepare(image).unsqueeze(0)).item()
    return scores


def test_official_preset_scores_exactly_as_the_authors_script(cli, authors, capsys):
    weights, photos, expected = authors
    assert cli(["score", str(photos), "--weights", str(weights), "--preset", "official",
                "--batch", "2", "--format", "csv", "--quiet"]) == 0
    captured = capsys.readouterr()
    got = pd.read_csv(io.StringIO(captured.out))
    assert sorted(got["path"]) == sorted(expected)
    for path, score in zip(got["path"], got["score"]):
        assert score == pytest.approx(expected[path], abs=1e-5)
    assert f"weights {weights} (sha256 " in captured.err and "resnet50, preset official)" in \
        captured.err
    # Every row says which model made it: the weights file (resolved) and its sha256.
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert set(got["weights_sha256"]) == {digest} and set(got["preset"]) == {"official"}
    assert set(got["weights"]) == {str(weights.resolve())} and set(got["backbone"]) == {"resnet50"}


def test_rank_lists_the_best_first(cli, authors, capsys):
    weights, photos, expected = authors
    best = sorted(expected, key=expected.get, reverse=True)
    assert cli(["rank", str(photos), "--top", "2", "--weights", str(weights), "--format",
                "json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    assert [r["rank"] for r in rows] == [1, 2] and [r["path"] for r in rows] == best[:2]
    assert out["model"]["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_checkpoint_preset_is_the_default(authors, capsys, cli):
    weights, photos, _ = authors
    assert cli(["score", str(photos / "grey.jpg"), "--weights", str(weights), "--quiet"]) == 0
    assert "preset official" in capsys.readouterr().err  # authors' weights imply official


def test_rescaling_hand_values():
    ref = ScoreReference(2.96, 1.55, "paper")
    assert ref.to_100(2.96) == pytest.approx(50.0)
    assert ref.to_100(2.96 + 1.55) == pytest.approx(84.1345, abs=1e-4)
    assert ref.to_100(2.96 - 1.959964 * 1.55) == pytest.approx(2.5, abs=1e-4)
    assert ScoreReference.from_meta({}) == PAPER_REFERENCE
    own = ScoreReference.from_meta({"score_reference": {"mean": 0.0, "std": 2.0}})
    assert own.to_100(2.0) == pytest.approx(84.1345, abs=1e-4)


def test_top_k_keeps_the_best_and_reports_the_rest():
    rows = [ScoredImage("a", 1.0, 10.0, ""), ScoredImage("b", 3.0, 30.0, ""),
            ScoredImage("bad", math.nan, math.nan, "empty file (0 bytes)"),
            ScoredImage("c", 3.0, 30.0, ""), ScoredImage("d", 2.0, 20.0, "")]
    ranking = top_k(rows, 3)
    assert list(ranking.top["path"]) == ["b", "c", "d"]  # tie: the earlier first
    assert list(ranking.top["rank"]) == [1, 2, 3] and ranking.n_scored == 4
    assert ranking.skipped.values.tolist() == [["bad", "empty file (0 bytes)"]]


# --- a brightness "model": scores known by hand ----------------------------------------------

# No resize, no crop, no normalisation: pixels / 255, what torchvision's to_tensor gives.
RAW = Transform(Preset(resize=None, crop=None, flip=False, normalize=False), False, None)


class Brightness(nn.Module):
    def forward(self, images):  # (B, 3, H, W) -> (B,)
        return images.mean(dim=(1, 2, 3))


def _grey(path, level):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), level).save(path)


def test_score_and_rank_api_with_hand_scores(tmp_path):
    for name, level in [("a.png", 51), ("b.png", 204), ("c/d.png", 102)]:
        _grey(tmp_path / name, level)
    (tmp_path / "e.jpg").write_bytes(b"")
    frame = score_paths([tmp_path], Brightness(), RAW, batch=2)
    assert list(frame.columns) == ["path", "score", "score_100", "error"]
    assert frame["score"].round(6).tolist()[:3] == [0.2, 0.8, 0.4]
    assert frame["error"].tolist() == ["", "", "", "empty file (0 bytes)"]
    ranking = rank_folder(tmp_path, Brightness(), RAW, top=2)
    assert [p.rsplit("/", 1)[1] for p in ranking.top["path"]] == ["b.png", "d.png"]


def test_evaluate_pairs_counts_by_hand(tmp_path):
    images = tmp_path / "images"
    for post_id, level in [("p10", 100), ("p5", 50), ("p3", 30), ("p8", 80), ("p7", 70),
                           ("p6", 60), ("p9", 90)]:
        _grey(images / f"{post_id}.png", level)
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    pairs = pd.DataFrame({"a_post_id": ["p10", "p3", "p7", "p9", "p1", "../p9"],
                          "b_post_id": ["p5", "p8", "p6", "gone", "broken", "p5"]})
    result = evaluate_pairs(pairs, images, Brightness(), RAW, ext=".png")
    assert result["accuracy"] == pytest.approx(2 / 3) and result["n"] == 3
    assert (result["n_pairs"], result["pairs_skipped"]) == (6, 3)
    assert (result["missing"], result["unreadable"], result["unsafe"]) == (2, 1, 1)
    assert set(result["problems"]["post_id"]) == {"gone", "p1", "broken", "../p9"}


def test_evaluate_pairs_with_image_paths_from_a_posts_table(tmp_path):
    _grey(tmp_path / "images/00/P1.jpg", 200)
    _grey(tmp_path / "images/01/P2.jpg", 10)
    pairs = pd.DataFrame({"a_post_id": ["P1"], "b_post_id": ["P2"]})
    paths = {"P1": "images/00/P1.jpg", "P2": "images/01/P2.jpg"}
    result = evaluate_pairs(pairs, tmp_path, Brightness(), RAW, image_paths=paths)
    assert (result["accuracy"], result["n"]) == (1.0, 1)


# --- the command line: every bad input is reported, exit codes 0 / 0 + warning / 2 -----------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A checkpoint in our format (tinycnn, preset synthetic): fast to load and run."""
    from i2pa_core.model.scorer import build_scorer

    path = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    torch.manual_seed(0)
    torch.save({"model": build_scorer("tinycnn").state_dict(),
                "meta": {"backbone": "tinycnn", "preset": "synthetic"}}, path)
    return path


def _bytes(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


_JPEG = _bytes(Image.new("RGB", (16, 16), (200, 10, 10)), "JPEG")
_PNG = _bytes(Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 30, 3), np.uint8)),
              "PNG")
BAD_INPUTS = [
    ("corrupt.jpg", _JPEG[:20] + b"\x00garbage" * 40, ["not an image", "corrupt"]),
    ("truncated.png", _PNG[:len(_PNG) // 2], ["corrupt or truncated image"]),
    ("zero.jpg", b"", ["empty file (0 bytes)"]),
    ("text.jpg", b"hello, I am not a JPEG\n", ["not an image"]),
    ("bomb.png", _bytes(Image.new("RGB", (100, 100)), "PNG"),
     ["decompression bomb: 100x100 = 10,000 pixels exceeds the limit of 1,000"]),
]


@pytest.mark.parametrize("name, content, reasons", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_each_bad_input_is_reported_and_skipped(cli, tiny, tmp_path, capsys, name, content,
                                                reasons):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / name).write_bytes(content)
    Image.new("RGB", (16, 16), (1, 2, 3)).save(folder / "good.png")
    args = ["--weights", str(tiny), "--max-pixels", "1000", "--format", "csv"]
    assert cli(["score", str(folder), *args]) == 0
    captured = capsys.readouterr()
    line = next(x for x in captured.err.splitlines() if f"skipped {folder / name}: " in x)
    assert any(reason in line for reason in reasons), line
    assert "warning: 1 of 2 files skipped" in captured.err and "Traceback" not in captured.err
    assert pd.read_csv(io.StringIO(captured.out))["error"].notna().sum() == 1
    assert cli(["score", str(folder / name), *args]) == 2  # nothing scored
    err = capsys.readouterr().err
    assert "error: nothing could be scored (1 file skipped" in err and "Traceback" not in err


def test_cmyk_and_16_bit_images_are_scored(cli, tiny, tmp_path, capsys):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    Image.fromarray(np.full((16, 16), 40000, np.uint16)).save(tmp_path / "deep.png")
    assert cli(["score", str(tmp_path), "--weights", str(tiny), "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["rows"]
    assert len(rows) == 2 and all(r["error"] == "" for r in rows)
    assert "skipped" not in captured.err and "warning" not in captured.err


def test_malicious_checkpoint_is_refused_without_running_code(cli, tmp_path, capsys):
    sentinel = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(sentinel), "w"))

    torch.save({"model": Evil(), "meta": {}}, tmp_path / "evil.pt")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    assert cli(["score", str(tmp_path / "a.png"), "--weights", str(tmp_path / "evil.pt")]) == 2
    err = capsys.readouterr().err
    assert "evil.pt: cannot be loaded safely (weights_only=True)" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not sentinel.exists()


def test_dotdot_shortcode_never_reads_outside_the_image_folder(cli, tiny, tmp_path, capsys):
    images = tmp_path / "images"
    for name, level in [("good1", 200), ("good2", 10), ("good3", 30)]:
        _grey(images / f"{name}.jpg", level)
    _grey(tmp_path / "outside.jpg", 255)  # would be scorable if the id were followed
    table = tmp_path / "pairs.csv"
    table.write_text("a_post_id,b_post_id\ngood1,good2\n../outside,good3\n")
    assert cli(["eval-pairs", str(table), "--images", str(images), "--weights", str(tiny),
                "--quiet", "--out", str(tmp_path / "m.json")]) == 0
    captured = capsys.readouterr()
    assert ("skipped 1 unsafe image (first: ../outside: post id '../outside' is not a "
            "shortcode") in captured.err
    assert "warning: 1 of 2 pairs skipped" in captured.err and "Traceback" not in captured.err
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert (metrics["n"], metrics["unsafe"], metrics["missing"]) == (1, 1, 0)
    listing = tmp_path / "list.csv"
    listing.write_text("Low_popularity,High_popularity\ngood2,good1\n../outside,good3\n")
    assert cli(["eval-pairs", str(listing), "--images", str(images), "--weights",
                str(tiny)]) == 2
    assert "row 2, column 'Low_popularity': not a shortcode" in capsys.readouterr().err


def test_eval_pairs_on_the_released_list_format(cli, tiny, tmp_path, capsys):
    for name, level in [("BArs5gvFY7q", 20), ("7s0kDUqUCW", 220)]:
        _grey(tmp_path / f"{name}.png", level)
    listing = tmp_path / "list.csv"
    listing.write_text("Low_popularity,High_popularity\nBArs5gvFY7q,7s0kDUqUCW\nmissing1,gone2\n")
    assert cli(["eval-pairs", str(listing), "--images", str(tmp_path), "--ext", ".png",
                "--weights", str(tiny), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "n = 1 of 2 pairs" in captured.out and "missing 2" in captured.out
    # One line per kind of problem, with the count and the first one, not one per image.
    # (ids in order A then B: gone2, the High_popularity of row 2, comes first)
    assert "skipped 2 missing images (first: gone2: " in captured.err
    assert "missing1" not in captured.err


@pytest.mark.parametrize("extra, message", [
    (["--batch", "0"], "--batch must be at least 1"),
    (["--preset", "bogus"], "unknown preset 'bogus'"),
    (["--reference", "x"], "--reference expects MEAN,STD"),
])
def test_bad_arguments_exit_2(cli, tiny, tmp_path, capsys, extra, message):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    assert cli(["score", str(tmp_path / "a.png"), "--weights", str(tiny), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert cli(["rank", str(tmp_path), "--top", "0", "--weights", str(tiny)]) == 2
    assert "--top must be at least 1" in capsys.readouterr().err


def test_missing_default_weights_say_how_to_get_them(cli, tmp_path, monkeypatch, capsys):
    from i2pa_core.cli import weights

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", tmp_path / "models" / "train" / "best.pt")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    assert cli(["score", "a.png"]) == 2
    err = capsys.readouterr().err
    assert "models/train/best.pt does not exist" in err and "--weights" in err


@pytest.mark.parametrize("verb", ["score", "rank", "eval-pairs"])
def test_help_explains_every_option(cli, verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli([verb, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text
    for line in text.splitlines():
        if line.strip().startswith("--") and "  " in line.strip():
            assert line.split("  ", 1)[1].strip(), f"option without help: {line}"
