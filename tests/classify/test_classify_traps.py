"""What fools naive heuristics: length, keywords inside other words, code with a simple ask,
other languages, and arithmetic whose difficulty lies in the digits."""

from __future__ import annotations

import pytest

from thinkbudget_litellm.classify import classify_rules
from thinkbudget_litellm.tiers import Task, Tier

LOG = "\n".join(
    f"2025-06-0{1 + i % 9}T10:{i % 60:02d}:00Z ERROR worker-{i % 4} job j-{1000 + i} failed: upstream timeout"
    for i in range(200)
)
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "app.py", line 12, in <module>\n'
    "    main()\n"
    '  File "app.py", line 9, in main\n'
    "    print(items[3])\n"
    "IndexError: list index out of range"
)


# --- long but trivial / short but deep ---------------------------------------------------------
@pytest.mark.parametrize(
    "closing",
    ["thanks!", "ok, got it", "never mind, sorted it out. cheers", "great, that's all \U0001f44d"],
)
def test_log_with_acknowledgement_is_trivial(closing: str) -> None:
    assert classify_rules(LOG + "\n\n" + closing).tier == Tier.TRIVIAL


def test_traceback_with_thanks_is_trivial_but_with_why_is_complex() -> None:
    assert classify_rules(TRACEBACK + "\n\nall fixed, thanks").tier == Tier.TRIVIAL
    assert classify_rules(TRACEBACK + "\n\nWhy does this fail?").tier == Tier.COMPLEX


@pytest.mark.parametrize(
    "prompt",
    [
        "Prove that 7 divides 2^(3n) - 1 for every n.",
        "Are there infinitely many primes p with p + 2 also prime?",
        "Find all functions f: N -> N with f(f(n)) = n + 1.",
        "Show that the product of four consecutive integers plus one is a perfect square.",
    ],
)
def test_short_but_deep(prompt: str) -> None:
    assert classify_rules(prompt).tier == Tier.DEEP


# --- keyword traps: whole words only -------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "tier"),
    [
        ("Who discovered the structure of DNA?", Tier.SIMPLE),  # "cover" in "discover"
        ("Can you improve the wording of this title: 'Our Product Is Good'?", Tier.MODERATE),  # "prove"
        ("Is my phone's IP67 rating waterproof enough for swimming?", Tier.SIMPLE),  # "proof"
        ("What's a moral dilemma?", Tier.SIMPLE),  # "lemma"
        ("How long should a paragraph be?", Tier.SIMPLE),  # "graph"
        ("Who was the first prime minister of India?", Tier.SIMPLE),  # "prime"
        ("Is this apartment complex pet friendly? It says 'cats ok' on the sign.", Tier.SIMPLE),
        ("Who designed the Sydney Opera House?", Tier.SIMPLE),  # "design"
        ("Who proved the four colour theorem?", Tier.SIMPLE),  # "proved", "theorem"
    ],
)
def test_keyword_inside_other_words_or_senses(prompt: str, tier: Tier) -> None:
    assert classify_rules(prompt).tier == tier


@pytest.mark.parametrize(
    "prompt",
    [
        "Is the shop open 24/7?",
        "What does `rm -rf` do?",
        "Which is older, the client-server model or peer-to-peer?",
        "My flight is on 2025-07-14; which terminal does it leave from?",
        "Rate it 10/10 or 7/10?",
    ],
)
def test_dash_and_slash_are_not_arithmetic(prompt: str) -> None:
    result = classify_rules(prompt)
    assert result.features["math_level"] == 0.0
    assert result.task != Task.MATH
    assert result.tier == Tier.SIMPLE


def test_bare_paste_without_an_ask_is_an_implied_request() -> None:
    assert classify_rules(TRACEBACK).tier == Tier.COMPLEX  # a bare traceback asks for debugging
    bare_code = "```python\n" + "\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(20)) + "\n```"
    assert classify_rules(bare_code).tier == Tier.MODERATE
    assert classify_rules(LOG).tier == Tier.COMPLEX  # errors all over it
    assert classify_rules(" " * 50_000).tier == Tier.TRIVIAL  # whitespace is not material


# --- code present, simple ask -------------------------------------------------------------------
CODE = "```\n" + "\n".join(f"def step_{i}(x):\n    return x * {i} + 1\n" for i in range(40)) + "```"


@pytest.mark.parametrize(
    ("ask", "tier"),
    [
        ("what language is this?", Tier.SIMPLE),
        ("Which language is this written in?", Tier.SIMPLE),
        ("Explain what this module does.", Tier.MODERATE),
        ("Find the bug: step_7 should return 7x + 2.", Tier.COMPLEX),
        ("thanks, looks good", Tier.TRIVIAL),
    ],
)
def test_code_with_asks_of_every_size(ask: str, tier: Tier) -> None:
    assert classify_rules(CODE + "\n\n" + ask).tier == tier


# --- other languages ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "tier"),
    [
        ("¡Muchas gracias!", Tier.TRIVIAL),
        ("¿Quién escribió Don Quijote?", Tier.SIMPLE),
        ("Explica cómo funciona una red neuronal.", Tier.MODERATE),
        ("Demuestra que la raíz cuadrada de 3 es irracional.", Tier.DEEP),
        ("Salut !", Tier.TRIVIAL),
        ("Quelle est la capitale du Canada ?", Tier.SIMPLE),
        ("Écris une fonction JavaScript qui trie un tableau.", Tier.MODERATE),
        ("Démontrez qu'il existe une infinité de nombres premiers.", Tier.DEEP),
        ("Hallo!", Tier.TRIVIAL),
        ("Wer hat die Relativitätstheorie entwickelt?", Tier.SIMPLE),
        ("Erkläre den Unterschied zwischen TCP und UDP.", Tier.MODERATE),
        ("Beweise, dass die Wurzel aus 2 irrational ist.", Tier.DEEP),
        ("谢谢你的帮助", Tier.TRIVIAL),
        ("中国的首都是哪里？", Tier.SIMPLE),
        ("请解释一下TCP和UDP的区别。", Tier.MODERATE),
        ("请证明根号2是无理数。", Tier.DEEP),
        ("ありがとう！", Tier.TRIVIAL),
        ("東京タワーの高さは何メートルですか？", Tier.SIMPLE),
        ("TCPとUDPの違いを説明してください。", Tier.MODERATE),
        ("素数が無限に存在することを証明してください。", Tier.DEEP),
        ("Спасибо!", Tier.TRIVIAL),
        ("Что такое ДНК?", Tier.SIMPLE),
        ("Объясни разницу между TCP и UDP.", Tier.MODERATE),
        ("Докажите, что простых чисел бесконечно много.", Tier.DEEP),
        ("Obrigada!", Tier.TRIVIAL),
        ("Qual é a capital da Argentina?", Tier.SIMPLE),
        ("Explique a diferença entre TCP e UDP.", Tier.MODERATE),
        ("Prove que a raiz quadrada de 2 é irracional.", Tier.DEEP),
    ],
)
def test_other_languages(prompt: str, tier: Tier) -> None:
    assert classify_rules(prompt).tier == tier


@pytest.mark.parametrize(
    "prompt",
    [
        "Diseña un sistema de pagos distribuido con consistencia fuerte entre regiones.",
        "Entwirf einen Cache für 50.000 Anfragen pro Sekunde.",
        "请设计一个分布式消息队列。",
        "Найди ошибку в этом коде:\n```python\ndef avg(xs):\n    return sum(xs) / len(xs) - 1\n```",
    ],
)
def test_other_languages_complex_requests_are_not_under_budgeted(prompt: str) -> None:
    assert classify_rules(prompt).tier.rank >= Tier.COMPLEX.rank


# --- arithmetic: the digits decide --------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "tier"),
    [
        ("2+3", Tier.SIMPLE),
        ("what is 9 * 6?", Tier.SIMPLE),
        ("What is 5312 x 8871?", Tier.MODERATE),
        ("Compute 73 * 48", Tier.MODERATE),
        ("What is 145,678 + 998,001?", Tier.MODERATE),
        ("Multiply 73829164 by 50918273 exactly.", Tier.COMPLEX),
        ("Is 53 prime?", Tier.SIMPLE),
        ("Is 48611 prime?", Tier.MODERATE),
        ("Is 104729003 prime?", Tier.COMPLEX),
        ("Factorise 56869841294934093.", Tier.DEEP),
        ("Factorise 12345678901234567891.", Tier.DEEP),
        ("What is 2^64?", Tier.MODERATE),
        ("What are the last 5 digits of 7^(7^7)?", Tier.DEEP),
    ],
)
def test_arithmetic_ladder(prompt: str, tier: Tier) -> None:
    result = classify_rules(prompt)
    assert result.tier == tier
    assert result.task == Task.MATH


def test_arithmetic_in_words() -> None:
    assert classify_rules("what is 6 times 7").tier == Tier.SIMPLE
    assert classify_rules("what is 4,512 multiplied by 3,907?").tier == Tier.MODERATE


def test_long_digit_run_is_handled_quickly_and_correctly() -> None:
    # a 50,000-digit number: the number patterns scan a digit run once (no quadratic backtracking)
    result = classify_rules("Is " + "7" * 50_000 + " prime?")
    assert result.tier == Tier.DEEP
