"""Where the thinking is in a streamed chat completion, and when its budget runs out.

``ThinkingStream`` is fed one chunk at a time as ``(reasoning, content)``: ``reasoning``
is the delta's reasoning field (LiteLLM's ``delta.reasoning_content``, vLLM's
``reasoning``), ``content`` is ``delta.content``. For each chunk it says what to forward
to the client, and whether the thinking budget has just been exceeded (the *cut*).
It is pure: no I/O, no LiteLLM objects.

Styles (``Style``) in which thinking reaches the proxy:

* ``PARSER``: the engine's reasoning parser puts thinking in the reasoning field; the
  content field is the answer.
* ``INLINE``: ``<think>`` ... ``</think>`` inside the content (also what LiteLLM's
  ``merge_reasoning_content_in_choices`` produces). The opening tag is recognised only
  at the start of the content, after optional whitespace.
* ``PREOPENED``: the chat template already opened ``<think>`` in the prompt, so the
  content starts with thinking and only ``</think>`` appears.

Detection. Reasoning-field text is always thinking (in any state) and selects
``PARSER`` if nothing was seen before. Content whose first non-whitespace text is the
opening tag selects ``INLINE``, whatever the hint. Content that starts with anything
else (also: a stream that ends having sent only whitespace or a partial opening tag) is
interpreted by ``style_hint``:

* ``None`` (auto): it is *provisional* thinking in the ``PREOPENED`` style. It is
  forwarded at once (a pre-opened stream and a stream without thinking look the same
  to the client, so nothing is held back) and counted against the budget, so the
  budget applies to pre-opened templates even without configuration. A later
  ``</think>`` confirms it. If the stream ends without one, ``finish()`` moves those
  tokens to the answer. If the budget runs out while still provisional, the cut fires
  as for ``PREOPENED``: with auto-detection, a model that never thinks but writes more
  than the budget is cut (``provisional`` is still true after such a cut). Set a hint
  for such deployments.
* ``Style.PREOPENED``: the same, but certain (not provisional).
* ``Style.PARSER`` / ``Style.INLINE``: it is the answer (no thinking in this response).

The budget. ``limit = budget + slack``. Thinking text is counted fragment by fragment
(a fragment is the thinking part of one chunk) with the injected counter. The cut
fires on the first fragment that would take the thinking count above ``limit``; that
fragment is truncated to its longest prefix that keeps the count within ``limit``
(found by bisection with the counter), the prefix is forwarded, and nothing after it
(the rest of the chunk, any held-back text) is. So ``thinking_tokens <= limit``
always, and exactly ``limit`` thinking tokens can pass without a cut: a model that
closes its thinking right at the limit is not cut.

Grace (``grace`` tokens, default 0; NVIDIA NIM grants ~10% of the budget the same way). When the
thinking reaches ``limit`` mid-sentence, up to ``grace`` more tokens pass so that it can finish the
sentence or line: the cut then falls just after the first sentence end (``.``, ``!`` or ``?``
before whitespace or the end of the fragment) or line break, or at ``limit + grace`` if none comes.
Thinking that already ends a sentence at ``limit`` is cut there; thinking that closes within the
grace is not cut at all. ``grace_tokens`` counts the thinking past ``limit``; always
``thinking_tokens <= limit + grace``. After a cut ``feed()`` raises; the
caller closes upstream, emits ``continuation.closing_output(...)``, and forwards the
continuation's deltas through ``feed_continuation()``.

Accounting. ``thinking_tokens + answer_tokens`` is the count of all forwarded model
text except the tags: text before thinking opens (in practice whitespace) is counted
as answer. Tags never count and are not part of ``reasoning_text``.

Held text. Content that might be the start of a tag is held back until the next chunk
decides (``held_text``): inside thinking at most ``len(close_tag) - 1`` characters; at
the very start, leading whitespace plus a possible partial opening tag. ``finish()``
flushes it. Nothing else is ever delayed.

Cost. ``feed()`` looks only at the new chunk plus the held text; it never rescans what
came before. About 1-2 microseconds per one-token delta (benchmarks/stream_state_bench.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from thinkbudget_litellm.enforce.token_count import TokenCounter, count_tokens

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


class Style(StrEnum):
    PARSER = "parser"
    INLINE = "inline"
    PREOPENED = "preopened"


class State(StrEnum):
    START = "start"  # nothing classified yet (only whitespace or a partial opening tag seen)
    THINKING = "thinking"
    ANSWER = "answer"  # thinking closed, or there was none
    CUT = "cut"  # the budget was exceeded; the upstream must be abandoned


class StreamStateError(RuntimeError):
    """A call that the stream's state does not allow (feed after the cut or after finish)."""


class StepResult(NamedTuple):
    """What one ``feed()`` / ``finish()`` / ``feed_continuation()`` call decided.

    ``reasoning_out`` / ``content_out``: text to forward in the reasoning / content field
    for this chunk (``None``: nothing). ``cut``: the budget was exceeded in this call.
    ``thinking_done``: thinking is over as of this call (closed, cut, or absent).
    ``new_thinking_tokens`` / ``new_answer_tokens``: tokens counted in this call (after
    ``finish()`` reclassifies provisional thinking, its ``new_thinking_tokens`` is negative).
    A named tuple: immutable and cheap to build once per chunk.
    """

    reasoning_out: str | None = None
    content_out: str | None = None
    cut: bool = False
    thinking_done: bool = False
    new_thinking_tokens: int = 0
    new_answer_tokens: int = 0


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest proper prefix of ``tag`` that ``text`` ends with (``tag`` not in ``text``)."""
    first = tag[0]
    i = text.find(first, max(0, len(text) - len(tag) + 1))
    while i >= 0:
        if tag.startswith(text[i:]):
            return len(text) - i
        i = text.find(first, i + 1)
    return 0


def _check_text(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be str or None, got {type(value).__name__}")


_DONE_STATES = (State.ANSWER, State.CUT)
_SENTENCE_ENDS = ".!?"


def _ends_sentence(text: str) -> bool:
    """``text`` ends a sentence or a line (trailing spaces allowed)."""
    if text.endswith("\n"):
        return True
    stripped = text.rstrip(" \t")
    return bool(stripped) and stripped[-1] in _SENTENCE_ENDS


def _sentence_end(text: str) -> int:
    """The index just past the first sentence end or line break in ``text``; -1 if none."""
    for i, ch in enumerate(text):
        if ch == "\n" or (ch in _SENTENCE_ENDS and (i + 1 == len(text) or text[i + 1].isspace())):
            return i + 1
    return -1


class ThinkingStream:
    """The thinking-budget state machine for one streamed response (see module docstring)."""

    __slots__ = (
        "_answer",
        "_budget",
        "_close",
        "_counter",
        "_finished",
        "_grace",
        "_hint",
        "_in_grace",
        "_limit",
        "_open",
        "_parts",
        "_pending",
        "_provisional",
        "_slack",
        "_state",
        "_style",
        "_thinking",
    )

    def __init__(
        self,
        budget: int,
        counter: TokenCounter = count_tokens,
        style_hint: Style | None = None,
        slack: int = 0,
        *,
        open_tag: str = OPEN_TAG,
        close_tag: str = CLOSE_TAG,
        grace: int = 0,
    ) -> None:
        for name, value in (("budget", budget), ("slack", slack), ("grace", grace)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if not callable(counter):
            raise TypeError("counter must be callable: str -> int")
        if style_hint is not None and not isinstance(style_hint, Style):
            raise TypeError(f"style_hint must be a Style or None, got {style_hint!r}")
        for name, tag in (("open_tag", open_tag), ("close_tag", close_tag)):
            if not isinstance(tag, str) or not tag:
                raise ValueError(f"{name} must be a non-empty string")
        if open_tag == close_tag:
            raise ValueError("open_tag and close_tag must differ")
        self._budget = budget
        self._slack = slack
        self._limit = budget + slack
        self._grace = grace
        self._in_grace = False  # the limit was reached mid-sentence: waiting for its end
        self._counter = counter
        self._hint = style_hint
        self._open = open_tag
        self._close = close_tag
        self._state = State.START
        self._style: Style | None = None
        self._provisional = False
        self._thinking = 0
        self._answer = 0
        self._parts: list[str] = []
        self._pending = ""  # held content: leading whitespace / partial tag, not yet forwarded
        self._finished = False

    # -- read-only view -------------------------------------------------------------

    @property
    def budget(self) -> int:
        return self._budget

    @property
    def slack(self) -> int:
        return self._slack

    @property
    def limit(self) -> int:
        """``budget + slack``: the most thinking tokens forwarded without grace."""
        return self._limit

    @property
    def grace(self) -> int:
        return self._grace

    @property
    def grace_tokens(self) -> int:
        """Thinking tokens let past ``limit`` to finish a sentence (part of ``thinking_tokens``)."""
        return max(self._thinking - self._limit, 0)

    @property
    def thinking_tokens(self) -> int:
        return self._thinking

    @property
    def answer_tokens(self) -> int:
        return self._answer

    @property
    def reasoning_text(self) -> str:
        """All thinking text forwarded so far, without tags (the continuation prefill)."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def style(self) -> Style | None:
        """The detected style; ``None`` while unknown or when the response had no thinking."""
        return self._style

    @property
    def state(self) -> State:
        return self._state

    @property
    def provisional(self) -> bool:
        """Content is being treated as pre-opened thinking without a closing tag seen yet."""
        return self._provisional

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def held_text(self) -> str:
        """Content received but not yet forwarded (a possible partial tag or leading whitespace)."""
        return self._pending

    # -- feeding --------------------------------------------------------------------

    def feed(self, reasoning: str | None, content: str | None) -> StepResult:
        """Process one upstream chunk; return what to forward for it."""
        if self._finished or self._state is State.CUT:
            if self._finished:
                raise StreamStateError("feed() after finish()")
            raise StreamStateError("feed() after the cut; forward the continuation with feed_continuation()")
        if (reasoning is not None and not isinstance(reasoning, str)) or (
            content is not None and not isinstance(content, str)
        ):
            _check_text("reasoning", reasoning)
            _check_text("content", content)
        thinking_before = self._thinking
        answer_before = self._answer
        reasoning_out = ""
        content_out = ""
        cut = False
        if reasoning:
            if self._state is State.START:
                # Held leading text precedes thinking in the reasoning field: it is content.
                content_out = self._pending
                self._pending = ""
                if content_out:
                    self._answer += self._count(content_out)
                self._state = State.THINKING
                self._style = Style.PARSER
            reasoning_out, cut = self._take_thinking(reasoning)
        if content and not cut:
            more, cut = self._take_content(content)
            content_out += more
        return self._result(reasoning_out, content_out, cut, thinking_before, answer_before)

    def finish(self) -> StepResult:
        """The upstream ended: flush held text and settle provisional thinking.

        Held text is classified as if the stream ended there (it may still exceed the
        budget, which reports ``cut``). Provisional thinking never confirmed by a closing
        tag becomes answer. Call once, at the very end (after any continuation).
        """
        if self._finished:
            raise StreamStateError("finish() called twice")
        self._finished = True
        thinking_before = self._thinking
        answer_before = self._answer
        held = self._pending
        self._pending = ""
        content_out = ""
        cut = False
        if held and self._state is State.START:
            self._decide_untagged_start()  # held text is not an opening tag after all
        if held and self._state is State.ANSWER:
            self._answer += self._count(held)
            content_out = held
        elif held and self._state is State.THINKING:
            content_out, cut = self._take_thinking(held)
        elif self._state is State.START:
            self._state = State.ANSWER  # nothing at all was received
        if self._provisional and self._state is not State.CUT:
            self._answer += self._thinking
            self._thinking = 0
            self._parts.clear()
            self._style = None
            self._provisional = False
            self._state = State.ANSWER
        return self._result("", content_out, cut, thinking_before, answer_before)

    def feed_continuation(self, reasoning: str | None, content: str | None) -> StepResult:
        """Forward one chunk of the continuation's answer, after a cut.

        The continuation continues an assistant message whose thinking is closed, so all
        its text is answer; some reasoning parsers still put it in the reasoning field
        (no ``</think>`` in the new output), so both fields are merged into ``content_out``.
        """
        if self._finished:
            raise StreamStateError("feed_continuation() after finish()")
        if self._state is not State.CUT:
            raise StreamStateError("feed_continuation() is only valid after a cut")
        _check_text("reasoning", reasoning)
        _check_text("content", content)
        text = (reasoning or "") + (content or "")
        n = self._count(text) if text else 0
        self._answer += n
        return StepResult(None, text or None, False, True, 0, n)

    # -- internals ------------------------------------------------------------------

    def _result(
        self, reasoning_out: str, content_out: str, cut: bool, thinking_before: int, answer_before: int
    ) -> StepResult:
        return StepResult(
            reasoning_out or None,
            content_out or None,
            cut,
            self._state in _DONE_STATES,
            self._thinking - thinking_before,
            self._answer - answer_before,
        )

    def _count(self, text: str) -> int:
        n = self._counter(text)
        if n < 0:
            raise ValueError(f"token counter returned {n} (< 0) for {text[:20]!r}")
        return n

    def _take_thinking(self, text: str, closing: bool = False) -> tuple[str, bool]:
        """Count a thinking fragment; return (text to forward, cut). ``closing``: the closing tag
        follows the fragment (the thinking ends with it unless it is cut)."""
        n = self._counter(text)
        if n < 0:
            self._count(text)  # raises the clear error
        total = self._thinking + n
        if total <= self._limit and not self._in_grace:
            self._thinking = total
            self._parts.append(text)
            return text, False
        if not self._grace:
            return self._cut(text[: self._fit(text, self._limit - self._thinking)])
        if self._in_grace:
            return self._take_grace(text, n, closing)
        if closing and total <= self._limit + self._grace:
            self._accept(text, n)  # the model finishes its thinking within the grace
            return text, False
        kept = text[: self._fit(text, self._limit - self._thinking)]
        if kept:
            self._accept(kept, self._count(kept))
        if not self._parts or _ends_sentence(self._parts[-1]):
            return self._cut("", kept)
        self._in_grace = True
        rest = text[len(kept) :]
        more, cut = self._take_grace(rest, self._count(rest), closing)
        return kept + more, cut

    def _take_grace(self, text: str, n: int, closing: bool) -> tuple[str, bool]:
        """In the grace: forward up to the first sentence end (then cut) within ``limit + grace``."""
        room = self._limit + self._grace - self._thinking
        if closing and n <= room:
            self._accept(text, n)
            return text, False
        end = _sentence_end(text)
        piece = text if end < 0 else text[:end]
        m = n if end < 0 else self._count(piece)
        if m <= room:
            self._accept(piece, m)
            return (piece, False) if end < 0 else self._cut("", piece)
        return self._cut(piece[: self._fit(piece, room)])

    def _accept(self, text: str, n: int) -> None:
        if text:
            self._thinking += n
            self._parts.append(text)

    def _cut(self, kept: str, forwarded: str = "") -> tuple[str, bool]:
        """Cut after ``kept`` (counted here) and ``forwarded`` (counted already)."""
        if kept:
            self._accept(kept, self._count(kept))
        self._state = State.CUT
        self._pending = ""
        return forwarded + kept, True

    def _fit(self, text: str, room: int) -> int:
        """Largest prefix length whose count is <= room (the whole text is known not to fit)."""
        lo, hi = 0, len(text)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._count(text[:mid]) <= room:
                lo = mid
            else:
                hi = mid
        return lo

    def _take_content(self, text: str) -> tuple[str, bool]:
        """Classify a content delta (plus held text); return (text to forward, cut)."""
        if (
            self._state is State.THINKING
            and not self._pending
            and self._style is not Style.PARSER
            and self._close[0] not in text
        ):
            return self._take_thinking(text)  # common case: no tag can start in this chunk
        buf = self._pending + text if self._pending else text
        self._pending = ""
        out = ""
        while buf:
            state = self._state
            if state is State.ANSWER:
                self._answer += self._count(buf)
                return out + buf, False
            if state is State.THINKING:
                if self._style is Style.PARSER:
                    self._state = State.ANSWER  # content after parser thinking is the answer
                    continue
                close = self._close
                idx = buf.find(close)
                if idx >= 0:
                    if idx:
                        kept, cut = self._take_thinking(buf[:idx], closing=True)
                        if cut:
                            return out + kept, True
                    out += buf[: idx + len(close)]
                    self._state = State.ANSWER
                    self._provisional = False
                    buf = buf[idx + len(close) :]
                    continue
                hold = _partial_tag_suffix(buf, close)
                piece = buf[: len(buf) - hold]
                if piece:
                    kept, cut = self._take_thinking(piece)
                    if cut:
                        return out + kept, True
                    out += piece
                self._pending = buf[len(buf) - hold :] if hold else ""
                return out, False
            # State.START: decide what the content opens with.
            stripped = buf.lstrip()
            if not stripped:
                self._pending = buf
                return out, False
            if stripped.startswith(self._open):
                lead = len(buf) - len(stripped)
                if lead:
                    self._answer += self._count(buf[:lead])
                end = lead + len(self._open)
                out += buf[:end]
                buf = buf[end:]
                self._state = State.THINKING
                self._style = Style.INLINE
                continue
            if self._open.startswith(stripped):
                self._pending = buf  # maybe a split opening tag
                return out, False
            self._decide_untagged_start()
        return out, False

    def _decide_untagged_start(self) -> None:
        """Content starts with something other than the opening tag: apply the hint."""
        if self._hint is None or self._hint is Style.PREOPENED:
            self._state = State.THINKING
            self._style = Style.PREOPENED
            self._provisional = self._hint is None
        else:
            self._state = State.ANSWER
