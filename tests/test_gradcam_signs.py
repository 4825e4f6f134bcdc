"""Grad-CAM of +score and of -score on a toy network whose answer is worked out by hand.

The toy network: a fixed 1x1 convolution with two channels, A_0 = red and A_1 = green, and

    score = mean of A_0 over the left half - mean of A_1 over the right half

("red on the left raises the score, green on the right lowers it"). For an H x W image the
gradient of the score is 2 / (H W) on the left half of A_0 and -2 / (H W) on the right half of
A_1, so the Grad-CAM weights (gradient averaged over all positions) are alpha = (1, -1) / (H W)
and, before the ReLU, the map is (red - green) / (H W) at every pixel; the sign = -1 map is the
ReLU of its negative. (A single-channel "left mean minus right mean" would give alpha = 0 and an
empty map for both signs: Grad-CAM averages the gradient over positions, so it only sees
position through what the channels detect.)

The image, in quadrants of 4 x 4 pixels (value of red - green):

    top-left:    red 0.6, green 0   -> +0.6      top-right:    red 0.3, green 0.1 -> +0.2
    bottom-left: red 0.6, green 0.9 -> -0.3      bottom-right: red 0,   green 0.7 -> -0.7

sign = +1 map: 0.6 top-left, 0.2 top-right, 0 elsewhere; divided by its maximum 0.6 that is
1 and 1/3, so the left half holds 1 / (1 + 1/3) = 3/4 of its mass.
sign = -1 map: 0.3 bottom-left, 0.7 bottom-right; divided by 0.7 that is 3/7 and 1, so the
right half holds 1 / (1 + 3/7) = 7/10 of its mass.
"""

import numpy as np
import pytest
import torch
from torch import nn

from i2pa_core.model import gradcam as G

H = W = 8


class LeftMinusRight(nn.Module):
    """(B, 3, H, W) -> (B,): mean of red over the left half minus mean of green over the right."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 0] = 1.0          # channel 0 = red
            self.conv.weight[1, 1] = 1.0          # channel 1 = green

    def forward(self, x):
        a = self.conv(x)                                           # (B, 2, H, W)
        half = a.shape[-1] // 2
        return a[:, 0, :, :half].mean(dim=(1, 2)) - a[:, 1, :, half:].mean(dim=(1, 2))


def _image() -> torch.Tensor:
    image = torch.zeros(1, 3, H, W)
    image[0, 0, :4, :4], image[0, 1, :4, :4] = 0.6, 0.0          # top-left
    image[0, 0, 4:, :4], image[0, 1, 4:, :4] = 0.6, 0.9          # bottom-left
    image[0, 0, :4, 4:], image[0, 1, :4, 4:] = 0.3, 0.1          # top-right
    image[0, 0, 4:, 4:], image[0, 1, 4:, 4:] = 0.0, 0.7          # bottom-right
    image[0, 2] = 1.0                                            # blue, ignored by the network
    return image


def _left_share(heat: np.ndarray) -> float:
    return float(heat[:, : W // 2].sum() / heat.sum())


def test_plus_map_is_what_raises_the_score_on_the_left():
    model = LeftMinusRight()
    heat = G.grad_cam(model, _image(), layer=model.conv, sign=1)[0]
    expected = np.zeros((H, W))
    expected[:4, :4], expected[:4, 4:] = 1.0, 1.0 / 3.0
    np.testing.assert_allclose(heat, expected, atol=1e-6)
    assert _left_share(heat) == pytest.approx(0.75, abs=1e-6)
    np.testing.assert_allclose(G.grad_cam(model, _image())[0], heat, atol=1e-7)  # defaults


def test_minus_map_is_what_lowers_the_score_on_the_right():
    model = LeftMinusRight()
    heat = G.grad_cam(model, _image(), layer=model.conv, sign=-1)[0]
    expected = np.zeros((H, W))
    expected[4:, :4], expected[4:, 4:] = 3.0 / 7.0, 1.0
    np.testing.assert_allclose(heat, expected, atol=1e-6)
    assert 1.0 - _left_share(heat) == pytest.approx(0.7, abs=1e-6)


def test_the_two_signs_are_not_the_same_map():
    model = LeftMinusRight()
    plus, minus = (G.grad_cam(model, _image(), sign=s)[0] for s in (1, -1))
    assert np.abs(plus - minus).max() > 0.5
    assert np.all(plus * minus == 0.0)           # complementary supports on the toy


def test_signs_have_disjoint_supports_on_a_random_network():
    # Same-resolution layer, so no upsampling blurs the two maps into each other: before the
    # ReLU the -1 map is the negative of the +1 map, so where one is positive the other is zero.
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 5, 3, padding=1),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 1),
                        nn.Flatten(0))
    images = torch.rand(3, 3, 12, 12)
    plus, minus = G.grad_cam(net, images, sign=1), G.grad_cam(net, images, sign=-1)
    assert plus.shape == minus.shape == (3, 12, 12)
    assert np.all(plus * minus == 0.0)
    assert not np.allclose(plus, minus)


@pytest.mark.parametrize("sign", [0, 2, -2])
def test_sign_must_be_plus_or_minus_one(sign):
    with pytest.raises(ValueError, match="sign must be"):
        G.grad_cam(LeftMinusRight(), _image(), sign=sign)


def test_fig7_examples_map_plus_score_for_high_and_minus_score_for_low(tmp_path):
    import pandas as pd
    from PIL import Image

    from i2pa_core.stages import evaluate as E

    greys = {"p0": 30, "p1": 200, "p2": 120, "p3": 90}
    for post_id, grey in greys.items():
        Image.new("RGB", (16, 16), (grey, 255 - grey, grey // 2)).save(tmp_path / f"{post_id}.png")
    posts = pd.DataFrame({"post_id": list(greys), "image": [f"{p}.png" for p in greys]})
    scores = pd.Series([0.1, 0.9, 0.5, 0.3], index=list(greys))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, padding=1),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 1), nn.Flatten(0))
    out = E.gradcam_examples(net, posts, tmp_path, scores, 2, "official")
    assert (out["high_sign"], out["low_sign"]) == (1, -1)
    np.testing.assert_array_equal(out["high_scores"], [0.9, 0.5])
    np.testing.assert_array_equal(out["low_scores"], [0.1, 0.3])
    for row, ids, sign in (("high", ["p1", "p2"], 1), ("low", ["p0", "p3"], -1)):
        tensors, _ = E.model_inputs([str(tmp_path / f"{p}.png") for p in ids], "official")
        np.testing.assert_allclose(out[f"{row}_maps"], G.grad_cam(net, tensors, sign=sign),
                                   atol=1e-6)
