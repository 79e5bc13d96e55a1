"""The figures behind a classification, built only when someone reads them.

Most callers (the proxy hook) use the tier and the task and never look at the features, so
``Features`` keeps references to the scorer's results and builds its dict on first access.
It is read-only, like the mapping proxy it replaces.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from thinkbudget_litellm.classify.classification import FeatureValue

if TYPE_CHECKING:
    from thinkbudget_litellm.classify.learned import RulePass


class Features(Mapping[str, FeatureValue]):
    """Read-only ``name -> value`` view of what decided one classification."""

    __slots__ = ("_data", "_rp")

    def __init__(self, rp: RulePass) -> None:
        self._rp = rp
        self._data: dict[str, FeatureValue] | None = None

    def _dict(self) -> dict[str, FeatureValue]:
        data = self._data
        if data is None:
            rp = self._rp
            own, view, conv = rp.own, rp.view, rp.conv
            data = {
                "intent": own.intent,
                "level": rp.level,
                "own_level": own.level,
                "inherited_level": rp.inherited,
                "math_level": own.math_level,
                "words": own.n_words,
                "chars": view.chars,
                "instruction_chars": len(view.instruction),
                "material_chars": view.material_chars,
                "code_blocks": view.code_blocks,
                "context_turns": len(conv.context),
                "images": conv.images,
                "tool_results": conv.tool_results,
                "cues": ",".join(own.kinds),
            }
            if own.code_material is not None:
                data["code_in_sight"] = own.code_material
            self._data = data
        return data

    def __getitem__(self, key: str) -> FeatureValue:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return f"Features({self._dict()!r})"
