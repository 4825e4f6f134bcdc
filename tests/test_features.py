"""Hand-crafted image features against hand-computed values and brute-force references."""

import colorsys

import numpy as np
import pytest

from i2pa_core.evaluate import features as F


def _solid(rgb, size=8, batch=1):
    return np.broadcast_to(np.asarray(rgb, np.float32), (batch, size, size, 3)).copy()


def test_as_float_images_scales_uint8_and_rejects_bad_shapes():
    out = F.as_float_images(np.full((1, 2, 2, 3), 255, np.uint8))
    assert out.dtype == np.float32 and np.all(out == 1.0)
    with pytest.raises(ValueError, match="B, H, W, 3"):
        F.as_float_images(np.zeros((2, 2, 3)))


def test_rgb_to_hsv_matches_colorsys():
    rng = np.random.default_rng(1)
    pixels = np.concatenate([rng.random((500, 3)),
                             [[0.5, 0.5, 0.5], [1, 0, 0], [1, 0, 1], [0, 0, 0], [0.2, 0.1, 0.3]]])
    ours = F.rgb_to_hsv(pixels.astype(np.float32))
    reference = np.array([colorsys.rgb_to_hsv(*p) for p in pixels])
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_colour_histogram_half_red_half_blue():
    image = _solid([1, 0, 0])
    image[:, :, 4:] = [0, 0, 1]
    hist = F.colour_histogram(image)
    # red: h 0 -> bin 0, s 1 -> 2, v 1 -> 2: 0*9 + 2*3 + 2 = 8; blue: h 2/3 -> bin 5: 53.
    expected = np.zeros(72)
    expected[[8, 53]] = 0.5
    np.testing.assert_allclose(hist[0], expected)


def test_colour_patches_mean_and_variance():
    image = _solid([0.2, 0.2, 0.2])
    image[0, 0:2, 0:2] = [[[0, 0, 0], [1, 1, 1]], [[1, 1, 1], [0, 0, 0]]]  # patch (0, 0)
    out = F.colour_patches(image, grid=4).reshape(2, 16, 3)
    np.testing.assert_allclose(out[0, 0], 0.5)
    np.testing.assert_allclose(out[0, 1:], 0.2, atol=1e-7)
    np.testing.assert_allclose(out[1, 0], 0.25, atol=1e-7)
    np.testing.assert_allclose(out[1, 1:], 0.0, atol=1e-7)


@pytest.mark.parametrize("axis, orientation_bin", [(2, 0), (1, 4)])
def test_gradient_features_of_a_ramp(axis, orientation_bin):
    ramp = np.arange(64, dtype=np.float32) / 63
    grey = ramp[None, None, :] if axis == 2 else ramp[None, :, None]
    image = np.repeat(np.broadcast_to(grey, (1, 64, 64))[..., None], 3, axis=-1)
    out = F.gradient_features(image)[0]
    orient, magnitude = out[:32].reshape(4, 8), out[32:]
    # Every pixel: magnitude 1/63 at one orientation; a 32 x 32 cell sums 1024/63 over 4096 px.
    expected = np.zeros((4, 8))
    expected[:, orientation_bin] = 1024 / 63 / 4096
    np.testing.assert_allclose(orient, expected, rtol=1e-4, atol=1e-9)
    assert magnitude[2] == pytest.approx(1.0)  # 0.01 <= 1/63 < 0.02


def _patch(centre, ring):
    """3 x 3 grey patch with the ring given clockwise from the top-left corner."""
    g = np.full((3, 3), float(centre))
    for value, (dr, dc) in zip(ring, F._RING):
        g[1 + dr, 1 + dc] = value
    return g[None]


@pytest.mark.parametrize("ring, label", [
    ([9] * 8, 8), ([1] * 8, 0), ([5] * 8, 8), ([9, 1, 1, 1, 1, 1, 1, 1], 1),
    ([9, 9, 9, 1, 1, 1, 1, 1], 3), ([1, 9, 9, 9, 9, 1, 1, 1], 4),
    ([9, 1, 9, 1, 9, 1, 9, 1], 9), ([9, 1, 1, 9, 1, 1, 1, 1], 9)])
def test_lbp_codes_hand_cases(ring, label):
    assert F.lbp_codes(_patch(5, ring))[0, 0, 0] == label


def test_lbp_codes_match_brute_force_loops():
    gray = np.random.default_rng(3).integers(0, 4, (2, 7, 9)).astype(float)
    codes = F.lbp_codes(gray)
    for b in range(2):
        for r in range(1, 6):
            for c in range(1, 8):
                bits = [int(gray[b, r + dr, c + dc] >= gray[b, r, c]) for dr, dc in F._RING]
                changes = sum(bits[i] != bits[i - 1] for i in range(8))
                assert codes[b, r - 1, c - 1] == (sum(bits) if changes <= 2 else 9)


def test_lbp_histogram_of_flat_image_is_all_label_8():
    hist = F.lbp_histogram(_solid([0.3, 0.3, 0.3]))
    np.testing.assert_allclose(hist[0], np.eye(10)[8])


def test_gabor_bank_peaks_at_its_centre_frequency():
    bank = F.gabor_bank(64, 64)
    assert bank.shape == (12, 64, 64)
    assert bank[0, 0, 16] == pytest.approx(1.0)   # f = 16/64 = 0.25 along x, orientation 0
    assert bank[6, 8, 0] == pytest.approx(1.0)    # f = 0.125 along y: scale 1, orientation 2


@pytest.mark.parametrize("freq, along_x, strongest", [(0.25, True, 0), (0.125, False, 6),
                                                        (0.0625, True, 8)])
def test_gist_responds_to_stripes_at_the_right_filter(freq, along_x, strongest):
    t = np.arange(64)
    wave = 0.5 + 0.4 * np.cos(2 * np.pi * freq * t)
    grey = wave[None, :] if along_x else wave[:, None]
    image = np.repeat(np.broadcast_to(grey, (64, 64))[None, ..., None], 3, axis=-1)
    gist = F.gist_features(image.astype(np.float32)).reshape(12, 16)
    assert gist.shape == (12, 16)
    assert gist.mean(axis=1).argmax() == strongest


def test_khosla_features_chunks_and_dtypes_agree():
    images = np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    whole = F.khosla_features(images, chunk=512)
    assert whole.shape == (5, 72 + 96 + 40 + 10 + 192) and whole.dtype == np.float64
    np.testing.assert_allclose(F.khosla_features(images, chunk=2), whole, atol=1e-6)
    np.testing.assert_allclose(F.khosla_features(images / 255.0), whole, atol=1e-5)


def test_colourfulness_hand_values():
    assert F.colourfulness(_solid([0.4, 0.4, 0.4]))[0] == pytest.approx(0.0, abs=1e-4)
    # Pure red: rg = 255, yb = 127.5, no spread: 0.3 * hypot(255, 127.5).
    assert F.colourfulness(_solid([1, 0, 0]))[0] == pytest.approx(0.3 * np.hypot(255, 127.5))
    half = _solid([1, 0, 0])
    half[:, :, 4:] = 0
    # rg in {255, 0}: sd = mean = 127.5; yb in {127.5, 0}: sd = mean = 63.75.
    assert F.colourfulness(half)[0] == pytest.approx(1.3 * np.hypot(127.5, 63.75), rel=1e-5)


def test_laplacian_variance_of_checkerboard_and_flat_image():
    board = (np.indices((6, 6)).sum(axis=0) % 2).astype(np.float32)
    image = np.repeat(board[None, ..., None], 3, axis=-1)
    # Interior: a 1 among four 0s gives -4 * 255, a 0 among four 1s gives +4 * 255.
    assert F.laplacian_variance(image)[0] == pytest.approx(1020.0 ** 2, rel=1e-5)
    assert F.laplacian_variance(_solid([0.7, 0.2, 0.1]))[0] == pytest.approx(0.0, abs=1e-6)


def test_exposure_stats_hand_values():
    err, clipped = F.exposure_stats(_solid([0.8, 0.8, 0.8]))
    assert err[0] == pytest.approx(0.3) and clipped[0] == 0
    black_white = _solid([0, 0, 0])
    black_white[:, 4:] = 1.0
    err, clipped = F.exposure_stats(black_white)
    assert err[0] == pytest.approx(0.0, abs=1e-6) and clipped[0] == 1.0
