"""Safe image input: colour conversions by hand values, every bad-file class, path containment."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from i2pa_core.io.images import (ImageError, UnsafePathError, contained_path, image_for_id,
                              iter_image_files, open_rgb, to_rgb)


def _png_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **kwargs)
    return buffer.getvalue()


def _pixel(image: Image.Image, xy=(0, 0)) -> tuple:
    return image.convert("RGB").getpixel(xy) if image.mode != "RGB" else image.getpixel(xy)


# --- colour conversions (hand values) -------------------------------------------------------

def test_transparent_pixels_are_composited_on_white():
    rgba = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    rgba.putpixel((1, 0), (0, 0, 0, 255))
    out = to_rgb(rgba)
    assert out.mode == "RGB"
    assert out.getpixel((0, 0)) == (255, 255, 255)   # fully transparent -> white background
    assert out.getpixel((1, 0)) == (0, 0, 0)         # opaque black stays black


def test_half_transparent_black_on_white_is_mid_grey():
    out = to_rgb(Image.new("LA", (1, 1), (0, 128)))
    # 0 * 128/255 + 255 * (1 - 128/255) = 127
    assert all(abs(v - 127) <= 1 for v in out.getpixel((0, 0)))


def test_palette_with_transparency_key_uses_white():
    pal = Image.new("P", (2, 1), 0)
    pal.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    pal.putpixel((1, 0), 1)
    pal.info["transparency"] = 0
    out = to_rgb(pal)
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((1, 0)) == (200, 100, 50)


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I;16")
    out = open_rgb(path)
    assert [out.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (100, 100, 100),
                                                       (255, 255, 255)]


def test_cmyk_and_grey_become_rgb(tmp_path):
    cmyk = Image.new("CMYK", (2, 1), (255, 0, 0, 0))   # pure cyan
    cmyk.putpixel((1, 0), (0, 0, 0, 255))              # pure black
    cmyk.save(tmp_path / "cmyk.tif")
    out = open_rgb(tmp_path / "cmyk.tif")
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (0, 255, 255)
    assert out.getpixel((1, 0)) == (0, 0, 0)
    assert to_rgb(Image.new("L", (1, 1), 77)).getpixel((0, 0)) == (77, 77, 77)
    assert to_rgb(Image.new("1", (1, 1), 1)).getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (4, 2), (0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    (tmp_path / "phone.png").write_bytes(_png_bytes(image, exif=exif))
    out = open_rgb(tmp_path / "phone.png")
    assert out.size == (2, 4)                   # portrait once upright
    assert out.getpixel((1, 0)) == (255, 0, 0)  # top-left went to the top-right corner


# --- bad files: one clear reason each --------------------------------------------------------

def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 30, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, reason", [
    ("zero.jpg", b"", "empty file (0 bytes)"),
    ("text.jpg", b"just some text, not a picture\n", "not an image"),
    ("corrupt.jpg", _jpeg_bytes()[:20] + b"\x00garbage" * 40, "image"),
    ("truncated.png", _png_bytes(Image.new("RGB", (64, 64), (1, 2, 3)))[:60],
     "corrupt or truncated image"),
    ("truncated.jpg", _jpeg_bytes()[:300], "corrupt or truncated image"),
])
def test_bad_files_raise_a_one_line_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError) as error:
        open_rgb(path)
    assert reason in str(error.value) and "\n" not in str(error.value)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    Image.new("RGB", (100, 100)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="decompression bomb: 100x100 = 10,000 pixels exceeds "
                                         "the limit of 9,999"):
        open_rgb(tmp_path / "big.png", max_pixels=9_999)
    assert open_rgb(tmp_path / "big.png", max_pixels=10_000).size == (100, 100)


@pytest.mark.parametrize("limit", [6_000, 4_000])  # warning (> limit) and error (> 2 x limit)
def test_pillow_bomb_checks_are_caught(tmp_path, monkeypatch, limit):
    Image.new("RGB", (100, 100)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ImageError, match="decompression bomb"):
        open_rgb(tmp_path / "big.png")


def test_eps_is_not_handed_to_ghostscript(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    with pytest.raises(ImageError, match="not an image"):
        open_rgb(tmp_path / "x.jpg")


# --- paths never leave the image folder ------------------------------------------------------

@pytest.mark.parametrize("name, why", [
    ("../secret.jpg", "'..'"), ("a/../../x.jpg", "'..'"), ("/etc/passwd", "absolute"),
    ("", "empty"), ("a\x00b", "NUL"),
])
def test_contained_path_refuses_escapes(tmp_path, name, why):
    with pytest.raises(UnsafePathError, match=why):
        contained_path(tmp_path, name)


def test_contained_path_refuses_escaping_symlink(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside.jpg"
    root.mkdir()
    outside.write_bytes(b"x")
    os.symlink(outside, root / "link.jpg")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        contained_path(root, "link.jpg")
    (root / "sub").mkdir()
    assert contained_path(root, "sub/a.jpg") == (root / "sub/a.jpg").resolve()


def test_image_for_id_accepts_only_shortcodes(tmp_path):
    assert image_for_id(tmp_path, "BArs5gvFY7q", ".png") == (tmp_path / "BArs5gvFY7q.png").resolve()
    for bad in ("../x", "a/b", "x.y", ""):
        with pytest.raises(UnsafePathError, match="not a shortcode"):
            image_for_id(tmp_path, bad)
    with pytest.raises(UnsafePathError, match="path separator"):
        image_for_id(tmp_path, "abc", "/../../x")


def test_walk_reports_every_file_it_skips(tmp_path):
    root = tmp_path / "photos"
    (root / "b_sub").mkdir(parents=True)
    for name in ("c.jpg", "a.PNG", "b_sub/d.jpeg", "notes.txt"):
        (root / name).write_bytes(b"x")
    (tmp_path / "secret.jpg").write_bytes(b"x")
    os.symlink(tmp_path / "secret.jpg", root / "escape.jpg")
    os.symlink(root / "b_sub", root / "loop")
    found = [(p.relative_to(root).as_posix(), why) for p, why in iter_image_files([root])]
    assert found == [
        ("a.PNG", None), ("b_sub/d.jpeg", None), ("c.jpg", None),
        ("escape.jpg", f"symlink leads outside {root.resolve()}"),
        ("loop", "symlinked folder (not followed)"),
        ("notes.txt", "not an image file name (extension '.txt')")]
    missing = list(iter_image_files([tmp_path / "nope.jpg"]))
    assert missing == [(tmp_path / "nope.jpg", "no such file or folder")]
