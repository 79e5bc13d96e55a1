"""Tests of the pure continuation builders."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.enforce.continuation import (
    closing_output,
    continuation_max_tokens,
    continuation_messages,
    continuation_params,
    prefill_open_tag,
    prefill_text,
)
from thinkbudget_litellm.enforce.thinking_stream import Style
from thinkbudget_litellm.settings import Engine, ThinkBudgetSettings

TRANSITION = ThinkBudgetSettings().transition  # "\n\nConsidering the limited time ... now.\n"


def qwen_style_render(content: str) -> str:
    """How Qwen3-style chat templates re-render the last assistant message's content.

    Written from the template's documented behaviour: split the reasoning off at
    ``</think>``, then render ``<think>\\n{reasoning}\\n</think>\\n\\n{answer}``.
    """
    if "</think>" not in content:
        return content
    answer = content.split("</think>")[-1].lstrip("\n")
    reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
    return "<think>\n" + reasoning.strip("\n") + "\n</think>\n\n" + answer


def test_closing_output_parser_style_is_reasoning() -> None:
    assert closing_output(Style.PARSER, TRANSITION) == (TRANSITION, None)
    assert closing_output(Style.PARSER, "") == (None, None)


@pytest.mark.parametrize("style", [Style.INLINE, Style.PREOPENED])
def test_closing_output_tag_styles_close_in_content(style: Style) -> None:
    reasoning, content = closing_output(style, TRANSITION)
    assert reasoning is None
    assert content == TRANSITION.rstrip("\n") + "\n</think>\n\n"
    assert closing_output(style, "") == (None, "</think>\n\n")
    assert closing_output(style, "Enough.") == (None, "Enough.\n</think>\n\n")


def test_closing_output_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        closing_output(Style.PARSER, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        closing_output("inline", "x")  # type: ignore[arg-type]


def test_prefill_shape() -> None:
    text = prefill_text("\nLet me add 2 and 2", TRANSITION)
    assert text == (
        "<think>\nLet me add 2 and 2\n\nConsidering the limited time by the user, I have to give the "
        "solution based on the thinking directly now.\n</think>\n\n"
    )
    assert prefill_text("abc", "", open_tag=False) == "abc\n</think>\n\n"
    assert prefill_text("", "") == "<think>\n</think>\n\n"


@pytest.mark.parametrize("reasoning", ["\nStep 1: 2+2=4.\n", "a", "", "x\n\n\n", "  spaced  "])
def test_prefill_survives_qwen_style_rerendering(reasoning: str) -> None:
    # vLLM (transformers) continues the final message only if its rendered form still contains it
    prefill = prefill_text(reasoning, TRANSITION)
    assert qwen_style_render(prefill) == prefill


def test_continuation_messages_appends_the_prefill_without_mutating_input() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]
    snapshot = [dict(m) for m in messages]
    out = continuation_messages(messages, "2 plus 2", TRANSITION)
    assert messages == snapshot
    assert out[:2] == messages and out[0] is not messages[0]
    assert out[2] == {"role": "assistant", "content": prefill_text("2 plus 2", TRANSITION)}
    no_tag = continuation_messages(messages, "2 plus 2", TRANSITION, open_tag=False)
    assert no_tag[2]["content"] == prefill_text("2 plus 2", TRANSITION, open_tag=False)


def test_continuation_messages_extends_a_client_prefill() -> None:
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\nFirst,"}]
    out = continuation_messages(messages, " second", "\nDone.\n")
    assert len(out) == 2
    assert out[1] == {"role": "assistant", "content": "<think>\nFirst, second\nDone.\n</think>\n\n"}
    assert messages[1]["content"] == "<think>\nFirst,"


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([], ValueError),
        ("hello", TypeError),
        ([{"content": "no role"}], ValueError),
        (["not a mapping"], ValueError),
        ([{"role": "assistant", "content": [{"type": "text", "text": "x"}]}], ValueError),
    ],
)
def test_continuation_messages_rejects_bad_input(messages: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        continuation_messages(messages, "r", "t")  # type: ignore[arg-type]


def test_continuation_params_per_engine() -> None:
    assert continuation_params("vllm") == {"continue_final_message": True, "add_generation_prompt": False}
    assert continuation_params(Engine.SGLANG) == {"continue_final_message": True}
    assert continuation_params("llamacpp") == {"chat_template_kwargs": {"enable_thinking": False}}
    assert continuation_params("VLLM") == continuation_params("vllm")
    for engine in (Engine.OLLAMA, Engine.OPENAI, Engine.ANTHROPIC, Engine.GEMINI, Engine.OTHER):
        assert continuation_params(engine) == {}
    first = continuation_params("llamacpp")
    first["chat_template_kwargs"]["enable_thinking"] = True
    assert continuation_params("llamacpp")["chat_template_kwargs"]["enable_thinking"] is False
    with pytest.raises(ValueError, match="unknown engine"):
        continuation_params("tgi")


def test_prefill_open_tag_per_engine() -> None:
    assert prefill_open_tag("vllm", template_preopens=True) is True
    assert prefill_open_tag("sglang", template_preopens=True) is False
    assert prefill_open_tag("llamacpp", template_preopens=False) is True
    assert prefill_open_tag("ollama", template_preopens=True) is True
    with pytest.raises(ValueError):
        prefill_open_tag("nope", template_preopens=False)


def test_continuation_max_tokens() -> None:
    assert continuation_max_tokens(None, 500) is None
    assert continuation_max_tokens(2000, 500) == 1500
    assert continuation_max_tokens(500, 500) == 1
    assert continuation_max_tokens(100, 500) == 1
    for bad in [(0, 1), (100, -1), (True, 1), (100, 1.5), ("100", 1)]:
        with pytest.raises(ValueError):
            continuation_max_tokens(*bad)  # type: ignore[arg-type]
