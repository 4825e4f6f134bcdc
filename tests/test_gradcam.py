"""Grad-CAM on toy networks whose answer is known: the analytic CAM of a GAP-linear network."""

import numpy as np
import pytest
import torch
from torch import nn

from i2pa_core.model import gradcam as G
from i2pa_core.plots.results import overlay


class GapLinear(nn.Module):
    """conv -> global average pool -> linear -> (B,): Grad-CAM is the CAM of Zhou et al."""

    def __init__(self, conv: nn.Conv2d, weights):
        super().__init__()
        self.conv = conv
        self.fc = nn.Linear(conv.out_channels, 1, bias=True)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([weights], dtype=torch.float32))
            self.fc.bias.fill_(0.7)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3))).squeeze(1)  # (B, 3, H, W) -> (B,)


def _red_picker() -> GapLinear:
    conv = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
    return GapLinear(conv, [1.0])


def test_only_evidence_in_one_quadrant_gives_a_map_of_that_quadrant():
    image = torch.zeros(1, 3, 8, 8)
    image[0, 0, :4, :4] = 0.6          # red only in the top-left quadrant
    image[0, 2] = 1.0                  # blue everywhere, ignored by the network
    heat = G.grad_cam(_red_picker(), image)
    expected = np.zeros((8, 8))
    expected[:4, :4] = 1.0
    np.testing.assert_allclose(heat[0], expected, atol=1e-6)
    # The evidence raises the score, so nothing pulls it down: the sign = -1 map is empty.
    np.testing.assert_allclose(G.grad_cam(_red_picker(), image, sign=-1)[0], 0.0)


def test_grad_cam_equals_the_analytic_cam_of_a_gap_linear_network():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    weights = [0.8, -1.2, 0.5, 0.3]
    model = GapLinear(conv, weights)
    images = torch.rand(3, 3, 10, 12)
    with torch.no_grad():
        acts = conv(images).numpy()                                 # (B, K, H, W)
    cam = np.maximum(np.einsum("k,bkhw->bhw", np.array(weights), acts), 0.0)
    expected = cam / cam.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(G.grad_cam(model, images, layer=conv), expected, atol=1e-5)
    np.testing.assert_allclose(G.grad_cam(model, images), expected, atol=1e-5)  # default layer


def test_heatmap_is_upsampled_to_the_image_size():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(),
                        nn.Conv2d(4, 2, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(2, 1), nn.Flatten(0))
    heat = G.grad_cam(net, torch.rand(2, 3, 16, 20))
    assert heat.shape == (2, 16, 20)
    assert heat.min() >= 0.0 and heat.max() <= 1.0


def test_model_mode_and_parameter_gradients_are_left_alone():
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(2, 1), nn.Flatten(0))
    model.train()
    G.grad_cam(model, torch.rand(2, 3, 8, 8))
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_default_target_layer_choices():
    class ResLike(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 4, 3)
            self.layer1 = nn.Sequential(nn.Conv2d(4, 4, 3), nn.ReLU())
            self.layer2 = nn.Sequential(nn.Conv2d(4, 4, 3), nn.ReLU())
            self.fc = nn.Linear(4, 1)

    class Wrapper(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

    res = ResLike()
    assert G.default_target_layer(Wrapper(res)) is res.layer2
    stack = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 1))
    assert G.default_target_layer(Wrapper(stack)) is stack[2]
    with pytest.raises(ValueError, match="no Conv2d"):
        G.last_conv2d(nn.Linear(2, 1))


def test_normalise_maps_by_hand():
    maps = np.array([[[0.0, 2.0], [1.0, -1.0]], [[0.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_allclose(G.normalise_maps(maps),
                               [[[0.0, 1.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])


def test_overlay_blends_image_and_colormap():
    image = np.full((2, 2, 3), 255, np.uint8)
    heat = np.array([[0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(overlay(image, heat, alpha=0.0), 1.0)
    np.testing.assert_allclose(overlay(image, heat, alpha=1.0, cmap="gray")[..., 0], heat,
                               atol=1e-2)
    with pytest.raises(ValueError, match="sizes differ"):
        overlay(image, np.zeros((3, 3)))
