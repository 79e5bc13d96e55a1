"""Pure builders for ending a cut thinking stream and asking the engine for the answer.

After ``ThinkingStream`` reports a cut, the caller

1. emits ``closing_output(style, transition)`` so the client sees the thinking end in
   the style it has been seeing;
2. sends a continuation request: ``continuation_messages(...)`` (the original messages
   plus an assistant message prefilled with the partial reasoning, the transition and
   the closing tag), the engine's ``continuation_params(engine)``, and
   ``max_tokens=continuation_max_tokens(...)``;
3. forwards the continuation's deltas through ``ThinkingStream.feed_continuation``.

How engines render a trailing assistant message (this decides ``open_tag``):

* vLLM (``continue_final_message: true, add_generation_prompt: false``) renders the
  whole conversation with the chat template (transformers' ``apply_chat_template``)
  and cuts the text right after the final message. The template's generation prompt is
  *not* rendered, so a template that pre-opens ``<think>`` in its generation prompt
  does not pre-open it here: the prefill must carry the opening tag (``open_tag=True``).
  Qwen3-style templates re-render an assistant message as ``<think>\\n{reasoning}\\n
  </think>\\n\\n{content}``; the prefill is normalised to exactly that shape, so the
  final message is found again and continued. DeepSeek-R1(-Distill) templates drop
  everything up to ``</think>`` from assistant messages, so transformers rejects the
  request ("continue_final_message is set but the final message does not appear in the
  chat after applying the chat template"): with those templates the continuation needs
  a raw-completion path (not built here).
* SGLang (``continue_final_message: true``) and llama.cpp's server (a trailing
  assistant message is always a prefill) render the other messages *with* the
  generation prompt and append the prefill verbatim. With a template that pre-opens
  ``<think>`` the prefill must not repeat it (``open_tag=False``).

``prefill_open_tag(engine, template_preopens)`` encodes that choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from thinkbudget_litellm.enforce.engine_registry import adapter_for
from thinkbudget_litellm.enforce.thinking_stream import CLOSE_TAG, OPEN_TAG, Style
from thinkbudget_litellm.settings import Engine


def _engine(engine: str) -> Engine:
    try:
        return Engine(str(engine).lower())
    except ValueError:
        known = ", ".join(e.value for e in Engine)
        raise ValueError(f"unknown engine {engine!r}; expected one of: {known}") from None


def closing_output(style: Style, transition: str, *, close_tag: str = CLOSE_TAG) -> tuple[str | None, str | None]:
    """``(reasoning_out, content_out)`` that ends the thinking for the client.

    ``PARSER``: the transition as reasoning (the client never sees tags; the answer that
    follows in ``content`` marks the end). ``INLINE`` / ``PREOPENED``: the transition,
    then ``</think>`` and a blank line, as content.
    """
    if not isinstance(transition, str):
        raise TypeError(f"transition must be str, got {type(transition).__name__}")
    if style is Style.PARSER:
        return (transition or None), None
    if style is Style.INLINE or style is Style.PREOPENED:
        body = transition.rstrip("\n")
        return None, (body + "\n" if body else "") + close_tag + "\n\n"
    raise ValueError(f"unknown style {style!r}")


def prefill_text(
    reasoning_text: str,
    transition: str,
    *,
    open_tag: bool = True,
    open_tag_text: str = OPEN_TAG,
    close_tag: str = CLOSE_TAG,
) -> str:
    """``"<think>\\n" + reasoning + transition + "\\n</think>\\n\\n"``, newlines normalised.

    Leading and trailing newlines of ``reasoning + transition`` are dropped so the shape
    is exactly ``<think>\\n{body}\\n</think>\\n\\n`` (what Qwen-style templates render).
    ``open_tag=False`` leaves out ``<think>\\n`` for engines that append the prefill after
    a generation prompt that already opened it.
    """
    for name, value in (("reasoning_text", reasoning_text), ("transition", transition)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be str, got {type(value).__name__}")
    body = (reasoning_text + transition).strip("\n")
    head = open_tag_text + "\n" if open_tag else ""
    return head + (body + "\n" if body else "") + close_tag + "\n\n"


def continuation_messages(
    messages: Sequence[Mapping[str, Any]],
    reasoning_text: str,
    transition: str,
    *,
    open_tag: bool = True,
) -> list[dict[str, Any]]:
    """The original messages plus the prefilled assistant message (inputs are not mutated).

    If the messages already end with an assistant message with text content (the client
    itself used a prefill that the first response continued), the partial reasoning is
    appended to that message verbatim instead of adding a second one, and no opening tag
    is added.
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of message mappings")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message:
            raise ValueError(f"messages[{i}] must be a mapping with a 'role'")
        out.append(dict(message))
    if not out:
        raise ValueError("messages must not be empty")
    last = out[-1]
    if last["role"] == "assistant":
        prior = last.get("content")
        if not isinstance(prior, str):
            raise ValueError("the final assistant message must have text content to be continued")
        if not isinstance(reasoning_text, str) or not isinstance(transition, str):
            raise TypeError("reasoning_text and transition must be str")
        body = (reasoning_text + transition).rstrip("\n")
        out[-1] = {**last, "content": prior + (body + "\n" if body else "") + CLOSE_TAG + "\n\n"}
        return out
    out.append({"role": "assistant", "content": prefill_text(reasoning_text, transition, open_tag=open_tag)})
    return out


def prefill_open_tag(engine: str, template_preopens: bool) -> bool:
    """Whether the prefill must carry ``<think>`` itself (see the module docstring).

    vLLM renders the final message without the generation prompt: always ``True``.
    SGLang and llama.cpp append the prefill after the generation prompt: ``True`` unless
    the template pre-opens ``<think>``. Others (Ollama renders the last assistant message
    through its template, unverified): ``True``. Each engine's adapter decides.
    """
    return adapter_for(_engine(engine)).prefill_open_tag(template_preopens)


def continuation_params(engine: str) -> dict[str, Any]:
    """Extra top-level request fields that make ``engine`` continue the final assistant message.

    * vllm: ``continue_final_message: true, add_generation_prompt: false`` (vLLM refuses
      both true).
    * sglang: ``continue_final_message: true`` (SGLang always renders the generation
      prompt and appends the prefill; it also tells its reasoning parser that the
      thinking is already closed).
    * llamacpp: a trailing assistant message is a prefill by default (unless the server
      runs with ``--no-prefill-assistant``), but the server refuses a prefill while
      thinking is enabled ("Assistant response prefill is incompatible with
      enable_thinking"), so ``chat_template_kwargs: {enable_thinking: false}``.
    * ollama and hosted APIs: no flag exists; ``{}`` (Ollama's templates usually leave a
      final assistant turn open, which continues it; not verified here).

    Each engine's adapter decides; a new dict every call.
    """
    return adapter_for(_engine(engine)).continuation_params()


def continuation_max_tokens(original_max_tokens: int | None, used: int) -> int | None:
    """``max_tokens`` for the continuation: what the client allowed minus what was used.

    ``None`` when the client set no limit. At least 1: the policy is expected to leave
    room for the answer (``max_tokens >= budget + answer reserve``); if it did not, the
    continuation still gets one token rather than an invalid zero.
    """
    if isinstance(used, bool) or not isinstance(used, int) or used < 0:
        raise ValueError(f"used must be an int >= 0, got {used!r}")
    if original_max_tokens is None:
        return None
    if isinstance(original_max_tokens, bool) or not isinstance(original_max_tokens, int) or original_max_tokens < 1:
        raise ValueError(f"original_max_tokens must be an int >= 1 or None, got {original_max_tokens!r}")
    return max(original_max_tokens - used, 1)
