"""A byte-level BPE tokenizer whose ids cover a large vocabulary, with the tiny chat model's template."""

from __future__ import annotations

import itertools
import string

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from worker.tinymodels.chat import CONTEXT, SPECIAL_TOKENS, wrap_tokenizer

# Letters and the byte-level space ("Ġ"): every regular id decodes to one to three printable characters, so
# a random-weight model's replies stream as text the way a real model's do (about three characters a token).
_LETTERS = ("Ġ", *string.ascii_letters)


def build_wide_tokenizer(vocab_size: int, *, context: int = CONTEXT) -> PreTrainedTokenizerFast:
    """Return a tokenizer of exactly `vocab_size` ids: special tokens, the byte alphabet, letter n-grams."""
    vocab, merges = _vocab(vocab_size)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return wrap_tokenizer(tokenizer, context=context)


def _vocab(vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Return the vocabulary and the merges that build each two- and three-letter token from its parts."""
    tokens = [*SPECIAL_TOKENS, *sorted(pre_tokenizers.ByteLevel.alphabet())]
    merges: list[tuple[str, str]] = []
    for length in (2, 3):
        for letters in itertools.product(_LETTERS, repeat=length):
            if len(tokens) >= vocab_size:
                break
            merges.append(("".join(letters[:-1]), letters[-1]))
            tokens.append("".join(letters))
    if len(tokens) < vocab_size:
        raise ValueError(f"at most {len(tokens)} ids can be built, not {vocab_size}")
    return {token: index for index, token in enumerate(tokens)}, merges
