import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbudget_litellm.sim import vocab
from thinkbudget_litellm.sim.tokens import count_tokens, encoding


def test_every_piece_is_exactly_one_cl100k_token() -> None:
    pieces = vocab.all_pieces()
    assert len(pieces) > 100
    multi = {p: encoding().encode(p) for p in pieces if len(encoding().encode(p)) != 1}
    assert multi == {}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), n=st.integers(0, 1500))
def test_streams_yield_known_pieces_and_reencode_to_the_same_count(seed: int, n: int) -> None:
    known = vocab.all_pieces()
    for stream in (vocab.thinking_pieces(seed), vocab.answer_pieces(seed)):
        pieces = list(itertools.islice(stream, n))
        assert set(pieces) <= known
        assert count_tokens("".join(pieces)) == n


def test_text_reads_like_reasoning_then_an_answer_and_is_deterministic() -> None:
    think = "".join(itertools.islice(vocab.thinking_pieces(7), 400))
    answer = "".join(itertools.islice(vocab.answer_pieces(7), 60))
    assert think.startswith("Okay, so the user is asking about the ")
    assert "\n\n" in think and ("Wait" in think or "Hmm" in think or "Let me" in think)
    assert answer.startswith("Answer: The ")
    assert think == "".join(itertools.islice(vocab.thinking_pieces(7), 400))
    assert think != "".join(itertools.islice(vocab.thinking_pieces(8), 400))
