"""Absolute-popularity ablation: hand-computed features and report, layer sizes, a toy fit that
must find the signal, and seed determinism."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from i2pa_core.evaluate import popularity_mlp as P


def _toy_posts() -> pd.DataFrame:
    return pd.DataFrame({
        "post_id": ["p1", "p2", "p3"],
        "followers": [0, 9, 99],
        "followings": [1, 3, 7],
        "user_posts": [0, 19, 4],
        "caption": ["", "#a #A @bob. nice day", "hello #x @y @z don't \U0001F642"],
    })


def test_nonvisual_features_by_hand():
    got = P.nonvisual_features(_toy_posts())
    # p2: #a and #A are two hashtags (multiset), one mention, words "nice day";
    # p3: one hashtag, two mentions, words "hello" and "don't" (the emoji is no word).
    counts = np.array([[0, 1, 0, 0, 0, 0],
                       [9, 3, 19, 2, 1, 2],
                       [99, 7, 4, 1, 2, 2]], dtype=float)
    assert list(got.columns) == list(P.FEATURES)
    np.testing.assert_allclose(got.to_numpy(), np.log(1.0 + counts), rtol=1e-12)


def test_nonvisual_features_need_the_user_columns():
    with pytest.raises(ValueError, match="followers"):
        P.nonvisual_features(_toy_posts().drop(columns="followers"))


def test_mlp_is_7_256_128_64_1():
    model = P.build_popularity_mlp(P.MLPConfig(backbone="tinycnn"), seed=0)
    shapes = [tuple(m.weight.shape) for m in model.mlp if isinstance(m, torch.nn.Linear)]
    assert shapes == [(256, 7), (128, 256), (64, 128), (1, 64)]
    pred, score = model(torch.zeros(2, 3, 16, 16), torch.zeros(2, 6))
    assert pred.shape == score.shape == (2,)


def _toy_split(rng, n):
    features = rng.normal(size=(n, 6)).astype(np.float32)
    target = 0.9 * features[:, 0] + 0.1 * rng.normal(size=n).astype(np.float32)
    images = torch.from_numpy(rng.integers(0, 256, size=(n, 3, 8, 8), dtype=np.uint8))
    return {"images": images, "features": torch.from_numpy(features),
            "target": torch.from_numpy(target)}


def test_toy_fit_recovers_a_feature_driven_target():
    rng = np.random.default_rng(3)
    train, val = _toy_split(rng, 256), _toy_split(rng, 128)
    cfg = P.MLPConfig(backbone="tinycnn", epochs=8, batch_size=32, lr=5e-3)
    result = P.fit(P.build_popularity_mlp(cfg, seed=1), train, val, cfg, seed=1)
    pred, _ = P.predict(result.model, val["images"], val["features"], cfg)
    assert np.corrcoef(pred, val["target"].numpy())[0, 1] > 0.8
    assert result.history["val_mse"].iloc[result.best_epoch] == result.history["val_mse"].min()
    assert len(result.history) == 8


def _toy_platform(tmp_path):
    """Two users, 24 posts of 16 px; likes follow followers and image brightness."""
    rng = np.random.default_rng(0)
    n = 24
    brightness = rng.integers(20, 235, n)
    for k, level in enumerate(brightness):
        pixels = np.full((16, 16, 3), level, dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"p{k}.png")
    followers = np.where(np.arange(n) < 12, 100, 10_000)
    posts = pd.DataFrame({
        "post_id": [f"p{k}" for k in range(n)], "followers": followers, "followings": 50,
        "user_posts": 300, "caption": ["#tag nice"] * n, "image": [f"p{k}.png" for k in range(n)],
        "likes": np.rint(followers * 0.05 * np.exp(brightness / 100)).astype(int)})
    split = ["train"] * 8 + ["val"] * 2 + ["test"] * 2
    pairs = pd.DataFrame({"a_post_id": [f"p{k}" for k in range(0, n, 2)],
                          "b_post_id": [f"p{k}" for k in range(1, n, 2)], "split": split})
    return posts, pairs


def test_run_ablation_is_deterministic_from_the_seed(tmp_path):
    posts, pairs = _toy_platform(tmp_path)
    cfg = P.MLPConfig(backbone="tinycnn", epochs=2, batch_size=4)
    first, _ = P.run_ablation(posts, pairs, tmp_path, cfg, seed=5)
    second, _ = P.run_ablation(posts, pairs, tmp_path, cfg, seed=5)
    other, _ = P.run_ablation(posts, pairs, tmp_path, cfg, seed=6)
    assert len(first) == 24 and set(first["split"]) == {"train", "val", "test"}
    np.testing.assert_array_equal(first["prediction"], second["prediction"])
    np.testing.assert_array_equal(first["image_score"], second["image_score"])
    assert not np.array_equal(first["prediction"], other["prediction"])
    likes = posts.set_index("post_id").loc[first["post_id"], "likes"].to_numpy()
    np.testing.assert_allclose(first["log_likes"], np.log1p(likes))


def test_ablation_report_by_hand():
    predictions = pd.DataFrame({
        "post_id": ["a1", "b1", "a2", "b2", "a3", "b3", "t1", "t2"],
        "split": ["test"] * 6 + ["train"] * 2,
        "log_likes": [3.0, 1.0, 2.0, 1.0, 4.0, 0.0, 1.0, 2.0],
        "prediction": [2.0, 1.0, 0.5, 1.0, 3.0, 3.0, 1.0, 3.0],
        "image_score": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})
    pairs = pd.DataFrame({"a_post_id": ["a1", "a2", "a3"], "b_post_id": ["b1", "b2", "b3"],
                          "split": "test"})
    reference = pd.DataFrame({"post_id": ["a1", "b1", "a2", "b2", "a3", "b3"],
                              "score": [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]})
    report = P.ablation_report(predictions, pairs, reference)
    # Prediction: pair 1 right, pair 2 wrong, pair 3 a tie -> (1 + 0 + 0.5) / 3.
    assert report["accuracy"] == pytest.approx(50.0)
    # On the training posts f falls as the prediction rises, so f is oriented by -1: every test
    # pair, with f(A) > f(B), is then ranked wrong.
    assert report["image_score_accuracy"] == pytest.approx(0.0)
    assert report["reference_accuracy"] == pytest.approx(200 / 3)
    # Only the ablation right: pair 1; only the reference right: pairs 2 and 3 (tie = not right).
    assert (report["mcnemar"]["b"], report["mcnemar"]["c"]) == (1, 2)
    assert report["pearson_train"] == pytest.approx(1.0)
    test_x, test_y = [2.0, 1.0, 0.5, 1.0, 3.0, 3.0], [3.0, 1.0, 2.0, 1.0, 4.0, 0.0]
    assert report["pearson_test"] == pytest.approx(np.corrcoef(test_x, test_y)[0, 1])
    assert report["n_pairs"] == 3
