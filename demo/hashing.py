"""Feature hashing, the way AzureML Studio's Feature Hashing module counts n-grams.

Pure functions, no Django: the sample backend's answers must be reproducible
in tests and across server processes, so the hash is CRC-32 rather than
Python's per-process salted ``hash()``.
"""

import re
import zlib
from collections.abc import Sequence
from itertools import pairwise

DEFAULT_BITS = 3
MIN_BITS = 1
MAX_BITS = 16

# Runs of letters, digits and apostrophes ("don't" stays one word); `[^\W_]`
# is "a letter or digit" in any script, without the underscore that \w adds.
_WORD = re.compile(r"(?:[^\W_]|')+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str]) -> list[str]:
    """Unigrams, then bigrams. A space joins a bigram: no token contains one,
    so a bigram can never collide textually with a unigram."""
    bigrams = [f"{first} {second}" for first, second in pairwise(tokens)]
    return [*tokens, *bigrams]


def bucket(*, feature: str, bits: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % (1 << bits)


def hash_features(*, text: str, bits: int = DEFAULT_BITS) -> list[int]:
    """Counts of the text's unigrams and bigrams in 2**bits buckets."""
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be between {MIN_BITS} and {MAX_BITS}, not {bits}")
    counts = [0] * (1 << bits)
    for feature in ngrams(tokenize(text)):
        counts[bucket(feature=feature, bits=bits)] += 1
    return counts
