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
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, NamedTuple

from thinkbudget_litellm.classify.conversation import Conversation
from thinkbudget_litellm.classify.instruction import TurnView
from thinkbudget_litellm.classify.scoring import Judgement, is_cjk
from thinkbudget_litellm.classify.tokens import normalise_words
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
        opening = normalise_words(ask[:EDGE_CHARS])[:EDGE_WORDS]
        closing = normalise_words(ask[-EDGE_CHARS:])[-EDGE_WORDS:]
    material = normalise_words(sample[:MATERIAL_CHARS])[:MATERIAL_WORDS] if sample else []
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
_LIST_ITEM: Final = re.compile(r"(?m)^\s*(?:[-*] |\d+\.)")
_SYMBOLS: Final = "^=√∑∫≤≥<>%$"
_ASCII_SYMBOLS: Final = "".join(ch for ch in _SYMBOLS if ch.isascii())


def structure_features(rp: RulePass) -> list[str]:
    """The shape of the ask (question marks, lines, digits, length, symbols, lists) and of the
    conversation (system prompt, tool output, earlier turns), by band. Bounded: the instruction
    is at most ``instruction.INSTRUCTION_LIMIT`` characters."""
    text, conv = rp.view.instruction, rp.conv
    out = [
        _QUESTIONS(text.count("?")),
        _LINES(text.count("\n")),
        _DIGITS(sum(map(text.count, "0123456789")) if text.isascii() else len(_DIGIT.findall(text))),
        _INSTRUCTION_CHARS(len(text)),
        _SYSTEM_CHARS(conv.system_chars),
        _TOOL_CHARS(conv.tool_chars),
        _EARLIER_TURNS(len(conv.context)),
    ]
    out += ["s:sym" + ch for ch in (_ASCII_SYMBOLS if text.isascii() else _SYMBOLS) if ch in text]
    if _LIST_ITEM.search(text):
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
# offset to be non-negative, in lanes of one Python int; adding the ints of a request's features
# adds every class's weights at once (one C-level addition per feature). A lane holds up to
# 2**_LANE_BITS / 2**_OFFSET_BITS features without carrying into the next.
_SCALE: Final = 10_000  # weights rounded to 1e-4
_OFFSET_BITS: Final = 24
_LANE_BITS: Final = 48
_OFFSET: Final = 1 << _OFFSET_BITS
_MASK: Final = (1 << _LANE_BITS) - 1


def _pack(weights: Sequence[float]) -> int:
    packed = 0
    for i, w in enumerate(weights):
        q = round(w * _SCALE) + _OFFSET
        if not 0 <= q < 2 * _OFFSET:
            raise ValueError(f"weight {w} outside the packed range")
        packed |= q << (i * _LANE_BITS)
    return packed


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


class LearnedModel:
    """The heads in one table: feature -> packed weights of every head (see ``_pack``).

    The tier's probabilities are the mean of two readings of the same features, a softmax over
    the tiers (``tier``) and an ordinal reading, one logistic chance per tier that the label lies
    above it (``above``, absent in older weight files), tempered by ``tier.temperature``.
    """

    __slots__ = (
        "_above_lanes",
        "_packed",
        "_tables",
        "_task_classes",
        "_tier_classes",
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
        heads = (tier, task) if above is None else (tier, task, above)
        self._above_lanes = 0 if above is None else len(above.classes)
        zeros = [(0.0,) * len(h.classes) for h in heads]
        names = set().union(*(h.weights.keys() for h in heads))
        self._packed = {
            n: _pack(sum((h.weights.get(n, z) for h, z in zip(heads, zeros, strict=True)), ())) for n in names
        }
        self._packed[""] = _pack(sum((h.bias for h in heads), ()))  # the bias: always present
        self._tables = tuple({n[len(p) :]: v for n, v in self._packed.items() if n.startswith(p)} for p in _PREFIXES)

    def logits(self, rp: RulePass) -> list[float]:
        """Raw scores, lane by lane: tier softmax, task softmax, then the ordinal head's."""
        get = self._packed.get
        packed = [w for w in map(get, shape_features(rp)) if w is not None]
        for table, words in zip(self._tables, word_groups(rp), strict=True):
            packed += [w for w in map(table.get, set(words)) if w is not None]
        packed.append(self._packed[""])
        total, offset = sum(packed), len(packed) * _OFFSET
        lanes = len(self._tier_classes) + len(self._task_classes) + self._above_lanes
        return [(((total >> (i * _LANE_BITS)) & _MASK) - offset) / _SCALE for i in range(lanes)]

    def predict(self, rp: RulePass) -> tuple[dict[Tier, float], dict[Task, float]]:
        logits = self.logits(rp)
        n, m = len(self._tier_classes), len(self._task_classes)
        if self._above_lanes:
            softmax, ordinal = _softmax(logits[:n], 1.0), _ordinal(logits[n + m :])
            tiers = _temper([(a + b) / 2 for a, b in zip(softmax, ordinal, strict=True)], self.tier.temperature)
        else:
            tiers = _softmax(logits[:n], self.tier.temperature)
        tasks = _softmax(logits[n : n + m], self.task.temperature)
        return dict(zip(self._tier_classes, tiers, strict=True)), dict(zip(self._task_classes, tasks, strict=True))


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
