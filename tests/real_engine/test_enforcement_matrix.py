"""Every enforcement mode on a real vLLM behind the real proxy (issue 13, "Done when"): native and
stream enforcement, with the template that strips reasoning from assistant messages (DeepSeek-R1
style) and with one that keeps it, streaming and not. In each: the client sees at most budget +
slack thinking tokens, then a non-empty answer in ``content``; the engine's
``vllm:generation_tokens_total`` shows that it stopped generating at the cut; one record per request
with the thinking the client saw.

How each mode stops the engine (budget 32, the client's ``max_tokens`` 40, EOS and ``</think>``
forbidden so that only our cap ends the thinking and the answer runs to ``max_tokens``):

* native: ``thinking_token_budget`` 32 (31 reasoning tokens, then the forced ``</think>``) and
  ``max_tokens`` 32 + 40: the engine generates exactly 72.
* stream, not streamed: the first call is capped at ``max_tokens`` 32, the continuation answers
  with 40: exactly 72.
* stream, streamed: the proxy closes the upstream once our count passes 32, the engine aborts,
  then the continuation answers with the client's ``max_tokens``: that + what the first call
  generated, which is the reasoning the client saw plus the tokens in flight when the proxy closed
  it. The tiny model generates 300-600 tokens/s on CPU, faster than the proxy reads a stream on a
  loaded 2-core machine, so this case asks ``max_tokens`` 400: the first call could then generate
  32 + 16 + 400, and stopping far short of that shows the abort.

With the stripping template the chat continuation (``continue_final_message``) is refused by vLLM,
so the proxy continues from token ids (``/tokenize`` + ``/v1/completions``); with the keeping
template it continues by chat, and vLLM then labels a non-streamed continuation as reasoning (the
prompt already holds ``</think>``): the answer must still come back in ``content``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.real_engine.client import ANSWER_ROOM, chat, record, wait_generation_delta
from tests.real_engine.conftest import TEMPLATES, RealStack
from thinkbudget_litellm.enforce.token_count import count_tokens
from thinkbudget_litellm.settings import ThinkBudgetSettings

pytestmark = [pytest.mark.real_engine, pytest.mark.proxy]

BUDGET = 32  # the trivial tier ("hi")
NATIVE_SLACK = 16  # DeploymentSettings.slack_tokens: the native safety net cuts at budget + slack
# Tokens the engine may generate after the last chunk the proxy forwarded before it closes the
# upstream: the chunks in flight (several tokens per SSE chunk under CPU load) and the time vLLM
# takes to notice the disconnect, at 300-600 tokens/s (README, real-engine section, for figures).
IN_FLIGHT = 64
CUT_ANSWER_ROOM = 400
TRANSITION = ThinkBudgetSettings().transition


def _engine_tokens(real: RealStack, template: str, text: str) -> int:
    r = httpx.post(
        real.vllm[template].base + "/tokenize",
        json={"model": "tiny", "prompt": text, "add_special_tokens": False},
        timeout=10,
    )
    r.raise_for_status()
    return int(r.json()["count"])


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("enforcement", ["native", "stream"])
def test_thinking_is_capped_then_answered_in_content(
    real: RealStack, enforcement: str, template: str, stream: bool
) -> None:
    model = f"tiny-{template}" if enforcement == "native" else f"tiny-{template}-stream"
    cut_here = enforcement == "stream"
    room = CUT_ANSWER_ROOM if cut_here and stream else ANSWER_ROOM
    before = real.generation_tokens(template)
    reply = chat(real, model, stream=stream, max_tokens=room)
    assert reply.status == 200, reply.text
    assert not reply.errors, reply.errors
    assert (reply.headers["x-thinkbudget-budget"], reply.headers["x-thinkbudget-enforcement"]) == (
        str(BUDGET),
        enforcement,
    )

    # the thinking the client saw: within the budget (+ the native safety net's slack)
    thinking = reply.reasoning
    if cut_here:
        assert thinking.endswith(TRANSITION), thinking[-120:]  # the cut thinking ends with the transition
        thinking = thinking[: -len(TRANSITION)]
    limit = BUDGET + (NATIVE_SLACK if enforcement == "native" else 0)
    assert 0 < count_tokens(thinking) <= limit, count_tokens(thinking)
    # then the answer, in content
    assert reply.content.strip(), "no answer in content"

    # the engine stopped at the cut: what it generated in all, the continuation included
    if cut_here and stream:
        first_call_floor = _engine_tokens(real, template, thinking)
        delta = wait_generation_delta(real, template, before, first_call_floor + room)
        overshoot = delta - room - first_call_floor
        print(
            f"\n[{template}] engine generated {delta:.0f} = {first_call_floor} seen + {overshoot:.0f} in flight "
            f"+ {room} answer (the first call could have made {BUDGET + NATIVE_SLACK + room})"
        )
        assert 0 <= overshoot <= IN_FLIGHT, (delta, first_call_floor)
    else:
        assert wait_generation_delta(real, template, before, BUDGET + ANSWER_ROOM) == BUDGET + ANSWER_ROOM

    # one record, with the thinking the client saw
    row = record(real, reply.call_id)
    assert row["enforcement"] == enforcement
    assert row["status"] == ("cut" if cut_here else "success")
    assert 0 < row["thinking_tokens"] <= limit, row["thinking_tokens"]
    if cut_here:
        assert row["continuation_call_id"], "the continuation was not recorded"
    print(
        f"[{enforcement}/{template}/{'stream' if stream else 'nonstream'}] thinking seen "
        f"{count_tokens(thinking)} (cl100k), recorded {row['thinking_tokens']}, budget {BUDGET}"
    )
