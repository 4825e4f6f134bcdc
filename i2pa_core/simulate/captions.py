"""Synthetic captions: descriptive words, hashtags, @ mentions and emojis, built vectorised.

A caption is assembled from token ids (words, then hashtags, then mentions, then an emoji) and
joined with pyarrow, so ten million captions take seconds, not a Python loop per post.

PDIP yield depends on habits: each user owns a few habitual hashtag/mention *combos* and reuses
them, so two posts of one user often carry identical hashtag and mention multisets (PDIP rule 4).
A share of posts uses a one-off combo instead. Some hashtags are "hot" and some mentions are
celebrities; both raise likes (the flags are returned for the likes model).

Every token parses as intended by :mod:`i2pa_core.pdip.captions`: hashtags are ``#`` + word
characters, mentions ``@`` + letters/digits/underscores, emojis are not word characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WORD_STEMS = (
    "love today happy sunday morning coffee friends family beach summer weekend dinner "
    "lunch breakfast night city sunset walk home trip travel view sky sea cat dog puppy "
    "kitty baby smile fun good great best new old little big beautiful lovely sweet time "
    "day week work life moment memories party birthday holiday spring autumn winter rain "
    "snow sun light colours flowers garden park mountain lake river road street cafe "
    "food pizza cake yummy delicious fresh style outfit look selfie me us together "
    "finally back again always never here there now just so very my our your first last "
    "weekend vibes mood throwback random art photo shot golden blue green red"
).split()
WORDS = tuple(dict.fromkeys(_WORD_STEMS))
_TAG_STEMS = (
    "love instagood photooftheday fashion beautiful happy cute tbt like4like followme "
    "picoftheday selfie summer art instadaily friends repost nature girl fun style smile "
    "food family travel fitness life beauty amazing instagram photography vscocam sun "
    "music beach ootd sunset dog cat foodporn sky pretty hair makeup cool landscape "
    "puppy kitty baby wedding party coffee yummy city street night holiday"
).split()
_TAG_SUFFIXES = ("", "life", "daily", "lover", "gram", "vibes", "s", "2018")
HASHTAGS = tuple(f"#{stem}{suffix}" for suffix in _TAG_SUFFIXES for stem in _TAG_STEMS)
N_HOT_HASHTAGS = 20  # the first 20 plain stems (#love, #instagood, ...) are "hot"
_NAMES = ("anna ben carla dan emma finn gina hugo iris jack kate leo mia nora oscar paula "
          "quinn rosa sam tina uma vic wendy xena yuri zoe").split()
_CELEBRITIES = ("starmila", "popkai", "filmrhea", "chefmarco", "goalzeke", "stylenoor",
                "rockjuno", "comicbo", "modelsia", "djvesper", "racerlux", "poetwren")
MENTIONS = (tuple(f"@{c}" for c in _CELEBRITIES)
            + tuple(f"@{n}_{k}" for k in range(12) for n in _NAMES))
N_CELEBRITIES = len(_CELEBRITIES)  # the first mentions are celebrities
EMOJIS = ("\U0001F60D", "\u2764\ufe0f", "\U0001F525", "\u2728", "\U0001F602", "\U0001F64C",
          "\U0001F338", "\U0001F44C", "\U0001F60E", "\U0001F389")
MAX_HASHTAGS, MAX_MENTIONS, MAX_WORDS = 3, 2, 15
_VOCAB = pa.array(WORDS + HASHTAGS + MENTIONS + EMOJIS)
_TAG0, _MENTION0 = len(WORDS), len(WORDS) + len(HASHTAGS)
_EMOJI0 = _MENTION0 + len(MENTIONS)


def _zipf(n: int, exponent: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


_TAG_P, _MENTION_P, _WORD_P = _zipf(len(HASHTAGS)), _zipf(len(MENTIONS), 0.8), _zipf(len(WORDS), 0.6)


@dataclass(frozen=True)
class Combos:
    """Hashtag/mention combos: ids into :data:`HASHTAGS` / :data:`MENTIONS`, -1 for none."""

    hashtags: np.ndarray  # (n, MAX_HASHTAGS) int
    mentions: np.ndarray  # (n, MAX_MENTIONS) int


def sample_combos(rng: np.random.Generator, n: int, hashtag_prob: float,
                  mention_prob: float) -> Combos:
    """Draw ``n`` combos; a combo has hashtags with ``hashtag_prob``, mentions with
    ``mention_prob``."""
    n_tags = (rng.random(n) < hashtag_prob) * (1 + rng.binomial(MAX_HASHTAGS - 1, 0.35, n))
    n_mentions = (rng.random(n) < mention_prob) * (1 + rng.binomial(MAX_MENTIONS - 1, 0.3, n))
    tags = rng.choice(len(HASHTAGS), size=(n, MAX_HASHTAGS), p=_TAG_P)
    mentions = rng.choice(len(MENTIONS), size=(n, MAX_MENTIONS), p=_MENTION_P)
    tags[np.arange(MAX_HASHTAGS) >= n_tags[:, None]] = -1
    mentions[np.arange(MAX_MENTIONS) >= n_mentions[:, None]] = -1
    return Combos(tags, mentions)


def choose_combos(rng: np.random.Generator, habits: Combos, habit_weights: np.ndarray,
                  user_index: np.ndarray, fresh_prob: float, hashtag_prob: float,
                  mention_prob: float) -> Combos:
    """Per post: one of its user's habitual combos, or (with ``fresh_prob``) a one-off combo.

    ``habits`` holds ``k`` combos per user (user ``u`` owns rows ``u*k .. u*k+k-1``) and
    ``habit_weights`` (n_users, k) how often each is used.
    """
    k = habit_weights.shape[1]
    cum = np.cumsum(habit_weights, axis=1)[user_index]
    choice = np.minimum((rng.random(len(user_index))[:, None] > cum).sum(axis=1), k - 1)
    rows = user_index * k + choice
    fresh = sample_combos(rng, len(user_index), hashtag_prob, mention_prob)
    use_fresh = (rng.random(len(user_index)) < fresh_prob)[:, None]
    return Combos(np.where(use_fresh, fresh.hashtags, habits.hashtags[rows]),
                  np.where(use_fresh, fresh.mentions, habits.mentions[rows]))


def build_captions(rng: np.random.Generator, combos: Combos, no_caption_prob: float,
                   mean_words: float, emoji_prob: float) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """Assemble caption strings for posts with the given combos.

    Returns the captions (a pyarrow string array) and per-post features: ``has_caption``,
    ``n_words``, ``n_hashtags``, ``n_mentions``, ``hot_hashtag`` and ``celebrity`` (bool).
    """
    n = len(combos.hashtags)
    has_caption = rng.random(n) >= no_caption_prob
    # Negative binomial (dispersion 2): mostly short captions, a tail beyond six words.
    n_words = np.minimum(rng.negative_binomial(2, 2.0 / (2.0 + mean_words), n), MAX_WORDS)
    words = rng.choice(len(WORDS), size=(n, MAX_WORDS), p=_WORD_P)
    emoji = rng.integers(0, len(EMOJIS), n) + _EMOJI0
    tags = np.where(combos.hashtags >= 0, combos.hashtags + _TAG0, -1)
    mentions = np.where(combos.mentions >= 0, combos.mentions + _MENTION0, -1)
    words = np.where(np.arange(MAX_WORDS) < n_words[:, None], words, -1)
    n_tokens = n_words + (tags >= 0).sum(1) + (mentions >= 0).sum(1)
    # An emoji sometimes, and always when nothing else is left (so such a caption is not empty).
    with_emoji = (rng.random(n) < emoji_prob) | (n_tokens == 0)
    tokens = np.concatenate([words, tags, mentions, np.where(with_emoji, emoji, -1)[:, None]],
                            axis=1)
    tokens[~has_caption] = -1
    captions = _join(tokens)
    features = {
        "has_caption": has_caption,
        "n_words": np.where(has_caption, n_words, 0),
        "n_hashtags": np.where(has_caption, (tags >= 0).sum(1), 0),
        "n_mentions": np.where(has_caption, (mentions >= 0).sum(1), 0),
        "hot_hashtag": has_caption & ((tags >= _TAG0) & (tags < _TAG0 + N_HOT_HASHTAGS)).any(1),
        "celebrity": has_caption & ((mentions >= _MENTION0)
                                    & (mentions < _MENTION0 + N_CELEBRITIES)).any(1),
    }
    return captions, features


def _join(tokens: np.ndarray) -> pa.Array:
    """Join each row's non-negative token ids with single spaces (empty row -> empty string)."""
    present = tokens >= 0
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    values = _VOCAB.take(pa.array(tokens[present]))
    return pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), values), " ")
