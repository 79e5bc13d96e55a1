"""Fitting the budget and max_tokens into a deployment's context (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from thinkbudget_litellm.enforce.context_fit import ContextLimits, Fit, context_limits, fit_to_context

# context, prompt, budget, answer room, max_output -> (budget, max_tokens, clamped)
FITS: list[tuple[int | None, int, int, int, int | None, tuple[int, int, bool]]] = [
    (None, 100, 8192, 300, None, (8192, 8492, False)),  # nothing known: nothing cut
    (32_768, 100, 8192, 300, None, (8192, 8492, False)),
    (8592, 100, 8192, 300, None, (8192, 8492, False)),  # exactly fits
    (4096, 0, 8192, 300, None, (3796, 4096, True)),  # issue 13: 8492 > max_model_len 4096
    (4096, 1000, 8192, 300, None, (2796, 3096, True)),
    (4096, 3796, 8192, 300, None, (0, 300, True)),  # only the answer room is left
    (4096, 3900, 8192, 300, None, (0, 196, True)),  # not even that: budget 0, what fits
    (4096, 4096, 8192, 300, None, (0, 0, True)),  # the prompt fills the context
    (4096, 5000, 8192, 300, None, (0, 0, True)),  # never negative
    (4096, 0, 0, 300, None, (0, 300, False)),
    (None, 100, 8192, 300, 4000, (3700, 4000, True)),  # an output limit alone
    (200_000, 100, 8192, 1024, 4000, (2976, 4000, True)),  # the smaller of the two rooms
    (5000, 2000, 8192, 1024, 64_000, (1976, 3000, True)),
    (4096, 0, 100, 0, None, (100, 100, False)),
]


@pytest.mark.parametrize(("context", "prompt", "budget", "room", "max_output", "expected"), FITS)
def test_fit_to_context(
    context: int | None, prompt: int, budget: int, room: int, max_output: int | None, expected: tuple[int, int, bool]
) -> None:
    fit = fit_to_context(context, prompt, budget, room, max_output_tokens=max_output)
    assert (fit.budget, fit.max_tokens, fit.clamped) == expected
    assert fit.budget >= 0 and fit.max_tokens >= 0
    assert fit.budget <= budget
    if context is not None and fit.max_tokens:
        assert prompt + fit.max_tokens <= context


@pytest.mark.parametrize(
    "args",
    [
        (4096, -1, 10, 10),
        (4096, 0, -1, 10),
        (4096, 0, 10, -1),
        (-5, 0, 10, 10),
        (4096, True, 10, 10),
        (4096, 0, 1.5, 1),
    ],
)
def test_fit_rejects_bad_input(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        fit_to_context(*args)


def test_fit_is_a_value() -> None:
    assert fit_to_context(None, 0, 1, 1) == Fit(budget=1, max_tokens=2, clamped=False)


@pytest.mark.parametrize(
    ("model_info", "expected"),
    [
        ({}, ContextLimits(None, None)),
        (None, ContextLimits(None, None)),
        ({"max_model_len": 4096}, ContextLimits(4096, None)),
        ({"context_length": 8192}, ContextLimits(8192, None)),
        # LiteLLM's cost-map shape: max_input_tokens is the window, max_tokens the legacy output limit
        (
            {"max_input_tokens": 200_000, "max_output_tokens": 64_000, "max_tokens": 64_000},
            ContextLimits(200_000, 64_000),
        ),
        ({"max_tokens": 4096}, ContextLimits(4096, None)),  # only max_tokens: LiteLLM discovery's window
        ({"max_model_len": 4096, "max_input_tokens": 2048}, ContextLimits(4096, None)),
        ({"max_input_tokens": "128000"}, ContextLimits(128_000, None)),  # configured as a string
        ({"max_input_tokens": 1.28e5}, ContextLimits(128_000, None)),
        ({"max_input_tokens": "128,000", "max_tokens": 4096}, ContextLimits(4096, None)),  # malformed: absent
        ({"max_model_len": True, "max_output_tokens": 0}, ContextLimits(None, None)),
        ({"max_model_len": None, "max_input_tokens": 1000}, ContextLimits(1000, None)),
        ({"id": "dep-1", "thinkbudget": {"engine": "vllm"}}, ContextLimits(None, None)),
    ],
)
def test_context_limits(model_info: Any, expected: ContextLimits) -> None:
    assert context_limits(model_info) == expected


@pytest.mark.parametrize(("max_model_len", "context_length"), [(4096, None), (None, 32_768), (4096, 8192)])
def test_context_limits_reads_litellm_discovery(max_model_len: int | None, context_length: int | None) -> None:
    # what LiteLLM 1.106.2 derives from an OpenAI-compatible /v1/models card (vLLM: max_model_len)
    from litellm.llms.openai_like.model_info import _ModelCard

    card = _ModelCard(id="m", max_model_len=max_model_len, context_length=context_length)
    window = max_model_len or context_length
    assert context_limits(card.token_limits()) == ContextLimits(window, window)
