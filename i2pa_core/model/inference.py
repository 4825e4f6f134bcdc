"""The one path from image files to scores: decode, batch, forward (paper Sec. 3.2).

At test time one stream of the Siamese network scores one image: f(x) for a scorer
``(B, 3, H, W) -> (B,)``. Training validation, the evaluation stage, the generalisation runs, the
absolute-popularity MLP's images and the ``i2pa`` scoring verbs all go through here:

* :func:`decode_uint8`: a file -> ``(3, H, W)`` uint8 by a preset's deterministic geometry
  (resize, crop), :class:`ImageFiles` the same as a Dataset for batched loading;
* :func:`forward_scores`: a uint8 batch -> normalised (the preset's ``normalize_batch``),
  channels-last, scored under ``inference_mode`` (bf16 autocast on CUDA when asked);
* :func:`score_images`: both, over a DataLoader;
* :func:`pair_logit`: the Siamese step O_AB = f(A) - f(B) of Eq. 6-9, shared by training and
  evaluation.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from i2pa_core.io.images import open_rgb
from i2pa_core.model.presets import Transform, make_transform


def decode_uint8(path, transform: Transform, max_pixels: int | None = None) -> torch.Tensor:
    """One image file through the preset's geometry: ``(3, H, W)`` uint8 (images.ImageError
    if it does not decode)."""
    image = open_rgb(path) if max_pixels is None else open_rgb(path, max_pixels)
    return transform.to_uint8(image)


class ImageFiles(Dataset):
    """Images by path for scoring (deterministic transform): index -> (3, H, W) uint8."""

    def __init__(self, paths, transform: Transform):
        self.paths, self.transform = list(paths), transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        return decode_uint8(self.paths[index], self.transform)


def forward_scores(model: torch.nn.Module, images: torch.Tensor, transform: Transform,
                   device: torch.device, amp: bool = False) -> torch.Tensor:
    """Scores of one uint8 batch, ``(B, 3, H, W) -> (B,)`` float32 on the CPU, no gradients."""
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16,
                                                enabled=amp and device.type == "cuda"):
        images = images.to(device, non_blocking=True)  # (B, 3, H, W) uint8
        images = transform.normalize_batch(images).contiguous(memory_format=torch.channels_last)
        return model(images).reshape(-1).float().cpu()  # (B, 3, H, W) -> (B,)


def score_images(model: torch.nn.Module, paths, preset: str, batch: int = 256,
                 device: str | torch.device = "cpu", num_workers: int = 0,
                 amp: bool = False) -> np.ndarray:
    """Scores of image files with the deterministic (evaluation) transform of ``preset``.

    Args:
        model: a scorer ``(B, 3, H, W) -> (B,)``; put in eval mode here.
        paths: image files; every one must decode (images.ImageError otherwise).
        amp: bf16 autocast on CUDA.
    Returns:
        (N,) float64 scores in the order of ``paths``.
    """
    device = torch.device(device)
    transform = make_transform(preset, train=False)
    loader = DataLoader(ImageFiles(paths, transform), batch_size=batch,
                        num_workers=num_workers, pin_memory=device.type == "cuda")
    model.eval()
    out = [forward_scores(model, images, transform, device, amp) for images in loader]
    return torch.cat(out).double().numpy() if out else np.zeros(0)


def pair_logit(f: torch.nn.Module, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """O_AB = f(A) - f(B) (Eq. 6-9): the Siamese network's output for pairs (A more popular).

    ``a``, ``b``: ``(B, 3, H, W)`` batches of the two images; one scorer with shared weights
    scores both. Returns ``(B,)``; sigmoid(O_AB) is the predicted P(Q_A >= Q_B).
    """
    return f(a) - f(b)  # (B,) - (B,) -> (B,)
