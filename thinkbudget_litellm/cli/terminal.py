"""Printing values that came from outside (the records database, a config file, a client, an
exception message) on a terminal, so that none of them can crash the output or style it.

Two dangers. Rich parses markup in plain strings: ``[/bold]`` raises ``MarkupError`` and
``[link=...]`` makes a hyperlink. And a terminal obeys control characters: ESC and C1 sequences
move the cursor or change colours, ``\\r`` overwrites the line, bidi controls reorder it; a lone
surrogate cannot even be encoded to UTF-8. So every outside value goes through :func:`visible`,
which spells such characters out, and reaches rich only inside :class:`rich.text.Text` (built by
:func:`styled` and :func:`line`), which is never parsed for markup or emoji codes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.text import Text

# C0 controls, DEL, C1 controls, the bidi marks, embeddings, overrides and isolates, the line and
# paragraph separators, and surrogates (only ever lone in a str).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _spelled_out(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def visible(value: object) -> str:
    """``str(value)`` with every control character, bidi control, line separator and lone surrogate
    replaced by its Python escape (``\\x1b``, ``\\r``, ``\\u202e``, ``\\udc80``): one line that can
    neither move the cursor nor change colours, and always encodes. Other text is unchanged."""
    return _UNSAFE.sub(_spelled_out, str(value))


def styled(value: object, style: str = "") -> Text:
    """``value`` made :func:`visible`, as rich text in ``style`` (never parsed as markup)."""
    return Text(visible(value), style=style)


def line(*parts: object) -> Text:
    """One line of rich text: :class:`Text` parts are kept as they are (see :func:`styled`), every
    other part is made :func:`visible`. Nothing in it is parsed as markup."""
    return Text.assemble(*(part if isinstance(part, Text) else visible(part) for part in parts))


def error_line(message: object) -> Text:
    """``error: <message>`` with a red label, the message made visible."""
    return line(styled("error:", "red"), " ", message)


def json_line(value: Any) -> str:
    """``value`` as one line of JSON (non-ASCII text kept readable) in which the characters that
    :func:`visible` spells out appear only as ``\\uXXXX`` escapes: equal JSON, safe to print."""
    encoded = json.dumps(value, ensure_ascii=False)  # C0 controls are escaped already; the rest is in strings
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", encoded)
