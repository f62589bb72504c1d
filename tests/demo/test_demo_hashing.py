import pytest

from demo.hashing import bucket, hash_features, ngrams, tokenize

SENTENCE = "This is a good day"


def test_tokenize_lowercases_and_keeps_apostrophes_and_digits() -> None:
    assert tokenize("Don't STOP-now, 42x_y") == ["don't", "stop", "now", "42x", "y"]


def test_tokenize_keeps_letters_of_any_script() -> None:
    assert tokenize("Grüße, ÉTÉ!") == ["grüße", "été"]


def test_ngrams_are_unigrams_then_bigrams() -> None:
    assert ngrams(tokenize(SENTENCE)) == [
        "this",
        "is",
        "a",
        "good",
        "day",
        "this is",
        "is a",
        "a good",
        "good day",
    ]


def test_sentence_counts_five_unigrams_and_four_bigrams_in_eight_buckets() -> None:
    counts = hash_features(text=SENTENCE)
    assert len(counts) == 8
    assert sum(counts) == 9


def test_hashing_is_stable_across_processes_and_releases() -> None:
    # Pinned: CRC-32 does not depend on PYTHONHASHSEED, so these never change.
    assert hash_features(text=SENTENCE, bits=3) == [2, 1, 1, 1, 0, 0, 1, 3]
    assert hash_features(text="Bad day", bits=2) == [2, 0, 0, 1]
    assert bucket(feature="good day", bits=3) == bucket(feature="good day", bits=3)


def test_case_and_punctuation_do_not_change_the_counts() -> None:
    assert hash_features(text="THIS is, a GOOD day!") == hash_features(text=SENTENCE)


@pytest.mark.parametrize(("bits", "width"), [(1, 2), (2, 4), (8, 256), (16, 65536)])
def test_other_bit_sizes_give_two_to_the_bits_columns(bits: int, width: int) -> None:
    counts = hash_features(text=SENTENCE, bits=bits)
    assert len(counts) == width
    assert sum(counts) == 9


def test_bucket_is_the_three_bit_bucket_folded_for_fewer_bits() -> None:
    # Modulo a power of two keeps the low bits, so one bit is the 3-bit bucket mod 2.
    assert bucket(feature="good", bits=1) == bucket(feature="good", bits=3) % 2


def test_empty_and_single_word_texts() -> None:
    assert hash_features(text="") == [0] * 8
    assert hash_features(text="  ,;  ") == [0] * 8
    assert sum(hash_features(text="Hello")) == 1


@pytest.mark.parametrize("bits", [0, 17, -1])
def test_bit_size_outside_one_to_sixteen_is_refused(bits: int) -> None:
    with pytest.raises(ValueError, match=f"bits must be between 1 and 16, not {bits}"):
        hash_features(text=SENTENCE, bits=bits)
