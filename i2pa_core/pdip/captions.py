"""Caption tokenisation, as used by the PDIP rules (paper Sec. 3.1, rule 4).

The paper counts "words of descriptive text" and compares "hashtags and @ mentions" without
saying how a caption is split. We fix the rules here, once, for every part of the package:

* **Hashtag**: ``#`` followed by one or more word characters (Unicode letters, digits, ``_``),
  i.e. the regex ``#(\\w+)``. The tag is case-folded (Instagram tags are case-insensitive):
  ``#Sunset`` and ``#sunset`` are the same tag.
* **Mention**: ``@`` followed by letters, digits, ``_`` or ``.`` (Instagram user names), with
  trailing dots removed and case-folded: ``@Alice.`` is ``alice``.
* Hashtags and mentions are compared as **multisets**: order does not matter, repetition does
  (``#a #a`` differs from ``#a``), which is "same content and same number".
* **Descriptive words**: after removing hashtags and mentions, the maximal runs of Unicode
  letters and digits, allowing inner apostrophes (``don't`` is one word). Emojis, punctuation and
  other symbols are not words. Numbers are words.
* An empty or missing caption has no words, no hashtags and no mentions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HASHTAG_RE = re.compile(r"#(\w+)")
MENTION_RE = re.compile(r"@([\w.]+)")
WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


@dataclass(frozen=True)
class CaptionTokens:
    """The parts of a caption that the PDIP rules look at."""

    words: tuple[str, ...]
    hashtags: tuple[str, ...]  # sorted, case-folded multiset
    mentions: tuple[str, ...]  # sorted, case-folded multiset

    @property
    def n_words(self) -> int:
        return len(self.words)


def tokenize(caption: str | None) -> CaptionTokens:
    """Split a caption into descriptive words, hashtags and mentions (rules in the module doc)."""
    if not isinstance(caption, str) or not caption:
        return CaptionTokens((), (), ())
    hashtags = tuple(sorted(t.casefold() for t in HASHTAG_RE.findall(caption)))
    mentions = tuple(sorted(m.rstrip(".").casefold() for m in MENTION_RE.findall(caption)
                            if m.rstrip(".")))
    rest = MENTION_RE.sub(" ", HASHTAG_RE.sub(" ", caption))
    return CaptionTokens(tuple(WORD_RE.findall(rest)), hashtags, mentions)
