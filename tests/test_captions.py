"""Caption tokenisation rules (documented in i2pa_core.pdip.captions)."""

import pytest

from i2pa_core.pdip.captions import tokenize


@pytest.mark.parametrize("caption, words, tags, mentions", [
    (None, 0, (), ()),
    ("", 0, (), ()),
    ("Sunset at the beach", 4, (), ()),
    ("#Sunset #beach", 0, ("beach", "sunset"), ()),
    ("#beach #Sunset", 0, ("beach", "sunset"), ()),       # order is irrelevant
    ("#a #a", 0, ("a", "a"), ()),                          # number counts
    ("with @Alice. and @bob_1", 2, (), ("alice", "bob_1")),
    ("don't stop 🌅🌅 !!", 2, (), ()),                       # emojis and punctuation are not words
    ("3 cats", 2, (), ()),                                 # numbers are words
    ("café #Été", 1, ("été",), ()),                        # Unicode letters
    ("snake_case", 2, (), ()),                             # underscores split words
])
def test_tokenize(caption, words, tags, mentions):
    tokens = tokenize(caption)
    assert tokens.n_words == words
    assert tokens.hashtags == tags
    assert tokens.mentions == mentions
