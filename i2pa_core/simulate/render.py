"""Procedural images of the synthetic platform, rendered in vectorised batches.

An image is a pure function of one row of the truth table: the content category is drawn as a
recognisable shape (a face-like ellipse with eyes and mouth, a pet with ears, a plate with food,
a horizon with a sun, lines of text-like stripes, or an empty gradient), then the visual
attributes are applied in the order a camera and an app would: saturation (colourfulness), blur
(1 - sharpness), exposure, the user's colour cast (warmth: red up / blue down; tint: green),
sensor noise (from the post's own seeded generator, so batching does not matter) and
JPEG compression at the post's quality. PIL's encoder is deterministic, so identical inputs give
byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from i2pa_core.io.files import write_text
from i2pa_core.simulate.content import CATEGORIES
from i2pa_core.simulate.shapes import SHAPES, background

BATCH = 128
MANIFEST = "images.md5"  # next to images/: one 'md5  relative/path' line per file


def _luminance(img: np.ndarray) -> np.ndarray:
    """Channel mean (B, H, W, 3) -> (B, H, W, 1); slices beat a reduction over 3 items."""
    return ((img[..., 0:1] + img[..., 1:2] + img[..., 2:3]) * np.float32(1.0 / 3.0))


def _box_blur(img: np.ndarray, radius: int) -> np.ndarray:
    """Box blur of a batch (B, H, W, 3) over H and W, edges padded by replication.

    Summing 2r+1 shifted views is faster than a cumulative sum for the small radii used here.
    """
    out = img
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        window = [slice(None)] * 4
        window[axis] = slice(0, n)
        out = padded[tuple(window)].copy()
        for k in range(1, 2 * radius + 1):
            window[axis] = slice(k, k + n)
            out += padded[tuple(window)]
        out *= np.float32(1.0 / (2 * radius + 1))
    return out


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy(dtype=np.float32)[:, None, None, None]  # (B,) -> (B, 1, 1, 1)


def render_batch(rows: pd.DataFrame, size: int, cast_strength: float) -> np.ndarray:
    """Render truth-table rows as images. Returns uint8 (B, size, size, 3)."""
    grid = (np.arange(size, dtype=np.float32) + 0.5) / size
    y, x = grid[:, None], grid[None, :]  # (H, 1), (1, W)
    category = rows["category"].to_numpy()
    img = background(rows, y, x)  # (B, H, W, 3)
    for name in CATEGORIES:
        members = np.flatnonzero(category == name)
        if len(members):
            img[members] = SHAPES[name](img[members], rows.iloc[members], y, x)
    lum = _luminance(img)
    img -= lum
    img *= _column(rows, "colourfulness")
    img += lum
    sharp = _column(rows, "sharpness")
    blurred = _box_blur(img, max(1, size // 20))
    img -= blurred
    img *= sharp
    img += blurred  # sharp * img + (1 - sharp) * blurred
    warm, tint = _column(rows, "warmth")[..., 0], _column(rows, "tint")[..., 0]
    gain = np.stack([1 + cast_strength * warm, 1 + 0.5 * cast_strength * tint,
                     1 - cast_strength * warm], axis=-1)  # (B, 1, 1, 3)
    img *= gain * np.exp2(_column(rows, "exposure"))  # exposure, then the user's cast
    img += _sensor_noise(rows, size)
    np.clip(img, 0.0, 1.0, out=img)
    img *= 255.0
    img += 0.5
    return img.astype(np.uint8)


def _sensor_noise(rows: pd.DataFrame, size: int) -> np.ndarray:
    """Uniform zero-mean noise of sd ``noise`` per post, from the post's own SFC64 stream
    (seeded by ``render_seed``), so an image does not depend on its batch."""
    out = np.empty((len(rows), size, size, 3), dtype=np.float32)
    for i, key in enumerate(rows["render_seed"].to_numpy()):
        np.random.Generator(np.random.SFC64(int(key))).random(out=out[i], dtype=np.float32)
    out -= 0.5
    out *= _column(rows, "noise") * np.float32(np.sqrt(12.0))
    return out


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """Encode one (H, W, 3) uint8 image as baseline JPEG (deterministic)."""
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def render_images(posts: pd.DataFrame, truth: pd.DataFrame, out_dir, size: int,
                  cast_strength: float, progress: bool = True) -> Path:
    """Render and write the image of every post whose ``image`` path is non-empty.

    Files are written into ``images.partial/`` and moved to ``images/`` when all are done, so an
    interrupted run never leaves a half-filled image folder. Then ``images.md5`` lists the MD5
    of every file (``md5sum`` format, posts-table order): stages that read the images depend on
    that one small file instead of walking 10^5 files on every ``dvc status``.
    Returns the images folder.
    """
    out_dir = Path(out_dir)
    final, staging = out_dir / "images", out_dir / "images.partial"
    shutil.rmtree(staging, ignore_errors=True)
    wanted = np.flatnonzero(posts["image"].to_numpy() != "")
    paths = posts["image"].to_numpy()[wanted]
    rows = truth.iloc[wanted]
    for shard in sorted({p.split("/")[1] for p in paths}):
        (staging / shard).mkdir(parents=True, exist_ok=True)
    manifest = []
    bar = tqdm(total=len(wanted), desc="render images", unit="img", disable=not progress)
    for start in range(0, len(wanted), BATCH):
        batch = rows.iloc[start:start + BATCH]
        pixels = render_batch(batch, size, cast_strength)
        for img, path, quality in zip(pixels, paths[start:start + BATCH],
                                      batch["jpeg_quality"].to_numpy()):
            data = encode_jpeg(img, quality)
            with open(staging / path.split("/", 1)[1], "wb") as fh:
                fh.write(data)
            manifest.append(f"{hashlib.md5(data).hexdigest()}  {path}\n")
        bar.update(len(batch))
    bar.close()
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    write_text(out_dir / MANIFEST, "".join(manifest))
    return final
