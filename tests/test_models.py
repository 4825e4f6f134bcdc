"""Backbones, offline pretrained weights, safe loading of checkpoints, preprocessing presets."""

import math
import os

import pytest
import torch
import torchvision
from PIL import Image

from i2pa_core.model.scorer import (BACKBONES, CheckpointError, PretrainedWeightsMissing, build_scorer,
                              load_scorer, pretrained_weights_file)
from i2pa_core.model.presets import IMAGENET_MEAN, IMAGENET_STD, PRESETS, make_transform


@pytest.mark.parametrize("name,size", [("smallcnn", 64), ("tinycnn", 16), ("resnet18", 32)])
def test_scorer_maps_images_to_one_score_each(name, size):
    model = build_scorer(name).eval()
    assert model(torch.rand(3, 3, size, size)).shape == (3,)


def test_head_is_one_output_with_he_init():
    torch.manual_seed(0)
    head = build_scorer("resnet18").head()
    assert (head.in_features, head.out_features) == (512, 1)
    assert torch.all(head.bias == 0)
    # He (kaiming-normal, fan_in): sd = sqrt(2 / 512) = 0.0625; 512 draws give ~3 % error
    assert head.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.2)


def test_backbone_names_and_unknown():
    assert {"alexnet", "vgg16", "resnet18", "resnet50", "resnet101"} <= set(BACKBONES)
    with pytest.raises(ValueError, match="resnet50"):
        build_scorer("resnet9000")


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda *a, **k: pytest.fail("tried to download"))
    return tmp_path


def test_pretrained_weights_come_from_the_offline_cache(torch_home):
    path = pretrained_weights_file("resnet18")
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    assert path == torch_home / "hub" / "checkpoints" / os.path.basename(weights.url)
    reference = torchvision.models.resnet18()
    torch.nn.init.constant_(reference.conv1.weight, 0.125)  # a marker a fresh model never has
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    model = build_scorer("resnet18", pretrained=True)
    assert torch.all(model.net.conv1.weight == 0.125)
    assert model.head().out_features == 1


def test_missing_pretrained_weights_fail_fast_with_the_place(torch_home):
    with pytest.raises(PretrainedWeightsMissing) as info:
        build_scorer("alexnet", pretrained=True)
    message = str(info.value)
    assert str(torch_home / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth") in message
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in message


def test_scratch_only_backbone_refuses_pretrained():
    with pytest.raises(ValueError, match="pretrained"):
        build_scorer("smallcnn", pretrained=True)


def _authors_state():
    net = torchvision.models.resnet50()
    net.fc = torch.nn.Linear(2048, 1)
    torch.nn.init.constant_(net.fc.bias, 3.0)
    return net.state_dict()


def test_authors_weights_load_into_our_scorer(tmp_path):
    path = tmp_path / "model-resnet50.pth"
    torch.save(_authors_state(), path)
    loaded, meta = load_scorer(path)
    assert loaded.head().bias.item() == 3.0
    assert meta["backbone"] == "resnet50" and meta["preset"] == "official"
    assert loaded(torch.rand(1, 3, 64, 64)).shape == (1,)


def test_our_checkpoint_round_trip(tmp_path):
    model = build_scorer("tinycnn")
    torch.nn.init.constant_(model.head().bias, -1.5)
    meta = {"backbone": "tinycnn", "preset": "synthetic"}
    torch.save({"model": model.state_dict(), "meta": meta}, tmp_path / "c.pt")
    loaded, meta = load_scorer(tmp_path / "c.pt")
    assert meta["preset"] == "synthetic" and loaded.head().bias.item() == -1.5


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("content,match", [
    (None, "no such weights file"),
    ({"fc.weight": _Evil()}, "weights_only"),
    ({"conv1.weight": torch.zeros(3)}, "does not fit resnet50"),
])
def test_bad_weights_raise_checkpoint_error_naming_the_file(tmp_path, content, match):
    path = tmp_path / "w.pth"
    if content is not None:
        torch.save(content, path)
    with pytest.raises(CheckpointError, match=match) as info:
        load_scorer(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def _solid(rgb, size):
    return Image.new("RGB", size, rgb)


def test_official_preset_is_resize_to_tensor_without_normalisation():
    x = make_transform("official", train=False)(_solid((255, 0, 51), (100, 60)))
    assert x.shape == (3, 224, 224)
    assert x[:, 0, 0].tolist() == pytest.approx([1.0, 0.0, 0.2], abs=1e-6)


def test_synthetic_preset_keeps_size_and_normalises():
    x = make_transform("synthetic", train=False)(_solid((255, 0, 51), (64, 64)))
    want = [(1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], (0 - IMAGENET_MEAN[1]) / IMAGENET_STD[1],
            (0.2 - IMAGENET_MEAN[2]) / IMAGENET_STD[2]]
    assert x.shape == (3, 64, 64) and x[:, 5, 5].tolist() == pytest.approx(want, abs=1e-5)


def test_paper_preset_random_crop_is_seeded_and_eval_is_centre():
    image = Image.frombytes("L", (400, 300), bytes(range(256)) * 468 + bytes(192)).convert("RGB")
    crop = lambda seed: make_transform("paper", True, torch.Generator().manual_seed(seed))(image)
    assert crop(1).shape == (3, 224, 224) and torch.equal(crop(1), crop(1))
    assert not torch.equal(crop(1), crop(2))
    centre = make_transform("paper", train=False)
    assert torch.equal(centre(image), centre(image))
    assert set(PRESETS) >= {"paper", "official", "synthetic"}
