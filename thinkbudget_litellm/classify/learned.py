"""The learned stage: a linear model over the rules' findings and the ask's words (pure).

The rules (``scoring``) read a turn and give a level, an intent, a task and the cues they matched;
they are precise where a cue fires and blind where none does. The learned stage takes what the
rules found as features, adds the words of the ask (unigrams of its head and tail, bigrams of its
head, character pairs for scripts without spaces) and gives calibrated probabilities for each tier
and each task. It is multinomial logistic regression, trained by ``benchmarks/train_classifier.py``
on the labelled sets (never on the frozen test split); its weights ship in ``model/learned.json``.

Scoring is a dictionary lookup and five additions per feature: no numpy, no model runtime.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, NamedTuple

from thinkbudget_litellm.classify.conversation import Conversation
from thinkbudget_litellm.classify.instruction import TurnView
from thinkbudget_litellm.classify.scoring import Judgement, is_cjk
from thinkbudget_litellm.tiers import TIER_ORDER, Task, Tier

HEAD_WORDS: Final = 40
TAIL_WORDS: Final = 24
BIGRAM_WORDS: Final = 24
CJK_CHARS: Final = 48
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


def _step(name: str, value: float, edges: Sequence[float]) -> str:
    """A number as the name of the band it falls in (every feature here is present or absent)."""
    for edge in edges:
        if value < edge:
            return f"{name}<{edge:g}"
    return f"{name}>={edges[-1]:g}"


_LEVEL_EDGES: Final = (0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75)
_LEN_EDGES: Final = (3, 6, 12, 25, 50, 100, 200)
_CHAR_EDGES: Final = (1, 200, 1000, 4000, 12000)


def rule_features(rp: RulePass) -> list[str]:
    """The rules' findings as feature names: levels and sizes by band, intent, task, cues."""
    own, view, conv = rp.own, rp.view, rp.conv
    out = [
        _step("level", rp.level, _LEVEL_EDGES),
        _step("own_level", own.level, _LEVEL_EDGES),
        _step("math_level", own.math_level, _LEVEL_EDGES),
        _step("words", own.n_words, _LEN_EDGES),
        _step("material", view.material_chars, _CHAR_EDGES),
        "intent=" + own.intent,
        "rule_task=" + rp.task.value,
        f"context_turns={min(len(conv.context), 3)}",
    ]
    if rp.inherited:
        out.append(_step("inherited", rp.inherited, _LEVEL_EDGES))
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


def features(rp: RulePass) -> set[str]:
    """Every feature of one request, as trained on (rule features first-class, words prefixed)."""
    return {*rule_features(rp), *("w:" + w for w in word_features(rp))}


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


# Packed scoring: each feature's weights for all classes (tier then task) are fixed-point numbers,
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


class LearnedModel:
    """Both heads in one table: feature -> packed tier and task weights (see ``_pack``)."""

    __slots__ = ("_packed", "_task_classes", "_tier_classes", "default_risk", "meta", "task", "tier")

    def __init__(self, tier: LinearHead, task: LinearHead, default_risk: float, meta: Mapping[str, Any]) -> None:
        self.tier, self.task, self.default_risk, self.meta = tier, task, default_risk, meta
        self._tier_classes = tuple(Tier(c) for c in tier.classes)
        self._task_classes = tuple(Task(c) for c in task.classes)
        zero_tier, zero_task = (0.0,) * len(tier.classes), (0.0,) * len(task.classes)
        names = tier.weights.keys() | task.weights.keys()
        self._packed = {n: _pack(tier.weights.get(n, zero_tier) + task.weights.get(n, zero_task)) for n in names}
        self._packed[""] = _pack(tier.bias + task.bias)  # the bias: always present

    def logits(self, rp: RulePass) -> list[float]:
        get = self._packed.get
        packed = [w for w in map(get, features(rp)) if w is not None]
        packed.append(self._packed[""])
        total, offset = sum(packed), len(packed) * _OFFSET
        lanes = len(self._tier_classes) + len(self._task_classes)
        return [(((total >> (i * _LANE_BITS)) & _MASK) - offset) / _SCALE for i in range(lanes)]

    def predict(self, rp: RulePass) -> tuple[dict[Tier, float], dict[Task, float]]:
        logits = self.logits(rp)
        n = len(self._tier_classes)
        tiers = _softmax(logits[:n], self.tier.temperature)
        tasks = _softmax(logits[n:], self.task.temperature)
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
    )


@cache
def shipped_model() -> LearnedModel | None:
    """The model in the package's data, or None where none was trained yet."""
    path = resources.files("thinkbudget_litellm.classify").joinpath("model", WEIGHTS_FILE)
    if not path.is_file():
        return None
    return parse_model(json.loads(path.read_text(encoding="utf-8")))
