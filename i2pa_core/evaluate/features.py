"""Hand-crafted image features, vectorised over batches (the Khosla14 baseline of paper Fig. 4).

Khosla et al. (WWW 2014) predicted popularity from low-level colour, gradient and texture
features, GIST and semantic features. The low-level part is rebuilt here for small images:

- joint HSV colour histogram (8 x 3 x 3 bins);
- colour patches: mean and variance of R, G, B on a 4 x 4 grid of patches;
- gradients: magnitude-weighted histogram of unsigned orientations on a 2 x 2 grid, plus a
  histogram of gradient magnitudes with fixed edges;
- texture: rotation-invariant uniform LBP (P = 8, R = 1, the "riu2" code: P + 2 labels);
- GIST-like: mean amplitude of a 3-scale x 4-orientation Gabor bank on a 4 x 4 grid.

The semantic (object detector) features have no counterpart: the synthetic images have no
ImageNet classes. Also here: the three measurements behind the aesthetics proxy (colourfulness,
sharpness, exposure), see :mod:`i2pa_core.evaluate.baselines`.

Every function takes a batch ``(B, H, W, 3)`` of floats in [0, 1] (see :func:`as_float_images`)
and returns ``(B, D)``; images must be at least 8 px and are cropped to a multiple of the grid.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

HSV_BINS = (8, 3, 3)
PATCH_GRID = 4
GRADIENT_GRID = 2
N_ORIENTATIONS = 8
# Fixed gradient-magnitude edges (luminance units per pixel, central differences).
MAGNITUDE_EDGES = np.array([0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, np.inf])
GABOR_FREQUENCIES = (0.25, 0.125, 0.0625)   # cycles / pixel, one octave apart
GABOR_ORIENTATIONS = 4
GIST_GRID = 4
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601
# The eight neighbours at radius 1, in circular order (row, column offsets).
_RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def as_float_images(images) -> np.ndarray:
    """uint8 (B, H, W, 3) -> float32 in [0, 1]; float input is checked and returned as float32."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected a batch (B, H, W, 3), got shape {images.shape}")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return images.astype(np.float32, copy=False)


def luminance(images: np.ndarray) -> np.ndarray:
    """Rec. 601 luma, (B, H, W, 3) -> (B, H, W)."""
    return images @ _LUMA


def grid_mean(values: np.ndarray, grid: int, axis: int = 1) -> np.ndarray:
    """Mean over a grid x grid tiling of the spatial axes (axis, axis + 1), remainder cropped.

    (B, H, W, C) -> (B, grid * grid, C) with axis=1; (B, F, H, W) -> (B, F, grid * grid) with 2.
    """
    lead, (h, w), rest = values.shape[:axis], values.shape[axis:axis + 2], values.shape[axis + 2:]
    ph, pw = h // grid, w // grid
    crop = values[(slice(None),) * axis + (slice(0, ph * grid), slice(0, pw * grid))]
    tiles = crop.reshape(*lead, grid, ph, grid, pw, *rest)
    return tiles.mean(axis=(axis + 1, axis + 3)).reshape(*lead, grid * grid, *rest)


def rgb_to_hsv(images: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in [0, 1] -> HSV in [0, 1] (hue 0 = red), as :func:`colorsys.rgb_to_hsv`."""
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    c = v - np.minimum(np.minimum(r, g), b)
    inv_c = np.divide(1.0, c, out=np.zeros_like(c), where=c > 0)
    s = np.divide(c, v, out=np.zeros_like(c), where=v > 0)
    h = np.where(v == r, (g - b) * inv_c,
                 np.where(v == g, 2.0 + (b - r) * inv_c, 4.0 + (r - g) * inv_c)) / 6.0
    h += h < 0            # red with more blue than green: (g - b) / c < 0 wraps to just below 1
    h[c == 0] = 0.0       # greys have no hue
    return np.stack([h, s, v], axis=-1)


def colour_histogram(images: np.ndarray, bins: tuple[int, int, int] = HSV_BINS) -> np.ndarray:
    """Joint HSV histogram, shares of pixels per (h, s, v) bin: (B, H, W, 3) -> (B, prod(bins))."""
    hsv = rgb_to_hsv(images)
    idx = np.zeros(hsv.shape[:3], dtype=np.int64)
    for channel, n in enumerate(bins):
        idx = idx * n + np.minimum((hsv[..., channel] * n).astype(np.int64), n - 1)
    return _per_image_histogram(idx, int(np.prod(bins)))


def colour_patches(images: np.ndarray, grid: int = PATCH_GRID) -> np.ndarray:
    """Mean and variance of R, G, B in each patch of a grid: -> (B, 2 * grid * grid * 3)."""
    mean = grid_mean(images, grid)                      # (B, grid^2, 3)
    var = grid_mean(images ** 2, grid) - mean ** 2
    return np.concatenate([mean.reshape(len(images), -1),
                           np.maximum(var, 0.0).reshape(len(images), -1)], axis=1)


def gradients(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradients (one-sided at the border) of (B, H, W): (gx, gy)."""
    return np.gradient(gray, axis=2), np.gradient(gray, axis=1)


def gradient_features(images: np.ndarray, grid: int = GRADIENT_GRID,
                      n_orientations: int = N_ORIENTATIONS) -> np.ndarray:
    """Magnitude summed per (grid cell, orientation bin), divided by the pixel count, and the
    share of pixels per magnitude bin: -> (B, grid * grid * n_orientations + 8).

    Orientation is unsigned, theta in [0, pi) with 0 along +x (a horizontal intensity ramp).
    Cells are the grid tiling, the last row / column of cells taking any remainder.
    """
    gx, gy = gradients(luminance(images))
    h, w = gx.shape[1:]
    magnitude = np.hypot(gx, gy)
    theta = np.arctan2(gy, gx) % np.pi
    obin = np.minimum((theta / np.pi * n_orientations).astype(np.int64), n_orientations - 1)
    cell_row = np.minimum(np.arange(h) // (h // grid), grid - 1)[:, None]
    cell_col = np.minimum(np.arange(w) // (w // grid), grid - 1)[None, :]
    label = (cell_row * grid + cell_col) * n_orientations + obin      # (B, H, W)
    orient = _per_image_histogram(label, grid * grid * n_orientations, weights=magnitude)
    mbin = np.searchsorted(MAGNITUDE_EDGES, magnitude, side="right") - 1
    return np.concatenate([orient, _per_image_histogram(mbin, len(MAGNITUDE_EDGES) - 1)], axis=1)


def lbp_codes(gray: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP (P = 8, R = 1, square ring) of the interior pixels.

    A neighbour counts 1 when it is >= the centre. A pattern with at most two 0/1 transitions
    around the ring gets the number of ones (0..8); any other pattern gets 9.
    (B, H, W) -> (B, H - 2, W - 2) integer labels.
    """
    h, w = gray.shape[1:]
    centre = gray[:, 1:h - 1, 1:w - 1]
    bits = np.stack([gray[:, 1 + dr:h - 1 + dr, 1 + dc:w - 1 + dc] >= centre
                     for dr, dc in _RING], axis=-1).astype(np.int8)
    transitions = np.abs(bits - np.roll(bits, 1, axis=-1)).sum(axis=-1)
    return np.where(transitions <= 2, bits.sum(axis=-1), 9)


def lbp_histogram(images: np.ndarray) -> np.ndarray:
    """Share of interior pixels per riu2 LBP label: (B, H, W, 3) -> (B, 10)."""
    return _per_image_histogram(lbp_codes(luminance(images)), 10)


def gabor_bank(height: int, width: int, frequencies=GABOR_FREQUENCIES,
               n_orientations: int = GABOR_ORIENTATIONS) -> np.ndarray:
    """Real, even Gabor-like transfer functions in the frequency domain: (S * O, H, W).

    Gaussian in radial frequency (sd = half the centre frequency) times a Gaussian in angle
    (sd = pi / (2 O)), made symmetric under f -> -f so the spatial filter is real. Orientation
    o points the frequency vector at angle o * pi / O (0: intensity varies along x).
    """
    fy = scipy.fft.fftfreq(height)[:, None]
    fx = scipy.fft.fftfreq(width)[None, :]
    radius, angle = np.hypot(fx, fy), np.arctan2(fy, fx)
    sd_angle = np.pi / (2 * n_orientations)
    bank = []
    for f0 in frequencies:
        radial = np.exp(-((radius - f0) ** 2) / (2 * (0.5 * f0) ** 2))
        for o in range(n_orientations):
            delta = (angle - o * np.pi / n_orientations + np.pi / 2) % np.pi - np.pi / 2
            bank.append(radial * np.exp(-(delta ** 2) / (2 * sd_angle ** 2)))
    return np.stack(bank).astype(np.float32)


def gist_features(images: np.ndarray, grid: int = GIST_GRID) -> np.ndarray:
    """Mean Gabor amplitude per filter and grid cell (GIST, Oliva & Torralba 2001 in spirit).

    (B, H, W, 3) -> (B, n_filters * grid * grid), filter-major.
    """
    gray = luminance(images)
    h, w = gray.shape[1:]
    gray = gray - gray.mean(axis=(1, 2), keepdims=True)
    # The transfer functions are even, so the half spectrum of a real image is enough.
    bank = gabor_bank(h, w)[:, :, :w // 2 + 1]
    spectrum = scipy.fft.rfft2(gray, axes=(1, 2))                   # (B, H, W // 2 + 1)
    response = scipy.fft.irfft2(spectrum[:, None] * bank[None], s=(h, w), axes=(2, 3))
    return grid_mean(np.abs(response), grid, axis=2).reshape(len(images), -1)  # (B, F, g * g)


def map_batches(fn, images, chunk: int = 512) -> np.ndarray:
    """Apply ``fn`` (float batch -> (b, ...) array) to ``chunk`` images at a time, so memory
    stays bounded for any number of uint8 images; results are concatenated along axis 0."""
    images = np.asarray(images)
    parts = [np.asarray(fn(as_float_images(images[start:start + chunk])))
             for start in range(0, len(images), chunk)]
    if not parts:
        raise ValueError("no images")
    return np.concatenate(parts)


def _khosla_block(images: np.ndarray) -> np.ndarray:
    return np.concatenate([colour_histogram(images), colour_patches(images),
                           gradient_features(images), lbp_histogram(images),
                           gist_features(images)], axis=1)


def khosla_features(images, chunk: int = 512) -> np.ndarray:
    """All low-level blocks side by side (410 values for 64 px images): uint8 or float
    (B, H, W, 3) -> float64 (B, D), in the order histogram, patches, gradients, LBP, GIST."""
    return map_batches(_khosla_block, images, chunk).astype(np.float64)


def colourfulness(images: np.ndarray) -> np.ndarray:
    """Hasler & Suesstrunk (2003) colourfulness M on the 0-255 scale: (B, H, W, 3) -> (B,).

    rg = R - G, yb = (R + G) / 2 - B; M = sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mu_rg^2 + mu_yb^2).
    """
    rgb = images * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    spread = np.sqrt(rg.var(axis=(1, 2)) + yb.var(axis=(1, 2)))
    return spread + 0.3 * np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)


def laplacian_variance(images: np.ndarray) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian of the luma on the 0-255 scale (interior pixels).

    The usual "variance of the Laplacian" sharpness measure (as with OpenCV's 3 x 3 kernel).
    """
    y = luminance(images).astype(np.float64) * 255.0
    lap = (y[:, :-2, 1:-1] + y[:, 2:, 1:-1] + y[:, 1:-1, :-2] + y[:, 1:-1, 2:]
           - 4.0 * y[:, 1:-1, 1:-1])
    return lap.var(axis=(1, 2))


def exposure_stats(images: np.ndarray,
                   clip_margin: float = 2 / 255) -> tuple[np.ndarray, np.ndarray]:
    """(|mean luma - 0.5|, share of pixels with luma <= margin or >= 1 - margin), each (B,)."""
    y = luminance(images)
    clipped = (y <= clip_margin) | (y >= 1.0 - clip_margin)
    return np.abs(y.mean(axis=(1, 2)) - 0.5), clipped.mean(axis=(1, 2))


def _per_image_histogram(labels: np.ndarray, n_bins: int, weights=None) -> np.ndarray:
    """Share of each label per image (or summed weights per pixel): integer (B, ...) in
    [0, n_bins) -> (B, n_bins)."""
    b = labels.shape[0]
    flat = labels.reshape(b, -1)
    offset = flat + (np.arange(b) * n_bins)[:, None]
    w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    counts = np.bincount(offset.ravel(), weights=w, minlength=b * n_bins).reshape(b, n_bins)
    return counts / flat.shape[1]
