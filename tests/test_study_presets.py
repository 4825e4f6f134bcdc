"""The ``synthetic_96`` preset of Table 3's ImageNet network (the 64 px platform images upsampled,
nothing cropped, flipped only in training) and the ``paper_lite0`` training profile."""

import numpy as np
import torch
from PIL import Image

from i2pa_core.model.presets import IMAGENET_MEAN, IMAGENET_STD, make_transform
from i2pa_core.train.config import train_config


def _image():
    pixels = np.zeros((64, 64, 3), dtype=np.uint8)
    pixels[:, :32] = (250, 10, 10)          # left half red, right half black
    return Image.fromarray(pixels)


def test_synthetic_96_upsamples_the_whole_image_without_cropping():
    image = _image()
    out = make_transform("synthetic_96", train=False)(image)
    assert out.shape == (3, 96, 96)
    expected = np.asarray(image.resize((96, 96), Image.BILINEAR), dtype=np.float32) / 255
    expected = (expected - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    assert np.allclose(out.permute(1, 2, 0).numpy(), expected, atol=1e-5)
    red = out[0]
    assert red[:, :40].mean() > 1.5 and red[:, 56:].mean() < -1.5   # both halves kept, in place
    assert torch.equal(out, make_transform("synthetic_96", train=False)(image))


def test_synthetic_96_flips_in_training_only_and_from_its_generator():
    image = _image()
    flips = []
    for seed in range(20):
        out = make_transform("synthetic_96", train=True,
                             generator=torch.Generator().manual_seed(seed))(image)
        assert out.shape == (3, 96, 96)
        flips.append(bool(out[0, :, 80:].mean() > out[0, :, :16].mean()))  # red on the right
    assert 0 < sum(flips) < 20
    again = make_transform("synthetic_96", train=True, generator=torch.Generator().manual_seed(3))
    first = make_transform("synthetic_96", train=True, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again(image), first(image))


def test_paper_lite0_profile_is_the_paper_with_efficientnet_lite0():
    cfg, paper = train_config(profile="paper_lite0"), train_config(profile="paper")
    assert (cfg.backbone, cfg.pretrained, cfg.preset) == ("efficientnet_lite0", True, "paper")
    assert (cfg.lr, cfg.lr_head, cfg.lr_decay, cfg.batch_pairs) == (1e-5, 1e-4, 0.95, 64)
    assert {k: v for k, v in vars(cfg).items() if k != "backbone"} == \
        {k: v for k, v in vars(paper).items() if k != "backbone"}
