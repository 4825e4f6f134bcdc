"""What a synthetic image shows, and how much a platform likes it (the hidden intrinsic score q).

Every image is drawn from a few latent visual attributes: a content category, six continuous
global attributes (exposure, colourfulness, sharpness, noise, subject size, off-centre
placement), a hue that only changes the palette, and ``detail`` in [-1, 1], the orientation of
the subject's small details (:mod:`i2pa_core.simulate.details`: a smile or a grimace, legible or
turned glyph lines, sweets lit from above or below, trees standing or hanging). The intrinsic
score ``q`` is a weighted sum of what is *visible*; the user's colour cast is deliberately left
out, so that q carries no trace of who posted.

Our design, not a finding: on the default ``instagram`` variant the details carry about 82 % of
the variance of q and the global attributes the rest, so that the score needs spatial structure
(which way up a small detail is) that colour, texture and GIST statistics cannot read, while a
CNN can. The weights (a :class:`Taste`) differ between platform variants, echoing the paper's
finding that faces and pets score high and text and empty scenes low on Instagram.

``q`` is standardised with constants computed once on the default (``instagram``) variant, so it
has mean 0 and sd 1 there; other variants use the same constants and may be shifted or scaled.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from i2pa_core.simulate.details import token_share

CATEGORIES = ("people", "pet", "food", "scenery", "text", "empty")
# Marginal share of each category over all posts (users' favourites scatter around it).
CATEGORY_FREQ = np.array([0.28, 0.12, 0.15, 0.22, 0.10, 0.13])
# Categories with a subject whose size and placement can be seen (not "empty").
_HAS_SUBJECT = np.array([True, True, True, True, True, False])
# How each category shows the orientation of its details (:mod:`i2pa_core.simulate.details`).
_HAS_MOUTH = np.array([True, True, False, False, False, False])
_HAS_TOKENS = np.array([False, False, True, True, True, False])


@dataclass(frozen=True)
class Taste:
    """Weights of the intrinsic score on one platform (the unstandardised q is their sum).

    Attributes:
        category: additive score per category, in :data:`CATEGORIES` order.
        exposure: weight on exposure**2 (stops from ideal); negative: mis-exposure is disliked.
        colourfulness: weight on the saturation factor (0.15-1).
        sharpness: weight on sharpness (0 = fully blurred, 1 = sharp).
        noise: weight on the pixel-noise sd (0-0.1, in units of full scale).
        subject_size: weight on the subject's size (fraction of the image side, 0.3-0.7).
        offcentre: weight on the subject's distance from the image centre.
        detail: weight per category (in :data:`CATEGORIES` order) on the orientation of the
            subject's small details, ``detail`` in [-1, 1] (:mod:`i2pa_core.simulate.details`:
            a smile or a grimace, upright or turned sweets, trees and glyphs);
            0 where the category has no such detail.
    """

    category: tuple[float, float, float, float, float, float]
    exposure: float
    colourfulness: float
    sharpness: float
    noise: float
    subject_size: float
    offcentre: float
    detail: tuple[float, float, float, float, float, float] = (0.0,) * 6


VARIANTS: dict[str, Taste] = {
    # Faces and pets win, text overlays and empty backgrounds lose (the paper's Fig. 6/7).
    "instagram": Taste(category=(0.9, 0.8, 0.3, 0.1, -0.9, -1.2), exposure=-1.0,
                       colourfulness=1.0, sharpness=0.8, noise=-8.0, subject_size=1.0,
                       offcentre=-1.0, detail=(4.0, 4.0, 3.2, 3.0, 3.2, 0.0)),
    # Photographers' site: scenery and technical quality (sharp, clean, well exposed) win.
    "flickr": Taste(category=(0.1, 0.3, -0.3, 1.0, -1.1, -0.8), exposure=-1.8,
                    colourfulness=1.2, sharpness=1.8, noise=-14.0, subject_size=0.3,
                    offcentre=-0.4, detail=(1.0, 1.0, 0.6, 1.2, 0.4, 0.0)),
    # Reddit "pics": memes (text) and pets win, technical quality matters little.
    "reddit": Taste(category=(0.2, 1.0, -0.1, 0.2, 0.8, -1.2), exposure=-0.4,
                    colourfulness=0.4, sharpness=0.3, noise=-3.0, subject_size=0.8,
                    offcentre=-0.3, detail=(1.5, 3.0, 1.0, 0.5, 4.0, 0.0)),
}


def sample_attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw the continuous visual attributes of ``n`` images (independent of the category)."""
    return {
        "exposure": np.clip(rng.normal(0.0, 0.45, n), -1.2, 1.2),
        "colourfulness": rng.uniform(0.15, 1.0, n),
        "sharpness": rng.uniform(0.0, 1.0, n),
        "noise": rng.uniform(0.0, 0.1, n),
        "subject_size": rng.uniform(0.3, 0.7, n),
        "offset_x": rng.uniform(-0.18, 0.18, n),
        "offset_y": rng.uniform(-0.18, 0.18, n),
        "hue": rng.uniform(0.0, 1.0, n),
        "detail": rng.uniform(-1.0, 1.0, n),
    }


def detail_value(category: np.ndarray, attrs: dict[str, np.ndarray]) -> np.ndarray:
    """What the score reads of each image's details, in [-1, 1]: the mouth's ``detail`` for
    people and pets, 2 x (realised share of upright tokens) - 1 for food, scenery and text, 0
    for empty scenes (:mod:`i2pa_core.simulate.details`)."""
    tokens = 2.0 * token_share(attrs["hue"], attrs["detail"]) - 1.0
    return np.where(_HAS_TOKENS[category], tokens,
                    np.where(_HAS_MOUTH[category], attrs["detail"], 0.0))


def raw_score(category: np.ndarray, attrs: dict[str, np.ndarray], taste: Taste) -> np.ndarray:
    """Unstandardised intrinsic score: the taste's weighted sum of visible attributes."""
    subject = _HAS_SUBJECT[category]
    offcentre = np.hypot(attrs["offset_x"], attrs["offset_y"])
    return (np.asarray(taste.category)[category]
            + taste.exposure * attrs["exposure"] ** 2
            + taste.colourfulness * attrs["colourfulness"]
            + taste.sharpness * attrs["sharpness"]
            + taste.noise * attrs["noise"]
            + subject * (taste.subject_size * attrs["subject_size"]
                         + taste.offcentre * offcentre)
            + np.asarray(taste.detail)[category] * detail_value(category, attrs))


@functools.lru_cache(maxsize=1)
def score_standardisation() -> tuple[float, float]:
    """Mean and sd of the raw instagram score on a fixed reference sample (seed-independent)."""
    rng = np.random.default_rng(np.random.SeedSequence(20190701))
    n = 400_000
    category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_FREQ)
    raw = raw_score(category, sample_attributes(rng, n), VARIANTS["instagram"])
    return float(raw.mean()), float(raw.std())


@functools.lru_cache(maxsize=None)
def niche_standardisation(variant: str, concentration: float) -> tuple[float, float]:
    """Mean and sd of a user's niche appeal (favourite shares @ the variant's category taste)
    over a fixed reference sample of users (seed-independent)."""
    rng = np.random.default_rng(np.random.SeedSequence(20190702))
    favourites = rng.dirichlet(concentration * CATEGORY_FREQ * len(CATEGORIES), 200_000)
    niche = favourites @ np.asarray(VARIANTS[variant].category)
    return float(niche.mean()), float(niche.std())


def intrinsic_score(category: np.ndarray, attrs: dict[str, np.ndarray],
                    variant: str = "instagram") -> np.ndarray:
    """Hidden intrinsic score q of each image; mean 0 / sd 1 on the default variant."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; allowed: {', '.join(VARIANTS)}")
    mean, sd = score_standardisation()
    return (raw_score(category, attrs, VARIANTS[variant]) - mean) / sd
