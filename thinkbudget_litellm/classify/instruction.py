"""Separate the instruction in a user turn from the material pasted with it.

A long turn is usually a short request plus pasted material: code, a log, a document. The
request sits at the start or at the end, or next to a code fence. The pasted material
should not steer the tier. Words like "error" in a log, or "design" in an article, say
nothing about what is being asked.

- Turns with no visible structure (no blank line, no fence, few lines) are all instruction.
- Otherwise the candidates are the first and last paragraphs, the paragraphs next to a
  code fence, and short plain-prose paragraphs in a turn that is not too long. Paragraphs
  are separated by a blank line.
- A paragraph that looks like data (log lines, code, tables) is material. For a long
  paragraph only its first and last lines are kept, if they read like prose.
- Turns longer than ``WINDOW`` characters are only read in a head window and a tail
  window. Whole-text statistics use C-speed ``str`` methods, so time stays linear with a
  small constant.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from thinkbudget_litellm.classify.lexicon import CUES

# builds a NamedTuple in C (the class's own __new__ is a Python function that calls it)
_new: Final = tuple.__new__

WHOLE_LIMIT: Final = 300  # shorter turns are always all instruction
SMALL_TURN: Final = 1_200  # up to here, short prose paragraphs in the middle count too
HEAD: Final = 3_000
TAIL: Final = 2_000
WINDOW: Final = HEAD + TAIL + 1_000
PARAGRAPH_LIMIT: Final = 400  # a longer paragraph counts only by its first and last lines
LINE_LIMIT: Final = 240
EDGE: Final = 150  # a long one-line paragraph counts by its first and last EDGE characters
INSTRUCTION_LIMIT: Final = 600  # the instruction is cut to its head and tail beyond this
MATERIAL_MIN: Final = 60  # less pasted material than this is not worth inspecting
SAMPLE_CHARS: Final = 2_000  # material_kind() looks at this much of the material
FENCE: Final = "```"
_DATA_START: Final = frozenset("0123456789[{<|#$>/\\=@%&\t ")
_DATA_END: Final = frozenset(";{}),=>\\")
_TRACE_STARTS: Final = CUES.trace_starts  # stack-trace lines ("Traceback (", "Caused by:")
_ERROR_MARKERS: Final = CUES.error_markers  # in a log or an error message ("rror", "WARN")


class TurnView(NamedTuple):
    """What a user turn asks, and what kind of material comes with it."""

    instruction: str
    chars: int
    material_chars: int
    code_blocks: int  # fenced code blocks in the whole turn
    sample: str  # a bounded sample of the pasted material ('' when there is none worth a look)


def _looks_like_data(line: str) -> bool:
    """A line of code, log or table rather than prose."""
    if not line:
        return False
    if line.startswith(_TRACE_STARTS) or _error_name(line):
        return True
    if line[0] in _DATA_START:
        # "1. Do this" and "2) then that" are numbered prose, not data
        return not (line[0].isdigit() and (line[1:3] in (". ", ") ") or line[2:4] in (". ", ") ")))
    stripped = line.rstrip()
    if stripped and stripped[-1] in _DATA_END:
        return True
    return stripped.count(" ") < len(stripped) // 25  # long runs without spaces: ids, paths, data


def _error_name(line: str) -> bool:
    """``ZeroDivisionError: ...``, ``java.io.IOException: ...``: an exception line."""
    if "rror" not in line and "xception" not in line:
        return False
    for marker in ("Error:", "Exception:", "Error(", "Exception("):
        i = line.find(marker)
        if i > 0 and line[i - 1].isalpha() and " " not in line[:i]:
            return True
    return False


def _paragraph_instruction(block: str) -> str:
    """The part of a paragraph that may be instruction ('' when it all looks like data)."""
    first_nl = block.find("\n")
    if first_nl < 0:
        if _looks_like_data(block):
            return ""
        if len(block) <= PARAGRAPH_LIMIT:
            return block
        return block[:EDGE] + " ... " + block[-EDGE:]
    first = block[:first_nl]
    if len(block) <= PARAGRAPH_LIMIT and not _looks_like_data(first):
        # a short paragraph of prose lines, or a heading line over a list
        return block
    last = block[block.rfind("\n") + 1 :]
    keep_first = len(first) <= LINE_LIMIT and not _looks_like_data(first) and _prose_line(first)
    keep_last = len(last) <= LINE_LIMIT and not _looks_like_data(last) and _prose_line(last)
    if keep_first and keep_last:
        return first if first == last else first + "\n" + last
    return first if keep_first else last if keep_last else ""


def _prose_line(line: str) -> bool:
    return line.count(" ") >= 1 or len(line) <= 20


def _pieces(text: str) -> list[tuple[bool, str]]:
    """(is_code, piece) in order; pieces between ``` fences are code."""
    parts = text.split(FENCE)
    return [(i % 2 == 1, p) for i, p in enumerate(parts)]


def _windowed(text: str, fences: int) -> str:
    """Head and tail of a long turn (``fences`` fence markers in all), fences balanced across the cut."""
    head = text[:HEAD]
    tail = text[-TAIL:]
    if head.count(FENCE) % 2:
        head += "\n" + FENCE
    # fences before the tail = all of them minus those in the tail: no second scan of the whole text
    if (fences - text.count(FENCE, len(text) - TAIL - len(FENCE) + 1)) % 2:
        tail = FENCE + "\n" + tail
    else:
        # the tail starts mid-paragraph: drop that partial paragraph
        cut = tail.find("\n\n")
        tail = tail[cut + 2 :] if 0 <= cut < len(tail) // 2 else tail
    return head + "\n\n" + tail


def material_kind(view: TurnView) -> tuple[bool, bool]:
    """(code_like, error_like) for the material of ``view``: code in it; errors or logs in it."""
    sample = view.sample
    if not sample:
        return view.code_blocks > 0, False
    code_like = view.code_blocks > 0 or sample.count(";\n") + sample.count("{\n") + sample.count("):\n") >= 3
    error_like = any(marker in sample for marker in _ERROR_MARKERS)
    return code_like, error_like


def bullets(text: str) -> int:
    """List items in ``text``."""
    if "\n" not in text:
        return 0
    return (
        text.count("\n- ")
        + text.count("\n* ")
        + text.count("\n• ")
        + text.count("\n1.")
        + text.count("\n2.")
        + text.count("\n3.")
    )


def _clip(text: str, limit: int = INSTRUCTION_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[: limit * 2 // 3] + "\n" + text[-limit // 3 :]


def view_turn(text: str, limit: int = INSTRUCTION_LIMIT) -> TurnView:
    """Split ``text`` into instruction and material (see the module docstring).

    ``limit`` caps the instruction: longer ones keep their head and tail.
    """
    n = len(text)
    # one-character probes first: they run at memchr speed and spare the longer scans
    fences = text.count(FENCE) if n > 6 and "`" in text else 0
    code_blocks = fences // 2
    if not code_blocks and ("\n" not in text or ("\n\n" not in text and (n <= WHOLE_LIMIT or text.count("\n") < 4))):
        instruction = _clip(text, limit)
        return _new(TurnView, (instruction, n, n - len(instruction), 0, ""))
    body = _windowed(text, fences) if n > WINDOW else text
    pieces = _pieces(body) if code_blocks else [(False, body)]
    # Paragraphs in order, with a flag for "next to a code fence".
    paragraphs: list[tuple[str, bool]] = []
    code_chars = 0
    for idx, (is_code, piece) in enumerate(pieces):
        if is_code:
            code_chars += len(piece)
            continue
        blocks = [stripped for b in piece.split("\n\n") if (stripped := b.strip())]
        for j, block in enumerate(blocks):
            near_fence = (j == len(blocks) - 1 and idx + 1 < len(pieces)) or (j == 0 and idx > 0)
            paragraphs.append((block, near_fence))
    kept: list[str] = []
    last = len(paragraphs) - 1
    # "Summarise this thread:" announces material: what follows it is not instruction.
    lead_in = bool(paragraphs) and paragraphs[0][0].endswith((":", "："))
    for i, (block, near_fence) in enumerate(paragraphs):
        if i == 0 or i == last or near_fence:
            part = _paragraph_instruction(block)
        elif not lead_in and n <= SMALL_TURN and len(block) <= PARAGRAPH_LIMIT and not _looks_like_data(block):
            part = block
        else:
            part = ""
        if part:
            kept.append(part)
    instruction = _clip("\n\n".join(kept), limit)
    material = n - len(instruction)
    sample = (body if len(body) <= SAMPLE_CHARS else body[:SAMPLE_CHARS]) if material >= MATERIAL_MIN else ""
    return _new(TurnView, (instruction, n, material, code_blocks, sample))
