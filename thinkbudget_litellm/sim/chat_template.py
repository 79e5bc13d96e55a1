"""The simulated backend's chat template and token ids (pure; a test double of an R1 distill on vLLM).

Rendering follows the DeepSeek-R1 template shape the real-engine tier uses: ``BOS``, system text,
``<｜User｜>{content}``, ``<｜Assistant｜>{content}<｜end▁of▁sentence｜>``, and the generation prompt
``<｜Assistant｜>`` (+ ``<think>\\n`` when the template pre-opens the thinking). ``Template.STRIPS``
drops everything up to ``</think>`` from assistant messages, as R1's template does; vLLM then refuses
to continue a final message that held it (``prefill_refusal``).

Ids: text is cl100k_base (as the rest of the simulator); the template's markers and the thinking tags
are single ids above cl100k's range, and the tags are recognised in raw text too (added tokens, as in
R1-Distill tokenizers), so ``encode("</think>")`` is one id with or without special tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from thinkbudget_litellm.sim.config import Template
from thinkbudget_litellm.sim.plan import CLOSE_MARK, OPEN_MARK, message_text
from thinkbudget_litellm.sim.tokens import encoding

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
SPECIAL_IDS: dict[str, int] = {BOS: 100300, EOS: 100301, USER: 100302, ASSISTANT: 100303}
TAG_IDS: dict[str, int] = {OPEN_MARK: 100304, CLOSE_MARK: 100305}
_BY_ID = {v: k for k, v in {**SPECIAL_IDS, **TAG_IDS}.items()}
_TAGS = re.compile("(" + "|".join(re.escape(t) for t in TAG_IDS) + ")")
_MARKERS = re.compile("(" + "|".join(re.escape(t) for t in {**SPECIAL_IDS, **TAG_IDS}) + ")")

# vLLM 0.32.0's message, verbatim up to the first sentence's end (research/real-vllm-cpu.md)
PREFILL_REFUSAL = (
    "continue_final_message is set but the final message does not appear in the chat after applying the "
    "chat template! This can happen if the chat template deletes portions of the final message. Please "
    "verify the chat template and final message in your chat to ensure they are compatible."
)


def _assistant_content(content: str, template: Template) -> str:
    if template is Template.STRIPS and CLOSE_MARK in content:
        return content.split(CLOSE_MARK)[-1]
    return content


def render(
    messages: Sequence[Mapping[str, Any]],
    *,
    template: Template,
    preopens: bool,
    add_generation_prompt: bool = True,
    continue_final_message: bool = False,
) -> str:
    """The prompt text; with ``continue_final_message`` the final assistant message is left open."""
    out = [BOS]
    out += [message_text(m.get("content")) for m in messages if m.get("role") == "system"]
    last = len(messages) - 1
    for i, m in enumerate(messages):
        text = message_text(m.get("content"))
        if m.get("role") == "user":
            out.append(USER + text)
        elif m.get("role") == "assistant":
            body = _assistant_content(text, template)
            out.append(ASSISTANT + body + ("" if continue_final_message and i == last else EOS))
    if add_generation_prompt and not continue_final_message:
        out.append(ASSISTANT + (OPEN_MARK + "\n" if preopens else ""))
    return "".join(out)


def prefill_refused(messages: Sequence[Mapping[str, Any]], template: Template) -> bool:
    """vLLM's check: the final message must appear in the rendered chat as it was sent."""
    text = message_text(messages[-1].get("content")) if messages else ""
    return _assistant_content(text, template) != text


def encode(text: str, *, with_markers: bool = True) -> list[int]:
    """Ids of ``text``: cl100k pieces, the thinking tags (always) and the template markers (when
    ``with_markers``: a rendered prompt; raw text with ``add_special_tokens: false`` keeps them as text)."""
    ids: list[int] = []
    splitter = _MARKERS if with_markers else _TAGS
    for part in splitter.split(text):
        if not part:
            continue
        special = {**TAG_IDS, **(SPECIAL_IDS if with_markers else {})}.get(part)
        ids += [special] if special is not None else encoding().encode_ordinary(part)
    return ids


def decode(ids: Iterable[int]) -> str:
    out: list[str] = []
    run: list[int] = []
    for i in ids:
        if i in _BY_ID:
            out.append(encoding().decode(run, errors="replace"))
            run = []
            out.append(_BY_ID[i])
        else:
            run.append(i)
    out.append(encoding().decode(run, errors="replace"))
    return "".join(out)


def parse_prompt(text: str) -> tuple[list[dict[str, str]], str]:
    """A rendered prompt back into its messages and the text after its last ``<｜Assistant｜>`` (what
    a raw completion continues: the generation prompt, the reasoning and whatever follows)."""
    head, _, tail = text.rpartition(ASSISTANT)
    if not _:
        head, tail = text, ""
    messages: list[dict[str, str]] = []
    for part in re.split(f"({re.escape(USER)}|{re.escape(ASSISTANT)})", head.replace(BOS, "")):
        if part == USER:
            messages.append({"role": "user", "content": ""})
        elif part == ASSISTANT:
            messages.append({"role": "assistant", "content": ""})
        elif messages:
            messages[-1]["content"] += part.replace(EOS, "")
        elif part:
            messages.append({"role": "system", "content": part})
    return messages, tail
