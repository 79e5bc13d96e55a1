"""Settings of the simulated reasoning backend (a test double for vLLM serving a DeepSeek-R1 distill).

Why these defaults:

* Thinking length. Reasoning models overthink even trivial prompts: OptimalThinkingBench
  (Aggarwal et al., arXiv 2508.13141) reports that thinking models "overthink for hundreds of tokens
  on the simplest user queries", and the ML.ENERGY Leaderboard v3.0 (Dec 2025) measured on average
  ~7k output tokens per response (6,988) for problem solving with reasoning on, against 717 for text
  conversation. So the natural thinking length is lognormal with a median of 600 tokens (so "hi" still
  thinks for hundreds) and sigma 1.0 (95th percentile ~3,100, 99th ~6,200, with a long tail toward the
  problem-solving figure), clipped to [150, 16000].
* Answer length: uniform 40..200 tokens; answers after the thinking are short.
* Speed: 200 tokens/s per request stream, the order of single-stream decode of a 7-8B distill on an H100.
* Energy: 0.5 J per generated token sits between ML.ENERGY v3's 0.12 J/token (Llama-3.1-8B, H100,
  batch 64) and ~2.6 J/token at batch 1 (an anecdotal Mistral-7B/H100 figure); prefill tokens are far
  cheaper than decode tokens (weight 0.1, an assumption); 70 W idle per GPU is an assumption of the
  order of an idle H100. All energy this backend reports is SIMULATED, never measured.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Style(enum.StrEnum):
    """How the thinking reaches the client."""

    PARSER = "parser"  # vLLM --reasoning-parser: delta.reasoning / message.reasoning
    INLINE = "inline"  # "<think>\n...</think>\n\n" inside content (old R1 chat template)
    PREOPENED = "preopened"  # template opened <think>: content holds thinking, "</think>", answer


class Template(enum.StrEnum):
    """What the chat template does with an assistant message's thinking (vLLM continues a prefilled
    final message only when the template renders it as it was sent)."""

    KEEPS = "keeps"
    STRIPS = "strips"  # DeepSeek-R1 and its distills: everything up to </think> is dropped


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulated server needs; validated on creation (ValueError on bad values)."""

    model_name: str = "sim-r1-distill"
    style: Style = Style.PARSER
    template: Template = Template.KEEPS
    native_budget: bool = False
    think_median: float = 600.0
    think_sigma: float = 1.0
    think_min: int = 150
    think_max: int = 16000
    think_tokens: int | None = None
    answer_min: int = 40
    answer_max: int = 200
    answer_tokens: int | None = None
    tokens_per_second: float = 200.0
    max_model_len: int = 32768
    joules_per_token: float = 0.5
    prefill_weight: float = 0.1
    idle_watts: float = 70.0
    gpus: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "style", Style(self.style))
        object.__setattr__(self, "template", Template(self.template))
        problems = [
            msg
            for bad, msg in (
                (not self.model_name, "model_name must not be empty"),
                (self.think_median <= 0, "think_median must be > 0"),
                (self.think_sigma < 0, "think_sigma must be >= 0"),
                (not 0 <= self.think_min <= self.think_max, "need 0 <= think_min <= think_max"),
                (self.think_tokens is not None and self.think_tokens < 0, "think_tokens must be >= 0"),
                (not 0 <= self.answer_min <= self.answer_max, "need 0 <= answer_min <= answer_max"),
                (self.answer_tokens is not None and self.answer_tokens < 0, "answer_tokens must be >= 0"),
                (self.tokens_per_second < 0, "tokens_per_second must be >= 0 (0 = unpaced)"),
                (self.max_model_len < 1, "max_model_len must be >= 1"),
                (self.joules_per_token < 0, "joules_per_token must be >= 0"),
                (self.prefill_weight < 0, "prefill_weight must be >= 0"),
                (self.idle_watts < 0, "idle_watts must be >= 0"),
                (self.gpus < 1, "gpus must be >= 1"),
            )
            if bad
        ]
        if problems:
            raise ValueError("invalid SimConfig: " + "; ".join(problems))
