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


def normalise_words(text: str) -> list[str]:
    """Lower-cased words of ``text``; ASCII punctuation separates words, apostrophes vanish."""
    return lowered_words(text.lower())


def lowered_words(low: str) -> list[str]:
    """``normalise_words`` for text that is already lower-cased."""
    if not low.isascii():
        for ch in _UNICODE_PUNCT:
            if ch in low:
                low = low.replace(ch, " ")
    return low.encode("utf-8", "surrogatepass").translate(_TRANSLATE_TABLE, b"'").decode("utf-8", "replace").split()
