"""A real-format crawl for tests, made without the simulator: posts of several users over months,
captions with hashtags and mentions, a JPEG folder of natural photos (crops of the scikit-image
sample photos, at varied sizes), some images missing, some truncated and one tiny
(:func:`break_images`), and no follower columns. The posts table follows README "Bring your own data" (CSV)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
          "stereo_motorcycle", "colorwheel", "retina", "camera", "coins", "moon", "clock",
          "grass", "gravel", "brick", "horse", "cell")
CAPTIONS = ("sunday walk #city @anna", "coffee time #morning", "new lens #photo #street",
            "by the sea #summer @ben", "", "home #cozy", "the old bridge #city")


def _photos() -> list[np.ndarray]:
    import skimage.data

    out = []
    for name in PHOTOS:
        image = getattr(skimage.data, name)()
        image = image[0] if isinstance(image, tuple) else image
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        out.append(np.ascontiguousarray(image[..., :3]).astype(np.uint8))
    return out


def _jpeg(photo: np.ndarray, rng: np.random.Generator) -> bytes:
    """A random crop of ``photo``, flipped, tinted and resized to a varied size, as JPEG."""
    h, w = photo.shape[:2]
    ch, cw = int(h * rng.uniform(0.5, 1.0)), int(w * rng.uniform(0.5, 1.0))
    top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    crop = photo[top:top + ch, left:left + cw].astype(np.float32)
    crop = np.clip(crop * rng.uniform(0.7, 1.3, size=3), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    side = int(rng.integers(90, 260))
    image = Image.fromarray(crop).resize((side, int(side * rng.uniform(0.7, 1.4))))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(70, 95)))
    return buffer.getvalue()


def build_crawl(root: Path, n_users: int = 8, days: int = 150, seed: int = 0) -> int:
    """Write ``root/posts.csv`` and ``root/images/<user>/<post>.jpg``; return the post count.

    Each user posts about every 1.5 days for ``days`` days with a few habitual captions, and
    likes vary widely within a user, so there are PDIPs. The crawl ended 45 days after the last
    upload. Every image is a valid JPEG until :func:`break_images` spoils some.
    """
    rng = np.random.default_rng(seed)
    photos = _photos()
    images = root / "images"
    rows = []
    start = np.datetime64("2021-01-04T08:00:00")
    crawl_day = start + np.timedelta64(days + 45, "D")
    for u in range(n_users):
        user = f"user{u:02d}"
        (images / user).mkdir(parents=True, exist_ok=True)
        base = rng.uniform(4.5, 7.0)   # ln of a typical like count
        t = 0.0
        while t < days:
            post = f"p{u:02d}{len(rows):05d}"
            upload = start + np.timedelta64(int(t * 86400), "s")
            media = rng.choice(["image", "carousel", "video"], p=[0.85, 0.1, 0.05])
            caption = CAPTIONS[int(rng.integers(0, 3)) + 2 * (u % 3)]
            likes = int(np.exp(base + rng.normal(0, 0.9)))
            rows.append({"post_id": post, "user_id": user, "upload_time": f"{upload}Z",
                         "download_time": f"{crawl_day}Z", "likes": likes, "caption": caption,
                         "media_type": media, "image": f"{user}/{post}.jpg"})
            data = _jpeg(photos[int(rng.integers(0, len(photos)))], rng)
            (images / user / f"{post}.jpg").write_bytes(data)
            t += rng.exponential(1.5)
    with open(root / "posts.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def break_images(root: Path, missing=(), truncated=(), tiny=()) -> None:
    """Spoil the images of some posts (ids): delete them, cut them to 200 bytes, or replace them
    by a 1 px JPEG."""
    images = root / "images"
    for post in missing:
        next(images.glob(f"*/{post}.jpg")).unlink()
    for post in truncated:
        path = next(images.glob(f"*/{post}.jpg"))
        path.write_bytes(path.read_bytes()[:200])
    for post in tiny:
        Image.new("RGB", (1, 1), (200, 30, 30)).save(next(images.glob(f"*/{post}.jpg")),
                                                    format="JPEG")
