"""Image preprocessing presets, chosen by name: RGB PIL image in, ``(3, H, W)`` float tensor out.

- ``paper`` (Sec. 4.1): short side rescaled to 256, random 224x224 crop in training.
  *Departure*: validation and test use the deterministic centre 224 crop, because the paper's random
  crop at test time makes accuracy stochastic (the paper leaves the test-time crop open).
  *Addition*: ImageNet mean/std normalisation, since the backbones are ImageNet-pretrained (the
  paper does not say).
- ``official``: exactly the authors' released inference script, ``Resize([224, 224])`` then
  ``ToTensor()`` (no crop, no normalisation). Use it with their ``model-resnet50.pth``.
- ``synthetic``: the 64 px images of the simulated platform at their native size; training adds
  a random horizontal flip. No crop and no resize, because the hidden score q depends on
  off-centre placement, subject size, pixel noise and sharpness, which cropping or resampling
  would alter. ImageNet normalisation as ``paper``.
- ``small``: the CPU default for real photos of any size (``train.preset: auto`` on a crawl):
  short side rescaled to 64, random 64x64 crop and horizontal flip in training, centre crop
  otherwise; ImageNet normalisation.
- ``synthetic_96``: the platform's images resized (bilinear; upsampled from the 64 px default)
  to 96x96 for the ImageNet networks of Table 3 (EfficientNet-Lite0), whose five stride-2
  stages leave a 2x2 map of a 64 px input; no crop, so nothing the hidden score reads is cut
  away, a random horizontal flip in training, ImageNet normalisation.

Randomness is explicit: a transform draws from its ``torch.Generator`` (or the one passed per
call), never from the global RNG, so crops are reproducible and independent of worker count.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image
from torchvision.transforms import functional as TF

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preset:
    """Geometry and normalisation of one preprocessing preset."""

    resize: int | tuple[int, int] | None  # int: short side; (h, w): exact size; None: keep
    crop: int | None                      # square crop side (random in training, else centre)
    flip: bool                            # random horizontal flip in training
    normalize: bool                       # ImageNet mean/std
    random_crop_train: bool = True


PRESETS: dict[str, Preset] = {
    "paper": Preset(resize=256, crop=224, flip=False, normalize=True),
    "official": Preset(resize=(224, 224), crop=None, flip=False, normalize=False),
    "synthetic": Preset(resize=None, crop=None, flip=True, normalize=True),
    "small": Preset(resize=64, crop=64, flip=True, normalize=True),
    "synthetic_96": Preset(resize=(96, 96), crop=None, flip=True, normalize=True),
}


class Transform:
    """Callable preprocessing of one preset; picklable (DataLoader workers)."""

    def __init__(self, preset: Preset, train: bool, generator: torch.Generator | None):
        self.preset, self.train, self.generator = preset, train, generator

    def __call__(self, image: Image.Image,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """``image`` (RGB PIL) -> (3, H, W) float; ``generator`` overrides the stored one."""
        return self.normalize_batch(self.to_uint8(image, generator)[None])[0]

    def to_uint8(self, image: Image.Image,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Resize, crop and flip only: (3, H, W) uint8. Training batches stay uint8 until
        :meth:`normalize_batch` (4x less memory traffic, normalisation on the device)."""
        gen = generator if generator is not None else self.generator
        p = self.preset
        if p.resize is not None:
            size = list(p.resize) if isinstance(p.resize, tuple) else p.resize
            image = TF.resize(image, size, interpolation=TF.InterpolationMode.BILINEAR)
        if p.crop is not None:
            image = self._crop(image, p.crop, gen)
        if self.train and p.flip and _uniform(gen) < 0.5:
            image = TF.hflip(image)
        return TF.pil_to_tensor(image)  # (H, W, 3) -> (3, H, W) uint8

    def normalize_batch(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) uint8 -> float in [0, 1] (ToTensor), then ImageNet mean/std if set."""
        x = images.float().div_(255.0)
        if self.preset.normalize:
            mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
            std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
            x = x.sub_(mean).div_(std)
        return x

    def _crop(self, image: Image.Image, side: int, gen: torch.Generator | None) -> Image.Image:
        width, height = image.size
        if not (self.train and self.preset.random_crop_train):
            return TF.center_crop(image, [side, side])
        top = int(torch.randint(0, height - side + 1, (1,), generator=gen))
        left = int(torch.randint(0, width - side + 1, (1,), generator=gen))
        return TF.crop(image, top, left, side, side)


def _uniform(gen: torch.Generator | None) -> float:
    return float(torch.rand((), generator=gen))


def make_transform(preset: str, train: bool,
                   generator: torch.Generator | None = None) -> Transform:
    """The preprocessing of ``preset`` (:data:`PRESETS`) for training or evaluation.

    Args:
        preset: ``paper``, ``official``, ``synthetic``, ``small`` or ``synthetic_96``.
        train: random crop/flip where the preset has them; False is deterministic.
        generator: source of the random crop/flip; None uses torch's default generator.
    Returns:
        a callable mapping an RGB PIL image to a (3, H, W) float tensor.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return Transform(PRESETS[preset], train, generator)
