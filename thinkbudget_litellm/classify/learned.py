"""The learned stage: a linear model over the rules' findings and the ask's words (pure).

The rules (``scoring``) read a turn and give a level, an intent, a task and the cues they matched;
they are precise where a cue fires and blind where none does. The learned stage takes what the
rules found as features, adds the shape of the ask and the conversation (by band), the words of
the ask (unigrams of its head and tail, bigrams and five-letter stems of its head, character pairs
for scripts without spaces), the words that open and close a long turn and those that open its
pasted material, and gives calibrated probabilities for each tier and each task. It is logistic
regression (a softmax and an ordinal head for the tier, averaged; a softmax for the task), trained
by ``benchmarks/train_classifier.py`` on the labelled sets (never on the frozen test split); its
weights ship in ``model/learned.json``.

Scoring is a dictionary lookup and one big-integer addition per feature: no numpy, no model runtime.
Every feature is read from a bounded prefix or suffix of the request, so the cost does not grow
with its length beyond the rules' own pass.
"""

from __future__ import annotations

import json
import math
import re
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import repeat
from typing import Any, Final, NamedTuple

from thinkbudget_litellm.classify.conversation import Conversation
from thinkbudget_litellm.classify.instruction import TurnView
from thinkbudget_litellm.classify.scoring import CJK_CHAR, Judgement, is_cjk
from thinkbudget_litellm.classify.tokens import last_words, normalise_words
from thinkbudget_litellm.tiers import TIER_ORDER, Task, Tier

HEAD_WORDS: Final = 40
TAIL_WORDS: Final = 24
BIGRAM_WORDS: Final = 24
CJK_CHARS: Final = 48
STEM_CHARS: Final = 5
EDGE_MIN: Final = 300  # a turn longer than this has its opening and closing words as features
EDGE_CHARS: Final = 150
EDGE_WORDS: Final = 15
MATERIAL_CHARS: Final = 400
MATERIAL_WORDS: Final = 30
WEIGHTS_FILE: Final = "learned.json"


class RulePass(NamedTuple):
    """What the rules made of a request: the inputs of the learned stage."""

    conv: Conversation
    view: TurnView
    own: Judgement
    level: float  # after a follow-up inherited its thread's level
    inherited: float
    task: Task
    reasons: tuple[str, ...]


class _Bands:
    """A number as the name of the band it falls in (every feature here is present or absent):
    ``name<edge`` for the first edge above the value, ``name>=last`` past the last edge. The
    names are made once; reading one is a binary search."""

    __slots__ = ("_edges", "_names")

    def __init__(self, name: str, edges: Sequence[float]) -> None:
        self._edges = tuple(edges)
        self._names = (*(f"{name}<{edge:g}" for edge in edges), f"{name}>={edges[-1]:g}")

    def __call__(self, value: float) -> str:
        return self._names[bisect_right(self._edges, value)]

    def packed(self, table: Mapping[str, int]) -> tuple[int, ...]:
        """Each band's packed weights in ``table`` (0 where the model has none), by band index."""
        return tuple(table.get(name, 0) for name in self._names)

    def by_value(self, table: Mapping[str, int]) -> tuple[int, ...]:
        """For whole numbers from 0: the packed weights of each value's band, by value, up to and
        including the last edge (whose band holds every value from there on)."""
        last = int(self._edges[-1])
        if last != self._edges[-1]:
            raise ValueError("a table by value needs whole edges")
        bands = self.packed(table)
        return tuple(bands[bisect_right(self._edges, v)] for v in range(last + 1))


_LEVEL_EDGES: Final = (0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75)
_LEN_EDGES: Final = (3, 6, 12, 25, 50, 100, 200)
_CHAR_EDGES: Final = (1, 200, 1000, 4000, 12000)
_LEVEL: Final = _Bands("level", _LEVEL_EDGES)
_OWN_LEVEL: Final = _Bands("own_level", _LEVEL_EDGES)
_MATH_LEVEL: Final = _Bands("math_level", _LEVEL_EDGES)
_INHERITED: Final = _Bands("inherited", _LEVEL_EDGES)
_WORDS: Final = _Bands("words", _LEN_EDGES)
_MATERIAL: Final = _Bands("material", _CHAR_EDGES)


def rule_features(rp: RulePass) -> list[str]:
    """The rules' findings as feature names: levels and sizes by band, intent, task, cues."""
    own, view, conv = rp.own, rp.view, rp.conv
    out = [
        _LEVEL(rp.level),
        _OWN_LEVEL(own.level),
        _MATH_LEVEL(own.math_level),
        _WORDS(own.n_words),
        _MATERIAL(view.material_chars),
        "intent=" + own.intent,
        "rule_task=" + rp.task.value,
        f"context_turns={min(len(conv.context), 3)}",
    ]
    if rp.inherited:
        out.append(_INHERITED(rp.inherited))
    out += ["cue=" + kind for kind in own.kinds]
    flags = (
        ("chat_only", own.chat_only),
        ("code_blocks", view.code_blocks),
        ("images", conv.images),
        ("tool_results", conv.tool_results),
        ("system", conv.system_chars),
        ("context_code", conv.context_has_code),
    )
    out += [name for name, on in flags if on]
    return out


def word_features(rp: RulePass) -> Iterator[str]:
    """The ask's words: head and tail unigrams, head bigrams, character pairs of CJK text."""
    words = rp.own.words
    n = len(words)
    head = words[:HEAD_WORDS]
    yield from head
    if n > HEAD_WORDS:
        yield from words[max(HEAD_WORDS, n - TAIL_WORDS) :]
    pairs = head[:BIGRAM_WORDS]
    for i in range(len(pairs) - 1):
        yield pairs[i] + " " + pairs[i + 1]
    if n:
        yield "first=" + words[0]
    text = rp.view.instruction
    if is_cjk(text[:200]):
        sample = "".join(text[:CJK_CHARS].split())
        for i in range(len(sample) - 1):
            yield sample[i : i + 2]


def stem_words(rp: RulePass) -> list[str]:
    """The first ``STEM_CHARS`` letters of the ask's longer head words: one feature for a word's
    inflections (``explain``/``explained``, ``berechne``/``berechnen``)."""
    return [w[:STEM_CHARS] for w in rp.own.words[:HEAD_WORDS] if len(w) > STEM_CHARS]


def edge_words(rp: RulePass) -> tuple[list[str], list[str], list[str]]:
    """The words that open and close a long turn as it was sent, whatever the instruction
    extraction kept ("saving this here, no need to reply" after a paste), and the first words of
    the pasted material (a stack trace, a CSV, a poem)."""
    ask, sample = rp.conv.ask, rp.view.sample
    opening: list[str] = []
    closing: list[str] = []
    if len(ask) > EDGE_MIN:
        opening = normalise_words(ask[:EDGE_CHARS], EDGE_WORDS)
        closing = last_words(ask[-EDGE_CHARS:], EDGE_WORDS)
    material = normalise_words(sample[:MATERIAL_CHARS], MATERIAL_WORDS) if sample else []
    return opening, closing, material


# The word-like features, by the prefix their names carry: ask words, stems, opening, closing and
# material words. Scoring looks the raw words up in one table per prefix (no names built).
_PREFIXES: Final = ("w:", "x:", "b:", "e:", "m:")


def word_groups(rp: RulePass) -> tuple[Iterable[str], ...]:
    """The raw words of each prefix in ``_PREFIXES``, in that order."""
    return (word_features(rp), stem_words(rp), *edge_words(rp))


_DIGIT: Final = re.compile(r"\d")
_QUESTIONS: Final = _Bands("s:q", (1, 2, 3, 5))
_LINES: Final = _Bands("s:nl", (1, 3, 8, 20))
_DIGITS: Final = _Bands("s:digits", (1, 4, 10, 30))
_INSTRUCTION_CHARS: Final = _Bands("s:ichars", (20, 60, 150, 400, 1000))
_SYSTEM_CHARS: Final = _Bands("s:sys", (1, 200, 1000))
_TOOL_CHARS: Final = _Bands("s:tool", (1, 500, 3000))
_EARLIER_TURNS: Final = _Bands("s:ctxn", (1, 2, 4))
_LIST_ITEM_BODY: Final = r"\s*(?:[-*] |\d+\.)"
_LIST_ITEM: Final = re.compile(r"(?m)^" + _LIST_ITEM_BODY)
_LIST_ITEM_AFTER_BREAK: Final = re.compile(r"\n" + _LIST_ITEM_BODY)  # a literal first: the engine skips to it
# the ASCII characters that can start a match of _LIST_ITEM: a dash, a star, a digit, a space (\s)
_LIST_STARTS: Final = frozenset("-*0123456789 \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
_SYMBOLS: Final = "^=√∑∫≤≥<>%$"
_ASCII_SYMBOLS: Final = "".join(ch for ch in _SYMBOLS if ch.isascii())


_NO_WORDS: Final[dict[str, int]] = {}  # the bigram table of a word that starts none
_DIGIT_BYTES: Final = b"0123456789"
_ASCII_BYTES: Final = bytes(range(128))


def _digit_count(text: str, ascii_text: bool) -> int:
    """``len(_DIGIT.findall(text))``: the ASCII digits counted in the UTF-8 bytes, then the other
    decimal digits among the non-ASCII characters alone (a short string, usually empty of them)."""
    if ascii_text:
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _DIGIT_BYTES))
    raw = text.encode("utf-8", "surrogatepass")
    count = len(raw) - len(raw.translate(None, _DIGIT_BYTES))
    return count + len(_DIGIT.findall(raw.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")))


def _has_list_item(text: str) -> bool:
    """``_LIST_ITEM.search(text)``: an item starts a line, at the start of the text (whose first
    character must then be one that can start a match) or after a line break."""
    first = text[:1]
    if (first in _LIST_STARTS or not first.isascii()) and _LIST_ITEM.match(text) is not None:
        return True
    return "\n" in text and _LIST_ITEM_AFTER_BREAK.search(text) is not None


def line_breaks(text: str) -> int:
    """The line breaks inside the ask: blank space around it (a trailing newline from a file or
    a terminal) does not change its shape."""
    return text.strip().count("\n") if "\n" in text else 0


def structure_features(rp: RulePass) -> list[str]:
    """The shape of the ask (question marks, lines, digits, length, symbols, lists) and of the
    conversation (system prompt, tool output, earlier turns), by band. Bounded: the instruction
    is at most ``instruction.INSTRUCTION_LIMIT`` characters."""
    text, conv = rp.view.instruction, rp.conv
    out = [
        _QUESTIONS(text.count("?")),
        _LINES(line_breaks(text)),
        _DIGITS(_digit_count(text, text.isascii())),
        _INSTRUCTION_CHARS(len(text)),
        _SYSTEM_CHARS(conv.system_chars),
        _TOOL_CHARS(conv.tool_chars),
        _EARLIER_TURNS(len(conv.context)),
    ]
    out += ["s:sym" + ch for ch in (_ASCII_SYMBOLS if text.isascii() else _SYMBOLS) if ch in text]
    if _has_list_item(text):
        out.append("s:list")
    return out


def shape_features(rp: RulePass) -> set[str]:
    """The rules' findings and the shapes: the features whose names carry no word prefix."""
    return {*rule_features(rp), *structure_features(rp)}


def features(rp: RulePass) -> set[str]:
    """Every feature of one request, as trained on: rule and shape features by name, words with
    the prefix of their group (``w:`` ask words, ``x:`` stems, ``b:``/``e:`` opening/closing
    words of a long turn, ``m:`` material words)."""
    out = shape_features(rp)
    for prefix, words in zip(_PREFIXES, word_groups(rp), strict=True):
        out.update(prefix + w for w in words)
    return out


@dataclass(frozen=True, slots=True)
class LinearHead:
    """One softmax layer as trained: per-class bias and weights per feature."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]
    temperature: float

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LinearHead:
        return cls(
            classes=tuple(doc["classes"]),
            bias=tuple(doc["bias"]),
            weights={k: tuple(v) for k, v in doc["weights"].items()},
            temperature=float(doc["temperature"]),
        )


def _softmax(logits: Sequence[float], temperature: float) -> list[float]:
    top = max(logits)
    exps = [math.exp((x - top) / temperature) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


# Packed scoring: each feature's weights for all classes (tier, task, ordinal) are fixed-point numbers,
# offset to be non-negative, in the lanes of one Python int, with a last lane that counts the features
# (1 in each); adding the ints of a request's features adds every class's weights at once (one
# C-level addition per feature), and one ``struct`` call reads the lanes back. The lanes are 32 bits
# wide where the weights fit (|weight| < 3.2 with a 16-bit offset), else 64: either way a lane holds
# at least ``_MAX_FEATURES`` features without carrying into the next, far more than one request has.
_SCALE: Final = 10_000  # weights rounded to 1e-4
_MAX_FEATURES: Final = 1 << 15


class _Packing(NamedTuple):
    offset: int  # added to every rounded weight: lanes hold non-negative numbers
    lane_bits: int
    lanes: struct.Struct  # the class lanes and the count lane, little-endian


def _quantised(row: Sequence[float]) -> list[int]:
    return [round(w * _SCALE) for w in row]


def _packing(quantised: Iterable[Sequence[int]], classes: int) -> _Packing:
    """The narrowest lanes that hold ``_MAX_FEATURES`` features of these (quantised) weights."""
    top = max((max(max(q), -min(q)) for q in quantised if q), default=0)
    for lane_bits, code in ((32, "I"), (64, "Q")):
        offset = 1 << (lane_bits - 1 - _MAX_FEATURES.bit_length())
        if top < offset:
            return _Packing(offset, lane_bits, struct.Struct(f"<{classes + 1}{code}"))
    raise ValueError("weights outside the packed range")


def _pack(quantised: Sequence[int], packing: _Packing) -> int:
    """One int: lane i holds weight i plus the offset, the lane after them the count 1 (the lanes
    laid out little-endian by ``packing.lanes``, so bit ``i * lane_bits`` starts lane i)."""
    offset = packing.offset
    if quantised and not (-offset <= min(quantised) and max(quantised) < offset):
        raise ValueError(f"weights {quantised} outside the packed range")
    return int.from_bytes(packing.lanes.pack(*(q + offset for q in quantised), 1), "little")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _ordinal(logits: Sequence[float]) -> list[float]:
    """Tier probabilities from the chances that the label lies above each tier but the last
    (made non-increasing, so every tier keeps a chance of at least ``_FLOOR``)."""
    probs, prev = [], 1.0
    for x in logits:
        above = min(prev, _sigmoid(x))
        probs.append(max(prev - above, _FLOOR))
        prev = above
    probs.append(max(prev, _FLOOR))
    total = sum(probs)
    return [p / total for p in probs]


def _temper(probs: Sequence[float], temperature: float) -> list[float]:
    powered = [p ** (1.0 / temperature) for p in probs]
    total = sum(powered)
    return [p / total for p in powered]


_FLOOR: Final = 1e-6
_TierReader = Callable[[tuple[int, ...], int, float], list[float]]


def _tier_reader(tiers: int, above: int, first_above: int) -> _TierReader:
    """``(lanes, offset per feature, 1 / temperature) -> tier probabilities`` for a model with an
    ordinal head: ``_softmax`` at temperature 1 (x / 1.0 is x), ``_ordinal``, their mean and
    ``_temper``, written out for these numbers of lanes with no loop or list between the steps, the
    same floating-point operations in the same order (sums stay ``sum`` calls: the same summation).
    ``tests/classify/test_classify_learned.py`` checks it against those functions bit for bit."""
    tier = range(tiers)
    logit = ", ".join(f"l{i}" for i in tier)
    lines = ["def tier_probabilities(lanes, unit, power):", "    offset = lanes[-1] * unit"]
    lines += [f"    l{i} = (lanes[{i}] - offset) / SCALE" for i in tier]
    lines += [f"    top = max(({logit},))", *(f"    e{i} = exp(l{i} - top)" for i in tier)]
    lines += [f"    exp_total = sum(({', '.join(f'e{i}' for i in tier)},))", "    prev = 1.0"]
    for j in range(above):
        lines += [
            f"    x = (lanes[{first_above + j}] - offset) / SCALE",
            "    if x >= 0:",
            "        chance = 1.0 / (1.0 + exp(-x))",
            "    else:",
            "        e = exp(x)",
            "        chance = e / (1.0 + e)",
            "    above = prev if prev <= chance else chance",
            "    gap = prev - above",
            f"    p{j} = gap if gap >= FLOOR else FLOOR",
            "    prev = above",
        ]
    lines += [f"    p{above} = prev if prev >= FLOOR else FLOOR"]
    lines += [f"    ordinal_total = sum(({', '.join(f'p{i}' for i in range(above + 1))},))"]
    lines += [f"    w{i} = ((e{i} / exp_total + p{i} / ordinal_total) / 2) ** power" for i in tier]
    lines += [f"    total = sum(({', '.join(f'w{i}' for i in tier)},))"]
    lines += [f"    return [{', '.join(f'w{i} / total' for i in tier)}]"]
    namespace: dict[str, Any] = {"exp": math.exp, "FLOOR": _FLOOR, "SCALE": _SCALE}
    exec("\n".join(lines), namespace)  # generated from the lane counts above, nothing else
    reader: _TierReader = namespace["tier_probabilities"]
    return reader


class _Tables:
    """The packed weights of every feature, by what names it: by band index for the banded features,
    by the raw value for the keyed ones (intent, rule task, cue kind, symbol) and by word for each
    word group, so that scoring builds no feature names. 0 (or no entry) where the model has no
    weight. ``features()`` stays the definition of the features: ``LearnedModel.logits`` reads the
    same ones from these tables, and ``tests/classify/test_classify_learned.py`` checks that the two
    agree on the labelled prompts."""

    __slots__ = (
        "bias",
        "bigram",
        "chat_only",
        "code_blocks",
        "context_code",
        "context_turns",
        "cue",
        "digits",
        "earlier_turns",
        "first",
        "images",
        "inherited",
        "instruction_chars",
        "intent",
        "level",
        "lines",
        "list_item",
        "material",
        "math_level",
        "own_level",
        "questions",
        "rule_task",
        "symbols",
        "symbols_ascii",
        "system",
        "system_chars",
        "tool_chars",
        "tool_results",
        "word",
        "word_groups",
        "words",
    )

    def __init__(self, packed: Mapping[str, int]) -> None:
        def keyed(prefix: str) -> dict[str, int]:
            return {n[len(prefix) :]: v for n, v in packed.items() if n.startswith(prefix)}

        self.bias = packed[""]
        self.level = _LEVEL.packed(packed)
        self.own_level = _OWN_LEVEL.packed(packed)
        self.math_level = _MATH_LEVEL.packed(packed)
        self.inherited = _INHERITED.packed(packed)
        self.words = _WORDS.by_value(packed)
        self.material = _MATERIAL.packed(packed)
        self.intent = keyed("intent=")
        self.rule_task = keyed("rule_task=")
        self.context_turns = tuple(packed.get(f"context_turns={k}", 0) for k in range(4))
        self.cue = keyed("cue=")
        self.chat_only = packed.get("chat_only", 0)
        self.code_blocks = packed.get("code_blocks", 0)
        self.images = packed.get("images", 0)
        self.tool_results = packed.get("tool_results", 0)
        self.system = packed.get("system", 0)
        self.context_code = packed.get("context_code", 0)
        # counts and lengths (never negative) by value: an index instead of a binary search
        self.questions = _QUESTIONS.by_value(packed)
        self.lines = _LINES.by_value(packed)
        self.digits = _DIGITS.by_value(packed)
        self.instruction_chars = _INSTRUCTION_CHARS.by_value(packed)
        self.system_chars = _SYSTEM_CHARS.by_value(packed)
        self.tool_chars = _TOOL_CHARS.by_value(packed)
        self.earlier_turns = _EARLIER_TURNS.by_value(packed)
        # only the symbols that weigh something are looked for
        self.symbols = tuple((ch, packed["s:sym" + ch]) for ch in _SYMBOLS if "s:sym" + ch in packed)
        self.symbols_ascii = tuple((ch, v) for ch, v in self.symbols if ch.isascii())
        self.list_item = packed.get("s:list", 0)
        words = [keyed(prefix) for prefix in _PREFIXES]
        # ask words: unigrams and CJK pairs by the word, bigrams by the pair of words, first=<word> by the word
        ask = words[0]
        self.first = {n[len("first=") :]: v for n, v in ask.items() if n.startswith("first=")}
        self.bigram: dict[str, dict[str, int]] = {}  # first word -> second word -> packed weights
        for n, v in ask.items():
            first, space, second = n.partition(" ")
            if space:
                self.bigram.setdefault(first, {})[second] = v
        self.word = {n: v for n, v in ask.items() if " " not in n and not n.startswith("first=")}
        self.word_groups = tuple(words[1:])  # stems, opening, closing and material words


class LearnedModel:
    """The heads in one table: feature -> packed weights of every head (see ``_pack``).

    The tier's probabilities are the mean of two readings of the same features, a softmax over
    the tiers (``tier``) and an ordinal reading, one logistic chance per tier that the label lies
    above it (``above``, absent in older weight files), tempered by ``tier.temperature``.
    """

    __slots__ = (
        "_above_lanes",
        "_lanes",
        "_n",
        "_nm",
        "_offset",
        "_packed",
        "_power",
        "_size",
        "_t",
        "_task_classes",
        "_tier_classes",
        "_tiers",
        "above",
        "default_risk",
        "meta",
        "task",
        "tier",
    )

    def __init__(
        self,
        tier: LinearHead,
        task: LinearHead,
        default_risk: float,
        meta: Mapping[str, Any],
        above: LinearHead | None = None,
    ) -> None:
        self.tier, self.task, self.above, self.default_risk, self.meta = tier, task, above, default_risk, meta
        self._tier_classes = tuple(Tier(c) for c in tier.classes)
        self._task_classes = tuple(Task(c) for c in task.classes)
        if above is not None and len(above.classes) != len(tier.classes) - 1:
            raise ValueError("the ordinal head needs one class per tier but the last")
        if not (tier.temperature > 0 and task.temperature > 0):
            raise ValueError("temperatures must be positive")  # the task's argmax is read before its softmax
        heads = (tier, task) if above is None else (tier, task, above)
        self._above_lanes = 0 if above is None else len(above.classes)
        zeros = [(0.0,) * len(h.classes) for h in heads]
        names = set().union(*(h.weights.keys() for h in heads))
        rows = {n: sum((h.weights.get(n, z) for h, z in zip(heads, zeros, strict=True)), ()) for n in names}
        rows[""] = sum((h.bias for h in heads), ())  # the bias: always present
        quantised = {n: _quantised(row) for n, row in rows.items()}
        packing = _packing(quantised.values(), len(rows[""]))
        self._packed = {n: _pack(q, packing) for n, q in quantised.items()}
        if len({id(v) for v in self._packed.values()}) != len(self._packed):
            raise ValueError("each feature needs its own packed int")  # _total tells bigrams apart by identity
        self._offset, self._lanes, self._size = packing.offset, packing.lanes, packing.lanes.size
        self._t = _Tables(self._packed)
        self._n = len(self._tier_classes)
        self._nm = self._n + len(self._task_classes)
        self._power = 1.0 / tier.temperature  # as ``_temper`` computes it
        self._tiers = None if above is None else _tier_reader(self._n, self._above_lanes, self._nm)

    def _total(self, rp: RulePass) -> int:
        """The sum of the packed weights of ``features(rp)`` and the bias, read from the tables."""
        t = self._t
        own, view, conv = rp.own, rp.view, rp.conv
        text = view.instruction
        context = len(conv.context)
        # the rules' findings (``rule_features``)
        words_band, questions, lines = t.words, t.questions, t.lines
        digits, ichars, sys_chars, tool_chars = t.digits, t.instruction_chars, t.system_chars, t.tool_chars
        n_words, n_chars = own.n_words, len(text)
        system, tool = conv.system_chars, conv.tool_chars
        total = (
            t.bias
            + t.level[bisect_right(_LEVEL_EDGES, rp.level)]
            + t.own_level[bisect_right(_LEVEL_EDGES, own.level)]
            + t.math_level[bisect_right(_LEVEL_EDGES, own.math_level)]
            + (words_band[n_words] if n_words < len(words_band) else words_band[-1])
            + t.material[bisect_right(_CHAR_EDGES, view.material_chars)]
            + t.intent.get(own.intent, 0)
            + t.rule_task.get(rp.task._value_, 0)
            + t.context_turns[3 if context > 3 else context]
            + sum(filter(None, map(t.cue.get, own.kinds)))
        )
        if rp.inherited:
            total += t.inherited[bisect_right(_LEVEL_EDGES, rp.inherited)]
        if own.chat_only:
            total += t.chat_only
        if view.code_blocks:
            total += t.code_blocks
        if conv.images:
            total += t.images
        if conv.tool_results:
            total += t.tool_results
        if system:
            total += t.system
        if conv.context_has_code:
            total += t.context_code
        # the shapes (``structure_features``); a count is looked for before it is counted
        ascii_text = text.isascii()
        n_questions = text.count("?") if "?" in text else 0
        n_lines = line_breaks(text)
        n_digits = _digit_count(text, ascii_text)
        total += (
            (questions[n_questions] if n_questions < len(questions) else questions[-1])
            + (lines[n_lines] if n_lines < len(lines) else lines[-1])
            + (digits[n_digits] if n_digits < len(digits) else digits[-1])
            + (ichars[n_chars] if n_chars < len(ichars) else ichars[-1])
            + (sys_chars[system] if system < len(sys_chars) else sys_chars[-1])
            + (tool_chars[tool] if tool < len(tool_chars) else tool_chars[-1])
            + t.earlier_turns[context if context < len(t.earlier_turns) else -1]
        )
        for ch, weights in t.symbols_ascii if ascii_text else t.symbols:
            if ch in text:
                total += weights
        if t.list_item and _has_list_item(text):
            total += t.list_item
        # the ask's words (``word_features``): each distinct word once
        words = own.words
        n = len(words)
        head = words[:HEAD_WORDS]
        unigrams = set(head)
        if n > HEAD_WORDS:
            unigrams.update(words[max(HEAD_WORDS, n - TAIL_WORDS) :])
        if not ascii_text and CJK_CHAR.search(text, 0, 200):  # is_cjk(text[:200])
            sample = "".join(text[:CJK_CHARS].split())
            unigrams.update([sample[i : i + 2] for i in range(len(sample) - 1)])
        total += sum(filter(None, map(t.word.get, unigrams)))
        if n:
            total += t.first.get(words[0], 0)
            # bigrams: each first word's table of second words; a pair met twice is one feature, and
            # each feature has its own int object, so the few found are told apart by identity
            pairs = head[:BIGRAM_WORDS]
            found = [*filter(None, map(dict.get, map(t.bigram.get, pairs, repeat(_NO_WORDS)), pairs[1:]))]
            total += sum({id(v): v for v in found}.values()) if len(found) > 1 else sum(found)
        # stems, then the opening, closing and material words
        stems, opening, closing, material = t.word_groups
        total += sum(filter(None, map(stems.get, {w[:STEM_CHARS] for w in head if len(w) > STEM_CHARS})))
        edges = edge_words(rp)
        for table, group in ((opening, edges[0]), (closing, edges[1]), (material, edges[2])):
            if group:
                total += sum(filter(None, map(table.get, set(group))))
        return total

    def logits(self, rp: RulePass) -> list[float]:
        """Raw scores, lane by lane: tier softmax, task softmax, then the ordinal head's."""
        *lanes, count = self._lanes_of(rp)
        offset = count * self._offset
        return [(lane - offset) / _SCALE for lane in lanes]

    def _lanes_of(self, rp: RulePass) -> tuple[int, ...]:
        """The packed total read back: each class's lane (its logit times ``_SCALE``, plus the offset
        once per feature), then the count of features."""
        return self._lanes.unpack(self._total(rp).to_bytes(self._size, "little"))

    def _tier_probabilities(self, lanes: tuple[int, ...]) -> list[float]:
        """The tiers' probabilities in class order, from the lanes (see ``_tier_reader``)."""
        if self._tiers is None:
            offset = lanes[-1] * self._offset
            return _softmax([(lane - offset) / _SCALE for lane in lanes[: self._n]], self.tier.temperature)
        return self._tiers(lanes, self._offset, self._power)

    def predict(self, rp: RulePass) -> tuple[dict[Tier, float], dict[Task, float]]:
        lanes = self._lanes_of(rp)
        offset = lanes[-1] * self._offset
        tasks = _softmax([(lane - offset) / _SCALE for lane in lanes[self._n : self._nm]], self.task.temperature)
        return (
            dict(zip(self._tier_classes, self._tier_probabilities(lanes), strict=True)),
            dict(zip(self._task_classes, tasks, strict=True)),
        )

    def tiers_and_task(self, rp: RulePass) -> tuple[dict[Tier, float], Task]:
        """``predict``'s tier probabilities and its likeliest task, the first of equals.

        The task is read from the lanes: logits are whole multiples of 1/``_SCALE``, so distinct
        logits stay distinct, and in the same order, through the softmax (whose largest value is
        exp(0) / total), and the first largest lane is the first largest probability.
        """
        lanes = self._lanes_of(rp)
        tasks = lanes[self._n : self._nm]
        return (
            dict(zip(self._tier_classes, self._tier_probabilities(lanes), strict=True)),
            self._task_classes[tasks.index(max(tasks))],
        )


def decide_tier(probabilities: Mapping[Tier, float], risk: float) -> Tier:
    """The lowest tier whose chance of being too low (the label lies above it) is at most ``risk``.

    The rubric is asymmetric: a budget too small costs accuracy, one too large costs nothing
    unused. ``risk`` 0.5 takes the median tier; a smaller risk goes up when the model is torn.
    """
    above = 1.0
    for tier in TIER_ORDER:
        above -= probabilities.get(tier, 0.0)
        if above <= risk + 1e-12:
            return tier
    return TIER_ORDER[-1]


def parse_model(doc: Mapping[str, Any]) -> LearnedModel:
    return LearnedModel(
        tier=LinearHead.from_json(doc["tier"]),
        task=LinearHead.from_json(doc["task"]),
        default_risk=float(doc["default_risk"]),
        meta=dict(doc.get("meta", {})),
        above=LinearHead.from_json(doc["above"]) if "above" in doc else None,
    )


@cache
def shipped_model() -> LearnedModel | None:
    """The model in the package's data, or None where none was trained yet."""
    path = resources.files("thinkbudget_litellm.classify").joinpath("model", WEIGHTS_FILE)
    if not path.is_file():
        return None
    return parse_model(json.loads(path.read_text(encoding="utf-8")))
