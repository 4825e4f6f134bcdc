"""Grad-CAM heatmaps of a scorer (paper Fig. 7; Selvaraju et al., ICCV 2017).

For a scorer f: ``(B, 3, H, W) -> (B,)`` and a layer with activations A (K channels):

    alpha_k = mean over positions of d f / d A_k,   L = ReLU(sum_k alpha_k A_k)

upsampled bilinearly to the image size and divided by its per-image maximum, so it lies in
[0, 1] (an all-zero map stays zero). For a network that ends in global average pooling and a
linear layer, L is the class activation map of Zhou et al. (CVPR 2016) up to a constant factor.

``sign`` picks which way the map explains the score: ``+1`` (the default) maps the gradient of
f, the evidence that *raises* the score (used for high-score images); ``-1`` maps the gradient
of -f, the evidence that *lowers* it (used for low-score images: a +1 map of a low score shows
what little raises it, not why it is low). The weights flip sign with f, so before the ReLU the
-1 map is exactly the negative of the +1 map: at the layer's resolution the two maps never
overlap.

The default layer is the backbone's last convolutional block (:func:`default_target_layer`):
``layer4`` of a ResNet, the last ``Conv2d`` of a plain stack (the small CNNs, AlexNet, VGG).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _has_conv(module: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in module.modules())


def last_conv2d(model: nn.Module) -> nn.Conv2d:
    """The last ``nn.Conv2d`` in registration order (ValueError if there is none)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no Conv2d layer")
    return convs[-1]


def default_target_layer(model: nn.Module) -> nn.Module:
    """The last convolutional block: descend through wrappers that hold the convolutions in a
    single child, then take the last child holding a convolution: a block such as ``layer4``
    of a ResNet, or the last Conv2d itself when the convolutions sit side by side in one stack
    (the small CNNs; AlexNet's and VGG's ``features``)."""
    module = model
    while True:
        holders = [c for c in module.children() if _has_conv(c)]
        if not holders:
            return last_conv2d(model)
        if len(holders) == 1 and not isinstance(holders[0], nn.Conv2d):
            module = holders[0]
            continue
        return holders[-1]


def grad_cam(model: nn.Module, images: torch.Tensor, layer: nn.Module | None = None,
             sign: int = 1) -> np.ndarray:
    """Grad-CAM of ``sign`` times each image's score: (B, 3, H, W) -> (B, H, W) in [0, 1].

    ``sign`` is +1 (what raises the score) or -1 (what lowers it). The model runs in eval mode (batch norm with running statistics, so images do not
    interact); its previous mode is restored, and parameter gradients are left untouched.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 (what raises the score) or -1 (what lowers it), "
                         f"got {sign!r}")
    layer = default_target_layer(model) if layer is None else layer
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            scores = model(images)                                    # (B, 3, H, W) -> (B,)
            activations = captured[-1]                                # (B, K, h, w)
            objective = (sign * scores).sum()
            grads, = torch.autograd.grad(objective, activations)
    finally:
        handle.remove()
        model.train(was_training)
    weights = grads.mean(dim=(2, 3), keepdim=True)                    # (B, K, 1, 1)
    cam = F.relu((weights * activations).sum(dim=1, keepdim=True))    # (B, 1, h, w)
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)
    return normalise_maps(cam[:, 0].detach().cpu().numpy())


def normalise_maps(maps: np.ndarray) -> np.ndarray:
    """Divide each non-negative map (B, H, W) by its maximum; all-zero maps stay zero."""
    maps = np.maximum(np.asarray(maps, dtype=np.float64), 0.0)
    peak = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0)


