"""Read the parts of a chat request that the classifier looks at.

Input is a plain string (one user turn) or a list of OpenAI chat messages. A request body
holding ``messages``, or one message mapping, is accepted too. Messages may have string
content, content-part lists (text, image and audio parts), assistant ``tool_calls`` and
``tool`` results.

Bad input is handled as follows:

- A top-level value that cannot be a prompt (``None``, numbers, bytes, sets...) raises
  ``TypeError``.
- A mapping that is neither a message nor a request body raises ``ValueError``.
- Malformed entries inside a message list are skipped. Non-mapping items, unknown roles
  and contents of the wrong type are ignored, so the result is built from whatever text
  there is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

# builds a NamedTuple in C (the class's own __new__ is a Python function that calls it)
_new: Final = tuple.__new__

MAX_CONTEXT_TURNS: Final = 3  # earlier user turns kept for follow-up inheritance
CONTEXT_CHARS: Final = 4_000  # each earlier turn is cut to its head and tail
_USER_ROLES: Final = frozenset({"user", "human"})
_SYSTEM_ROLES: Final = frozenset({"system", "developer"})
_TOOL_ROLES: Final = frozenset({"tool", "function", "ipython"})
_TEXT_PART_TYPES: Final = frozenset({"text", "input_text", "output_text"})
_IMAGE_PART_TYPES: Final = frozenset({"image_url", "image", "input_image", "image_file"})


class Conversation(NamedTuple):
    """The last user turn and a bounded view of what came before it."""

    ask: str  # text of the newest user turn, in full, without the blank space around it
    context: tuple[str, ...]  # earlier user turns, newest first, each cut to CONTEXT_CHARS
    context_has_code: bool  # an earlier user or assistant turn holds code
    system_chars: int
    images: int  # image parts in the newest user turn
    tool_results: int  # tool messages after the newest user turn
    tool_chars: int
    turns: int  # messages looked at


def _clip(text: str, limit: int = CONTEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n\n" + text[-half:]


def content_text(content: Any) -> tuple[str, int]:
    """Joined text of a message content and its number of image parts."""
    if isinstance(content, str):
        return content, 0
    if content is None:
        return "", 0
    if isinstance(content, Mapping):  # a single content part
        content = (content,)
    if not isinstance(content, Sequence) or isinstance(content, (bytes, bytearray)):
        return "", 0
    texts: list[str] = []
    images = 0
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, (dict, Mapping)):
            kind = part.get("type")
            if not isinstance(kind, str) and kind is not None:
                continue
            if kind in _TEXT_PART_TYPES or (kind is None and "text" in part):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
            elif kind in _IMAGE_PART_TYPES:
                images += 1
    return "\n".join(texts), images


def _has_code(text: str) -> bool:
    return "```" in text or text.count(";\n") >= 2 or text.count("{\n") >= 2 or "def " in text


def _as_messages(value: object) -> Sequence[object]:
    if type(value) is list or type(value) is tuple:  # the usual case, without the Mapping ABC check
        return value
    if isinstance(value, str):
        return ({"role": "user", "content": value},)
    if isinstance(value, Mapping):
        if "messages" in value:
            inner = value["messages"]
            if isinstance(inner, str) or not isinstance(inner, Sequence):
                raise ValueError("the 'messages' field must be a list of chat messages")
            return inner
        if "content" in value or "role" in value:
            return (value,)
        raise ValueError("expected a chat message (with 'role'/'content') or a request with 'messages'")
    if isinstance(value, (list, tuple)):
        return value
    raise TypeError(f"classify() takes a prompt string or a list of chat messages, not {type(value).__name__}")


def read_conversation(value: object) -> Conversation:
    """The classifier's view of ``value``; see the module docstring for what is accepted."""
    if isinstance(value, str):
        return _new(Conversation, (value.strip(), (), False, 0, 0, 0, 0, 1))
    messages = _as_messages(value)
    ask: str | None = None
    images = 0
    tool_results = 0
    tool_chars = 0
    context: list[str] = []
    context_has_code = False
    system_chars = 0
    system_text = ""
    fallback = ""
    looked = 0
    for msg in reversed(messages):
        looked += 1
        content: Any
        if isinstance(msg, (dict, Mapping)):
            role_value = msg.get("role", "user")
            role = role_value.lower() if isinstance(role_value, str) else ""
            content = msg.get("content")
        elif isinstance(msg, str):
            role, content = "user", msg
        else:
            continue
        if role in _USER_ROLES:
            text, n_images = content_text(content)
            if ask is None:
                ask, images = text.strip(), n_images
            elif len(context) < MAX_CONTEXT_TURNS:
                if text.strip():
                    context.append(_clip(text))
                    context_has_code = context_has_code or _has_code(context[-1])
            else:
                break
        elif role in _TOOL_ROLES:
            if ask is None:
                text, _ = content_text(content)
                tool_results += 1
                tool_chars += len(text)
        elif role in _SYSTEM_ROLES:
            text, _ = content_text(content)
            system_chars += len(text)
            system_text = system_text or text
        elif role == "assistant" and ask is not None:
            if not context_has_code and len(context) < MAX_CONTEXT_TURNS:
                text, _ = content_text(content)
                context_has_code = _has_code(text[:CONTEXT_CHARS])
        elif role == "assistant" and ask is None:
            text, _ = content_text(content)
            fallback = fallback or text
    if ask is None:
        # No user turn: classify the system prompt (some clients put the whole request there),
        # else whatever text an assistant turn holds.
        ask = system_text or fallback
    return _new(
        Conversation, (ask, tuple(context), context_has_code, system_chars, images, tool_results, tool_chars, looked)
    )
