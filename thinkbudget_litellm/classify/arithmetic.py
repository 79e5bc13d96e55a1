"""How hard the arithmetic in a request is, judged from the numbers themselves.

The level is on the classifier's 0-4 scale (1 simple, 2 moderate, 3 complex, 4 deep):

- ``2+3`` and ``7 x 8`` are simple. ``4821 x 7395`` and ``3^15`` are moderate. An
  8-digit by 8-digit product is complex.
- A primality or factorisation question is graded by the size of its number: 91 is
  simple, 391 moderate, 1,000,003 complex, 20 digits or ``2^89-1`` deep.
- A power tower (``3^(3^100)``) is deep.
- Several numbers with word-problem vocabulary make a grade-school word problem (moderate).

"-" and "/" count as operators only between numbers with spaces around them, or in a tiny
prompt such as "144/12". That way "24/7", "2024-05-01" and "ls -la" are not arithmetic.

All patterns are linear. They have no nested quantifiers. Numbers are matched with possessive
quantifiers and only from the start of a digit run, so a long run of digits is scanned once.
The patterns that need a rarer character ("%", "!", "^(") run only when that character is present.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from thinkbudget_litellm.classify import lexicon as lx

# A number starts at a digit that does not continue a number: the lookbehind sits after the
# first digit so the engine can still skip quickly to digits.
_NUM: Final = r"\d(?<![\d,.]\d)[\d,]*+(?:\.\d++)?+"


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first (so no word hides a longer one); never matches if empty."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)"


# Operators written as words ("times", "dividido por") and verbs ("multiply 12 by 7") come from the cue data.
_WORD_OPERATORS: Final = {op.word: op for op in lx.CUES.word_operators}
_VERB_OPERATORS: Final = lx.CUES.verb_operators
_BINOP: Final = re.compile(rf"({_NUM})(\s*)(\*\*|[-+*/×x÷^·])(\s*)(?=({_NUM}))")
_WORD_OP: Final = re.compile(rf"({_NUM})\s+({_alternation(_WORD_OPERATORS)})\s*(?=({_NUM}))")
_VERB_OP: Final = re.compile(
    rf"({_alternation(_VERB_OPERATORS)})\s+({_NUM})\s+(?:{_alternation(lx.CUES.verb_operator_links)})\s+({_NUM})"
)
_POWER: Final = re.compile(rf"({_NUM})\s*(?:\^|\*\*)\s*\(?\s*({_NUM})")
_TOWER: Final = re.compile(r"\^\s*\(\s*\d+\s*\^")
_PERCENT: Final = re.compile(rf"({_NUM})\s*%\s*(?:{_alternation(lx.CUES.percent_of)})\s*\$?({_NUM})")
_FACTORIAL: Final = re.compile(r"(\d+)!(?!=)")
_PERCENT_OF: Final = re.compile(rf"%\s*(?:{_alternation(lx.CUES.percent_of)})\s*\$?\d")  # in every _PERCENT match
# "the last 3 digits": the word before the number is probed for first (a substring check is cheap)
_LAST_DIGITS_PROBES: Final = tuple(dict.fromkeys(before for before, _ in lx.CUES.last_digits))
_LAST_DIGITS: Final = re.compile(
    "|".join(rf"{re.escape(before)}\s+\d+\s+{re.escape(after)}" for before, after in lx.CUES.last_digits) or "(?!)"
)
_NUMBER: Final = re.compile(_NUM)
_QUANTITY: Final = re.compile(r"\d++(?:[.,:/-]\d++)*+")  # "24/7", "16:30" and "2024-05-01" are one quantity
_MATH_SYMBOLS: Final = lx.CUES.math_symbols
_OPERATOR_HINTS: Final = ("+", "*", "^", " - ", " / ", " x ", "×", "÷", "·")
TINY_PROMPT: Final = 20
SCAN_LIMIT: Final = 400  # only the head of a long instruction is scanned for arithmetic
Found = tuple[float, str]  # the best level so far and why


def _digits(num: str) -> int:
    return len(num) - num.count(",") - num.count(".")


def _significant(num: str) -> int:
    """Digits without separators, decimals or trailing zeros (100 x 300 is easy)."""
    whole = num.split(".")[0].replace(",", "")
    return max(1, len(whole.rstrip("0")))


def _value(num: str) -> float:
    try:
        return float(num.replace(",", ""))
    except ValueError:
        return 0.0


def _magnitude_of_power(base: str, exponent: str) -> float:
    b, e = _value(base), _value(exponent)
    if b <= 1 or e <= 0:
        return 1.0
    return e * math.log10(b)


def _op_level(op: str, left: str, right: str) -> float:
    if op in "+-":
        biggest = max(_digits(left), _digits(right))
        return 1.0 if biggest <= 3 else 2.0 if biggest < 15 else 3.0
    a, b = _significant(left), _significant(right)
    if op in "*×x·":
        lo, hi = min(a, b), max(a, b)
        if lo + hi >= 12:
            return 3.0
        if lo == 1:
            return 1.0 if hi <= 3 else 2.0
        return 2.0
    if op in "/÷":
        if a >= 10:
            return 3.0
        return 1.0 if a <= 3 and b <= 2 else 2.0
    # powers
    base_v, exp_v = _value(left), _value(right)
    magnitude = _magnitude_of_power(left, right)
    if magnitude <= 4 or (base_v in (2.0, 10.0) and exp_v <= 20):
        return 1.0
    return 2.0


def _has_operator(low: str) -> bool:
    """One of ``_OPERATOR_HINTS`` in ``low`` (spelt out: a generator costs more than the probes)."""
    return (
        "+" in low
        or "*" in low
        or "^" in low
        or " - " in low
        or " / " in low
        or " x " in low
        or "×" in low
        or "÷" in low
        or "·" in low
    )


def has_math_symbols(text: str) -> bool:
    return any(sym in text for sym in _MATH_SYMBOLS)


def has_digit(text: str) -> bool:
    """An ASCII digit in ``text``: ten memchr-speed probes beat one regex scan (and a generator)."""
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    )


def arithmetic_level(
    text: str, kinds: Mapping[str, Sequence[str]], floor: float = 0.0, lowered: str | None = None
) -> tuple[float, str]:
    """(level, reason) for the arithmetic in ``text``; (0.0, '') when there is none.

    ``floor`` is the level other cues already reached: checks that cannot go above it are
    skipped, because the caller keeps the higher of the two anyway. ``lowered`` is
    ``text.lower()`` when the caller has it already.
    """
    if floor >= 4.0:
        return 0.0, ""
    scan = text if len(text) <= SCAN_LIMIT else text[:SCAN_LIMIT]
    if not has_digit(scan):
        return 0.0, ""
    if lowered is not None and (text.isascii() or (len(lowered) == len(text) and "Σ" not in text)):
        # lower-casing is position for position, so the head of the lowered text is the lowered head:
        # always for ASCII, and for other text unless a character grew (dotted I) or a capital sigma
        # took its final form from what follows it
        low = lowered if len(lowered) <= SCAN_LIMIT else lowered[:SCAN_LIMIT]
    else:
        low = scan.lower()
    found: Found = (0.0, "")
    if floor < 3.0:
        # the hardest operation written with symbols, words or verbs; a chain of three is moderate
        tiny = len(scan.strip()) <= TINY_PROMPT
        best, why, operators = _symbol_operations(low, tiny) if tiny or _has_operator(low) else (0.0, "", 0)
        if lx.WORD_OP in kinds:
            best, why, operators = _word_operations(low, best, why, operators)
        found = (max(best, 2.0), why + " (chain)") if operators >= 3 and best >= 1.0 else (best, why)
    if floor < 2.0 and ("%" in low or "!" in low):
        found = _percent_and_factorial(low, found)
    if floor < 3.5 and "^" in low and _TOWER.search(low):
        found = (3.5, "power tower")
    elif floor < 3.0 and found[0] < 3.0 and _last_digits(low):
        found = (3.0, "last digits of a large number")
    if lx.PRIME_WORD in kinds:
        found = _primality(low, found)
    if found[0] < 2.0 and floor < 2.0 and lx.WORD_MATH in kinds:
        found = _word_problem(low, kinds, found)
    return found


def _symbol_operations(low: str, tiny: bool) -> tuple[float, str, int]:
    best, why, operators = 0.0, "", 0
    for m in _BINOP.finditer(low):
        left, space_l, op, space_r, right = m.groups()
        if op in "-/" and not tiny and not (space_l and space_r):
            continue
        if op == "x" and (space_l and not space_r):
            continue  # "3 x-axis"
        operators += 1
        op_kind = "^" if op in ("^", "**") else op
        level = _op_level(op_kind, left, right)
        if level > best:
            best, why = level, f"arithmetic {left}{op}{right}"
    return best, why, operators


def _word_operations(low: str, best: float, why: str, operators: int) -> tuple[float, str, int]:
    """Operators written as words ("12 times 7") and verbs ("multiply 12 by 7")."""
    for m in _WORD_OP.finditer(low):
        left, word, right = m.groups()
        operators += 1
        spec = _WORD_OPERATORS[word]
        level = _op_level(spec.op, left.replace(".", ",") if spec.dot_groups_thousands else left, right)
        if level > best:
            best, why = level, f"arithmetic {left} {word} {right}"
    for m in _VERB_OP.finditer(low):
        verb, left, right = m.groups()
        operators += 1
        level = _op_level(_VERB_OPERATORS[verb], left, right)
        if level > best:
            best, why = level, f"arithmetic: {verb} {left} and {right}"
    return best, why, operators


def _percent_and_factorial(low: str, found: Found) -> Found:
    best, why = found
    # a percentage is "<number> % <word> <number>": the part after the sign is looked for first
    for m in _PERCENT.finditer(low) if "%" in low and _PERCENT_OF.search(low) else ():
        pct, of = m.groups()
        level = 2.0 if "." in pct or _significant(of) >= 3 else 1.0
        if level > best:
            best, why = level, f"percentage {pct}% of {of}"
    for m in _FACTORIAL.finditer(low) if "!" in low else ():
        if _value(m.group(1)) >= 10 and best < 2.0:
            best, why = 2.0, f"factorial {m.group(1)}!"
    return best, why


def _last_digits(low: str) -> bool:
    for probe in _LAST_DIGITS_PROBES:  # a loop: a generator costs more than the probes
        if probe in low:
            return _LAST_DIGITS.search(low) is not None
    return False


def _primality(low: str, found: Found) -> Found:
    """A primality or factoring question, graded by the size of its number."""
    magnitude = max((_digits(n.split(".")[0]) for n in _NUMBER.findall(low)), default=0)
    for m in _POWER.finditer(low) if "^" in low or "**" in low else ():  # a power needs one of them
        magnitude = max(magnitude, int(_magnitude_of_power(m.group(1), m.group(2))) + 1)
    if magnitude:
        level = 1.0 if magnitude <= 2 else 2.0 if magnitude <= 6 else 3.0 if magnitude <= 12 else 4.0
        if level > found[0]:
            return level, f"primality/factoring of a {magnitude}-digit number"
    return found


def _word_problem(low: str, kinds: Mapping[str, Sequence[str]], found: Found) -> Found:
    count = len(_QUANTITY.findall(low))
    cues = len(set(kinds[lx.WORD_MATH]))
    if count >= 2 or (count == 1 and cues >= 2):
        return 2.0, f"word problem with {count} numbers"
    return found
