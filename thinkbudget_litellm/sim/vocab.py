"""Deterministic text for the simulated backend (a test double), one cl100k_base token per piece.

Every piece yielded here is exactly one token of tiktoken's ``cl100k_base`` encoding (tests verify it),
and a run of pieces re-encodes to the same number of tokens, so a proxy that counts tokens with
tiktoken agrees with the simulator. The thinking reads like reasoning ("Okay, so the user is asking
about ...", "Wait, maybe I should check ..."), the answer like an answer ("Answer: ...").
Pure: the same seed always gives the same text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOUNS = _words("answer question value number result problem step case part idea point method sum rule list")
NOUNS += _words("order pattern total example detail")
ADJECTIVES = _words("correct simple small large clear right wrong same different possible important true")
ADJECTIVES += _words("valid useful")

_OPENING = "Okay , so the user is asking about the N ."
_THINKING = (
    "Let me think about the N first .",
    "Wait , maybe I should check the N again .",
    "Hmm , that does not look right .",
    "So the N is A , which means the N should be A too .",
    "First , I need to find the N .",
    "Then I can compare it with the N .",
    "But what if the N is not A ?",
    "Alternatively , I could try a different method .",
    "That gives the same N , so it seems A .",
    "Let me double check the last step .",
    "I think the N is A , but I should make sure .",
    "Maybe the user wants a short and A answer .",
    "Actually , the N might be more A than it looks .",
    "Now I will go through the N one more time .",
    "Yes , the N is A .",
)
_ANSWER_OPENING = "Answer : The N is A ."
_ANSWER = (
    "This follows from the N and the N .",
    "In short , the N is A .",
    "The main point is that the N stays A .",
    "It also helps to check the N .",
    "So the N gives a A result .",
    "Let me know if you want more detail .",
)
_PUNCTUATION = frozenset({".", ",", "?", ":"})
SENTENCE_ENDS = frozenset({".", "?", ".\n\n", "?\n\n"})


def _sentence(template: str, rng: random.Random, *, paragraph_start: bool, paragraph_end: bool) -> list[str]:
    pieces: list[str] = []
    for i, word in enumerate(template.split()):
        text = {"N": rng.choice(NOUNS), "A": rng.choice(ADJECTIVES)}.get(word, word)
        if text in _PUNCTUATION:
            pieces.append(text)
        else:
            pieces.append(text if (i == 0 and paragraph_start) else " " + text)
    if paragraph_end:
        pieces[-1] += "\n\n"
    return pieces


def _stream(seed: int, opening: str, templates: tuple[str, ...]) -> Iterator[str]:
    rng = random.Random(seed)
    template, paragraph_start, left_in_paragraph = opening, True, rng.randint(3, 6)
    while True:
        left_in_paragraph -= 1
        paragraph_end = left_in_paragraph == 0
        yield from _sentence(template, rng, paragraph_start=paragraph_start, paragraph_end=paragraph_end)
        if paragraph_end:
            left_in_paragraph = rng.randint(3, 6)
        template, paragraph_start = rng.choice(templates), paragraph_end


def thinking_pieces(seed: int) -> Iterator[str]:
    """Endless reasoning-like text for one prompt, one token per piece."""
    return _stream(seed, _OPENING, _THINKING)


def answer_pieces(seed: int) -> Iterator[str]:
    """Endless answer-like text starting "Answer:", one token per piece."""
    return _stream(seed, _ANSWER_OPENING, _ANSWER)


def all_pieces() -> set[str]:
    """Every piece the streams can yield (for the single-token test)."""
    pieces = {".\n\n", "?\n\n"}
    for template in (_OPENING, _ANSWER_OPENING, *_THINKING, *_ANSWER):
        for i, word in enumerate(template.split()):
            fillers = {"N": NOUNS, "A": ADJECTIVES}.get(word, [word])
            for text in fillers:
                if text in _PUNCTUATION:
                    pieces.add(text)
                else:
                    pieces.update({text, " " + text} if i == 0 else {" " + text})
    return pieces
