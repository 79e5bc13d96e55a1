"""Build the real-engine tier's tiny model from nothing (no model hub): a random-weight Qwen2
(hidden 128, 2 layers, 4 heads, 2 KV heads, intermediate 256, bf16), a byte-level BPE tokenizer
trained here on text written here (vocab 1,000, R1-style specials, ``<think>``/``</think>`` as
single non-special added tokens) and two chat templates:

- ``tokenizer_config.json``'s template strips everything up to ``</think>`` from assistant
  messages, as DeepSeek-R1 and its distills do, and ends the generation prompt with
  ``<｜Assistant｜><think>\\n``;
- ``chat_template_keeps.jinja`` is the same template without the stripping (``vllm serve
  --chat-template`` selects it).

Runs in the tier's own virtualenv (``setup.sh``): ``python build_model.py OUT_DIR``.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AddedToken, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
PAD = "<｜▁pad▁｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
VOCAB_SIZE = 1000
SEED = 20261207

_STRIP = "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] }}{% endif %}{% endfor %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '" + USER + "' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}"
    "{% set content = message['content'] or '' %}"
    "@STRIP@"
    "{{ '" + ASSISTANT + "' + content + '" + EOS + "' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '" + ASSISTANT + THINK_OPEN + "\\n' }}{% endif %}"
)
TEMPLATE_STRIPS = _TEMPLATE.replace("@STRIP@", _STRIP)
TEMPLATE_KEEPS = _TEMPLATE.replace("@STRIP@", "")

_SUBJECTS = ["the engine", "a model", "the proxy", "my budget", "this request", "the answer", "our team", "a token"]
_VERBS = ["counts", "thinks about", "streams", "measures", "answers", "cuts", "records", "explains"]
_OBJECTS = [
    "the question",
    "every token",
    "a short reply",
    "the energy used",
    "the reasoning",
    "two numbers",
    "the weather today",
    "a hard problem",
]
_EXTRA = (
    "Hello! hi there. How are you? What is 17 times 23? Let me think step by step. First, 17 * 20 = 340;"
    " then 17 * 3 = 51; so the sum is 391. Wait, let me check again. Yes, 391. "
    "Prove that the square root of 2 is irrational. Suppose sqrt(2) = p/q in lowest terms... "
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n"
    "Okay, the user said hi, so I should greet them back. Hmm, maybe also ask how I can help. "
    "Considering the limited time by the user, I have to give the solution based on the thinking directly now.\n"
)


_WORD_TEXT = (
    "apple river mountain window garden kitchen yellow purple orange silver golden quiet loud happy careful"
    " quickly slowly before after between during without within across around because although however"
    " therefore question answer problem solution function variable integer decimal fraction triangle circle"
    " square vector matrix theorem lemma proof example contrast compare measure weight length distance"
    " morning evening tonight yesterday tomorrow monday friday january october summer winter spring autumn"
    " doctor teacher student engineer farmer driver writer painter singer dancer pilot sailor baker"
    " computer keyboard screen printer network server client database memory storage battery signal"
    " library museum theatre station airport harbour market bridge tower castle village island forest"
    " strong bright dark heavy light simple complex ancient modern early late rapid gentle honest"
)
_WORDS = _WORD_TEXT.split()


def corpus() -> list[str]:
    """About 20 KB of plain text, written here, to train the tokenizer on (vocab ~1,000)."""
    lines = [f"{s.capitalize()} {v} {o}." for s, v, o in itertools.product(_SUBJECTS, _VERBS, _OBJECTS)]
    lines += [f"Number {n} plus {n + 1} is {2 * n + 1}." for n in range(120)]
    lines += [" ".join(_WORDS[(i * 7 + j * 13) % len(_WORDS)] for j in range(9)) + "." for i in range(160)]
    lines += _EXTRA.split(". ") * 4
    return lines


def build_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[BOS, EOS, PAD, USER, ASSISTANT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[USER, ASSISTANT],
        model_max_length=16384,
        clean_up_tokenization_spaces=False,
    )
    # single tokens, but not special: they must survive decoding (skip_special_tokens), as in R1-Distill
    fast.add_tokens([AddedToken(t, special=False, normalized=False) for t in (THINK_OPEN, THINK_CLOSE)])
    fast.chat_template = TEMPLATE_STRIPS
    return fast


def build_model(tokenizer: PreTrainedTokenizerFast) -> Qwen2ForCausalLM:
    torch.manual_seed(SEED)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,  # 4 heads of 32: the CPU attention backend needs head size >= 32
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=16384,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        torch_dtype="bfloat16",
    )
    return Qwen2ForCausalLM(config).to(torch.bfloat16).eval()


def main(out: Path) -> None:
    tokenizer = build_tokenizer()
    ids = tokenizer.convert_tokens_to_ids([THINK_OPEN, THINK_CLOSE])
    assert all(isinstance(i, int) and i >= 0 for i in ids), ids
    hi = [{"role": "user", "content": "hi"}]
    prompt = tokenizer.apply_chat_template(hi, tokenize=False, add_generation_prompt=True)
    assert prompt == f"{BOS}{USER}hi{ASSISTANT}{THINK_OPEN}\n", prompt
    model = build_model(tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out, safe_serialization=True)
    (out / "chat_template_strips.jinja").write_text(TEMPLATE_STRIPS)
    (out / "chat_template_keeps.jinja").write_text(TEMPLATE_KEEPS)
    info = {
        "think_open_id": ids[0],
        "think_close_id": ids[1],
        "eos_id": tokenizer.eos_token_id,
        "bos_id": tokenizer.bos_token_id,
        "vocab_size": len(tokenizer),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    (out / "thinkbudget_tiny.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_model.py OUT_DIR")
    main(Path(sys.argv[1]))
