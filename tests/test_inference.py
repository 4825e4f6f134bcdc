"""The one scoring path (decode, batch, forward) and the Siamese step, against hand values."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from i2pa_core.model.inference import forward_scores, pair_logit, score_images
from i2pa_core.model.presets import Preset, Transform, make_transform


class MeanPixel(nn.Module):
    """f(x) = mean of the input tensor per image."""

    def forward(self, images):
        return images.mean(dim=(1, 2, 3))


def _png(path, value):
    Image.fromarray(np.full((4, 4, 3), value, np.uint8)).save(path)
    return path


def test_score_images_normalises_like_the_preset(tmp_path):
    paths = [_png(tmp_path / f"{v}.png", v) for v in (0, 51, 255)]
    scores = score_images(MeanPixel(), paths, "synthetic", batch=2)
    # synthetic: x / 255, then ImageNet mean/std per channel; the mean over channels by hand.
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = [float(np.mean((v / 255 - mean) / std)) for v in (0, 51, 255)]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_forward_scores_of_a_uint8_batch_without_normalisation():
    raw = Transform(Preset(resize=None, crop=None, flip=False, normalize=False), False, None)
    batch = torch.tensor([[[[0, 255]]] * 3, [[[51, 51]]] * 3], dtype=torch.uint8)  # (2, 3, 1, 2)
    out = forward_scores(MeanPixel(), batch, raw, torch.device("cpu"))
    np.testing.assert_allclose(out.numpy(), [0.5, 0.2], rtol=1e-6)
    assert out.dtype == torch.float32 and out.shape == (2,)


def test_pair_logit_is_f_a_minus_f_b_with_shared_weights():
    f = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        f.weight[:] = torch.tensor([[1.0, 2.0]])
    scorer = lambda x: f(x).squeeze(1)  # noqa: E731
    a = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    b = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(pair_logit(scorer, a, b).detach().numpy(), [1.0, -3.0])
    scores = np.array([3.0, 1.0, 2.0])  # a lookup of scores computed once per image
    np.testing.assert_array_equal(pair_logit(scores.__getitem__, np.array([0, 2]),
                                             np.array([1, 0])), [2.0, -1.0])


def test_the_eval_transform_is_deterministic():
    image = Image.fromarray(np.arange(300 * 260 * 3, dtype=np.uint32).reshape(300, 260, 3)
                            .astype(np.uint8))
    t = make_transform("paper", train=False)
    assert torch.equal(t.to_uint8(image), t.to_uint8(image))
    assert t.to_uint8(image).shape == (3, 224, 224)
    with pytest.raises(ValueError, match="unknown preset"):
        make_transform("nope", train=False)
