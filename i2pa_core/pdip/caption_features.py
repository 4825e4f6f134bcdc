"""Vectorised caption features for the PDIP rules, identical to
:func:`i2pa_core.pdip.captions.tokenize`.

The PDIP sampler needs two things per caption (paper Sec. 3.1, rule 4): the number of descriptive
words and a *context key* that is equal for two captions exactly when their hashtag multisets and
their mention multisets are equal. :func:`i2pa_core.pdip.caption_features` computes both for many
captions:

* every distinct caption is parsed once (``dictionary_encode``);
* pure-ASCII captions go through Arrow's RE2 kernels. On ASCII text RE2's ``\\w`` and Python's
  ``\\w`` are the same class ``[A-Za-z0-9_]`` and ``casefold`` is ``lower``, and both engines
  pick the same leftmost-first, non-overlapping matches, so the result equals ``tokenize``;
* every other caption (emoji, accents, ...) goes through :func:`i2pa_core.pdip.captions.tokenize`
itself.

The key is ``"\\x1f".join(hashtags) + "\\x1e" + "\\x1f".join(mentions)`` over the sorted
multisets; neither separator can occur inside a tag or a mention (they are ``\\w``/``.`` runs).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from i2pa_core.pdip.captions import tokenize

TAG_SEP, PART_SEP = "\x1f", "\x1e"
# Each pattern keeps only the captured tag: other text becomes an empty field (see _extract).
_HASHTAGS = r"#(\w+)|[^#]+|#"
_MENTIONS = r"@([\w.]+)|[^@]+|@"
_ASCII_WORD = r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*"


def context_key(hashtags, mentions) -> str:
    """The key of sorted hashtag and mention multisets (format in the module doc)."""
    return TAG_SEP.join(hashtags) + PART_SEP + TAG_SEP.join(mentions)


def caption_features(captions) -> tuple[np.ndarray, pa.Array]:
    """Return ``(n_words, key)`` for each caption: an int64 array and an Arrow string array.

    ``captions`` is any sequence or Arrow array of str (``None`` counts as empty).
    """
    arr = pa.array(captions, type=pa.string()) if not isinstance(captions, pa.Array) else captions
    arr = arr.cast(pa.string()).fill_null("")
    encoded = pc.dictionary_encode(arr).combine_chunks() if isinstance(arr, pa.ChunkedArray) \
        else pc.dictionary_encode(arr)
    uniques, codes = encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False)
    ascii_mask = pc.string_is_ascii(uniques).to_numpy(zero_copy_only=False)
    fast, slow = np.flatnonzero(ascii_mask), np.flatnonzero(~ascii_mask)
    fast_words, fast_keys = _ascii_features(uniques.take(pa.array(fast, type=pa.int64())))
    slow_tokens = [tokenize(uniques[int(k)].as_py()) for k in slow]
    slow_keys = pa.array([context_key(t.hashtags, t.mentions) for t in slow_tokens], pa.string())
    n_words = np.empty(len(uniques), dtype=np.int64)
    n_words[fast] = fast_words
    n_words[slow] = [t.n_words for t in slow_tokens]
    position = np.empty(len(uniques), dtype=np.int64)  # unique caption -> row in fast ++ slow
    position[fast], position[slow] = np.arange(len(fast)), len(fast) + np.arange(len(slow))
    keys = pa.concat_arrays([fast_keys, slow_keys])
    return n_words[codes], keys.take(pa.array(position[codes]))


def _ascii_features(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """``tokenize`` rules for ASCII captions with RE2 kernels (see module doc)."""
    tags = _sorted_join(_extract(arr, _HASHTAGS, strip_dots=False))
    mentions = _sorted_join(_extract(arr, _MENTIONS, strip_dots=True))
    keys = pc.binary_join_element_wise(tags, mentions, PART_SEP)
    rest = pc.replace_substring_regex(arr, r"#\w+", " ")  # same order as tokenize
    rest = pc.replace_substring_regex(rest, r"@[\w.]+", " ")
    n_words = pc.count_substring_regex(rest, _ASCII_WORD).to_numpy(zero_copy_only=False)
    return n_words.astype(np.int64), keys.cast(pa.string())


def _extract(arr: pa.Array, pattern: str, strip_dots: bool):
    """All captures of ``pattern`` per caption, lower-cased: (flat values, parent row index)."""
    marked = pc.replace_substring_regex(arr, pattern, "\\1" + TAG_SEP)
    lists = pc.split_pattern(marked, TAG_SEP)
    values = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    if strip_dots:
        values = pc.utf8_rtrim(values, characters=".")
    keep = pc.greater(pc.binary_length(values), 0)
    values, parents = pc.filter(values, keep), pc.filter(parents, keep)
    return pc.ascii_lower(values), parents.to_numpy(zero_copy_only=False), len(arr)


def _sorted_join(extracted) -> pa.Array:
    """Join each row's values in sorted order (code-point order, like ``sorted``)."""
    values, parents, n_rows = extracted
    table = pa.table({"parent": parents, "value": values})
    order = pc.sort_indices(table, sort_keys=[("parent", "ascending"), ("value", "ascending")])
    offsets = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(parents, minlength=n_rows), out=offsets[1:])
    lists = pa.ListArray.from_arrays(pa.array(offsets), values.take(order))
    return pc.binary_join(lists, TAG_SEP)
