"""Split text into the lower-cased words that cues are matched against.

Text is lower-cased, ASCII punctuation and common Unicode punctuation become a space, and
apostrophes are dropped (``what's`` -> ``whats``). The cue data is written in this form, and
the loader checks that it is.
"""

from __future__ import annotations

from typing import Final

_SEPARATORS: Final = b'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r\x0b\x0c'
_TRANSLATE_TABLE: Final = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))
_UNICODE_PUNCT: Final = "¿¡«»“”„‘’…—–·•、，。！？：；（）「」『』【】"


def normalise_words(text: str, first: int = -1) -> list[str]:
    """Lower-cased words of ``text``; ASCII punctuation separates words, apostrophes vanish.
    ``first``: only that many words from the start (all of them when negative)."""
    return lowered_words(text.lower(), first)


def last_words(text: str, last: int) -> list[str]:
    """``normalise_words(text)[-last:]`` (for ``last`` > 0), splitting off no more words than that."""
    return _separated(text.lower()).rsplit(None, last)[-last:]


def lowered_words(low: str, first: int = -1) -> list[str]:
    """``normalise_words`` for text that is already lower-cased."""
    words = _separated(low).split(None, first)
    return words if first < 0 else words[:first]


def _separated(low: str) -> str:
    """``low`` with every separator a space and apostrophes dropped: its words are its ``split()``."""
    if not low.isascii():
        for ch in _UNICODE_PUNCT:
            if ch in low:
                low = low.replace(ch, " ")
    return low.encode("utf-8", "surrogatepass").translate(_TRANSLATE_TABLE, b"'").decode("utf-8", "replace")
