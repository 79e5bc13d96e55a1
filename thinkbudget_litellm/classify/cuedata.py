"""The classifier's cue data: words, phrases and patterns, read from one JSON file per language.

The files live in ``data/`` next to this module:

- ``index.json``: ``{"languages": ["en", "es", ...]}``, the languages in order. Cues of one kind
  are merged in this order, which decides which cue is reported first when several match.
- ``<language>.json``: that language's cues. Every key but ``language`` is optional:

  - ``words``: cue kind -> cues matched as whole words (``"how do i"`` is a run of three words).
    Cues are written as the tokenizer writes text (lower case, no punctuation, one space).
  - ``substrings``: cue kind -> cues matched anywhere in the text (Chinese and Japanese).
  - ``follow_leads``, ``follow_pairs``, ``short_probes``: openings of a follow-up turn.
  - ``echo_verbs``, ``echo_leads``: "say OK", "please just reply yes".
  - ``request_openers``: first words that make a request of the text before a closing "thanks".
  - ``counting_questions``: ``fact`` cues that ask for a count ("how many").
  - ``explain_within_howto``: ``explain`` cues that are only the start of a ``howto`` cue.
  - ``word_operators``: ``{"times": {"op": "*"}}``; ``"dot_groups_thousands": true`` where a dot
    in the number before the word separates thousands ("1.500 vezes 3").
  - ``verb_operators`` and ``verb_operator_links``: "multiply 12 by 7".
  - ``percent_of``: the word in "15% of 80".
  - ``last_digits``: ``[["last", "digits"]]`` for "the last 3 digits of".
- ``common.json``: cues that belong to no language (``math_symbols``, ``trace_starts``,
  ``error_markers``), matched exactly as written.

Everything is checked when the package is imported: a malformed file raises ``CueDataError``
naming the file and the key. The result is immutable (tuples, frozensets, read-only mappings).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any, Final

from thinkbudget_litellm.classify.tokens import normalise_words

INDEX: Final = "index.json"
COMMON: Final = "common.json"
OPERATORS: Final = frozenset({"*", "/", "+", "-"})
_WORD_SETS: Final = (
    "follow_leads",
    "short_probes",
    "echo_verbs",
    "echo_leads",
    "request_openers",
    "verb_operator_links",
    "percent_of",
)
_PAIR_LISTS: Final = ("follow_pairs", "last_digits")
_CUE_SUBSETS: Final = {"counting_questions": "fact", "explain_within_howto": "explain"}
_LANGUAGE_KEYS: Final = frozenset(
    {"language", "words", "substrings", "word_operators", "verb_operators", *_WORD_SETS, *_PAIR_LISTS, *_CUE_SUBSETS}
)
_COMMON_KEYS: Final = ("math_symbols", "trace_starts", "error_markers")
Check = Callable[[str], str | None]  # what is wrong with one entry, or None


class CueDataError(ValueError):
    """A cue data file is missing or malformed; the message names the file and the key."""


def _error(name: str, key: str, problem: str) -> CueDataError:
    where = f"key {key!r}" if key else "top level"
    return CueDataError(f"cue data file {name}, {where}: {problem}")


@dataclass(frozen=True, slots=True)
class WordOperator:
    """An arithmetic operator written as a word ("times", "dividido por")."""

    word: str
    op: str  # one of OPERATORS
    dot_groups_thousands: bool


@dataclass(frozen=True, slots=True)
class CueData:
    """All languages' cues merged, in ``index.json`` order."""

    words: Mapping[str, tuple[str, ...]]  # kind -> whole-word cues
    substrings: Mapping[str, tuple[str, ...]]  # kind -> substring cues
    follow_leads: frozenset[str]
    follow_pairs: frozenset[tuple[str, str]]
    short_probes: frozenset[str]
    echo_verbs: frozenset[str]
    echo_leads: frozenset[str]
    request_openers: frozenset[str]
    counting_questions: frozenset[str]
    explain_within_howto: frozenset[str]
    word_operators: tuple[WordOperator, ...]
    verb_operators: Mapping[str, str]  # verb -> operator
    verb_operator_links: tuple[str, ...]
    percent_of: tuple[str, ...]
    last_digits: tuple[tuple[str, str], ...]
    math_symbols: tuple[str, ...]
    trace_starts: tuple[str, ...]
    error_markers: tuple[str, ...]


class _File:
    """One parsed file; every accessor checks the shape of its key and names it on failure."""

    def __init__(self, name: str, data: object) -> None:
        self.name = name
        if not isinstance(data, dict):
            raise self.error("", "the file must hold a JSON object")
        self.data: dict[str, Any] = data

    def error(self, key: str, problem: str) -> CueDataError:
        return _error(self.name, key, problem)

    def check_keys(self, allowed: Iterable[str]) -> None:
        unknown = sorted(self.data.keys() - set(allowed))
        if unknown:
            raise self.error(unknown[0], "unknown key")

    def strings(self, key: str, value: object, check: Check) -> tuple[str, ...]:
        """A list of distinct strings, each passing ``check`` (which returns a problem or None)."""
        if not isinstance(value, list):
            raise self.error(key, "expected a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", "expected a string")
            problem = check(item)
            if problem is not None:
                raise self.error(f"{key}[{i}]", f"{item!r}: {problem}")
            if item in value[:i]:
                raise self.error(f"{key}[{i}]", f"{item!r} is listed twice")
        return tuple(value)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "expected an object")
        return value

    def by_kind(self, key: str, kinds: frozenset[str], check: Check) -> dict[str, tuple[str, ...]]:
        table = self.mapping(key)
        for kind in table:
            if kind not in kinds:
                raise self.error(f"{key}.{kind}", f"unknown cue kind (known: {', '.join(sorted(kinds))})")
        return {kind: self.strings(f"{key}.{kind}", cues, check) for kind, cues in table.items()}

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, "expected a list of [word, word] pairs")
        for i, pair in enumerate(value):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.error(f"{key}[{i}]", "expected a [word, word] pair")
            self.strings(f"{key}[{i}]", pair, _word_problem)
        return tuple((a, b) for a, b in value)

    def operator(self, key: str, value: object) -> str:
        if value not in OPERATORS:
            raise self.error(key, f"expected one of {', '.join(sorted(OPERATORS))}")
        return str(value)


def _cue_problem(cue: str) -> str | None:
    """Why a whole-word cue can never match as written, or None when it can."""
    if " ".join(normalise_words(cue)) != cue:
        return "not written as the tokenizer writes text (lower case, no punctuation, single spaces)"
    return None


def _word_problem(word: str) -> str | None:
    return _cue_problem(word) or (" " in word and "expected a single word") or None


def _phrase_problem(phrase: str) -> str | None:
    """A phrase matched in lower-cased raw text (operators): lower case, single spaces."""
    if not phrase or phrase != phrase.lower() or " ".join(phrase.split()) != phrase:
        return "expected lower case words separated by single spaces"
    return None


def _substring_problem(text: str) -> str | None:
    if not text or text != text.lower() or any(ch.isspace() for ch in text):
        return "expected a non-empty lower-case string without spaces"
    return None


def _exact_problem(text: str) -> str | None:
    return None if text else "expected a non-empty string"


@dataclass(frozen=True, slots=True)
class _Language:
    name: str
    words: dict[str, tuple[str, ...]]
    substrings: dict[str, tuple[str, ...]]
    word_sets: dict[str, tuple[str, ...]]
    pairs: dict[str, tuple[tuple[str, str], ...]]
    word_operators: tuple[WordOperator, ...]
    verb_operators: dict[str, str]


def _word_operators(f: _File) -> tuple[WordOperator, ...]:
    found: list[WordOperator] = []
    for word, spec in f.mapping("word_operators").items():
        key = f"word_operators.{word}"
        problem = _phrase_problem(word)
        if problem is not None:
            raise f.error(key, problem)
        if not isinstance(spec, dict) or not spec.keys() <= {"op", "dot_groups_thousands"}:
            raise f.error(key, 'expected {"op": ..., "dot_groups_thousands": true|false}')
        grouped = spec.get("dot_groups_thousands", False)
        if not isinstance(grouped, bool):
            raise f.error(f"{key}.dot_groups_thousands", "expected true or false")
        found.append(WordOperator(word, f.operator(f"{key}.op", spec.get("op")), grouped))
    return tuple(found)


def _listed_in(words: Mapping[str, tuple[str, ...]], kind: str) -> Check:
    listed = frozenset(words.get(kind, ()))

    def problem(cue: str) -> str | None:
        return _cue_problem(cue) or (None if cue in listed else f"not one of this file's {kind!r} words")

    return problem


def _verb_operators(f: _File) -> dict[str, str]:
    verbs: dict[str, str] = {}
    for verb, op in f.mapping("verb_operators").items():
        problem = _word_problem(verb)
        if problem is not None:
            raise f.error(f"verb_operators.{verb}", problem)
        verbs[verb] = f.operator(f"verb_operators.{verb}", op)
    return verbs


def _read_language(f: _File, language: str, kinds: frozenset[str]) -> _Language:
    f.check_keys(_LANGUAGE_KEYS)
    if f.data.get("language") != language:
        raise f.error("language", f"expected {language!r}, the name of the file")
    words = f.by_kind("words", kinds, _cue_problem)
    word_sets = {key: f.strings(key, f.data.get(key, []), _word_problem) for key in _WORD_SETS}
    for key, kind in _CUE_SUBSETS.items():
        word_sets[key] = f.strings(key, f.data.get(key, []), _listed_in(words, kind))
    return _Language(
        name=f.name,
        words=words,
        substrings=f.by_kind("substrings", kinds, _substring_problem),
        word_sets=word_sets,
        pairs={key: f.pairs(key) for key in _PAIR_LISTS},
        word_operators=_word_operators(f),
        verb_operators=_verb_operators(f),
    )


def _read_json(root: Traversable, name: str) -> _File:
    path = root.joinpath(name)
    if not path.is_file():
        raise CueDataError(f"cue data file {name} is missing from {root}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CueDataError(f"cue data file {name}: not valid JSON ({exc})") from exc
    return _File(name, data)


def _languages(root: Traversable) -> tuple[str, ...]:
    index = _read_json(root, INDEX)
    index.check_keys(("languages",))
    languages = index.strings("languages", index.data.get("languages"), _word_problem)
    if not languages:
        raise index.error("languages", "expected at least one language")
    listed = {INDEX, COMMON, *(f"{lang}.json" for lang in languages)}
    for entry in root.iterdir():
        if entry.name.endswith(".json") and entry.name not in listed:
            raise index.error("languages", f"{entry.name} is in the data folder but not listed")
    return languages


def _merged(parts: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for part in parts for item in part))


def _operators_merged(langs: Sequence[_Language]) -> tuple[tuple[WordOperator, ...], Mapping[str, str]]:
    """Word and verb operators of every language; one word with two meanings is an error."""
    words: dict[str, WordOperator] = {}
    verbs: dict[str, str] = {}
    for lang in langs:
        for op in lang.word_operators:
            if words.setdefault(op.word, op) != op:
                raise _error(lang.name, f"word_operators.{op.word}", "defined differently in an earlier language")
        for verb, sign in lang.verb_operators.items():
            if verbs.setdefault(verb, sign) != sign:
                raise _error(lang.name, f"verb_operators.{verb}", "defined differently in an earlier language")
    return tuple(words.values()), MappingProxyType(verbs)


def _by_kind(kinds: Sequence[str], tables: Sequence[Mapping[str, tuple[str, ...]]]) -> Mapping[str, tuple[str, ...]]:
    """Kind -> the cues of every language in order, kinds in ``kinds`` order (only kinds with cues)."""
    merged = {kind: tuple(cue for table in tables for cue in table.get(kind, ())) for kind in kinds}
    return MappingProxyType({kind: cues for kind, cues in merged.items() if cues})


def load_cue_data(root: Traversable, kinds: Sequence[str]) -> CueData:
    """Read and check every file under ``root``; ``kinds`` are the known cue kinds, in report order."""
    known = frozenset(kinds)
    langs = [_read_language(_read_json(root, f"{lang}.json"), lang, known) for lang in _languages(root)]
    common = _read_json(root, COMMON)
    common.check_keys(_COMMON_KEYS)
    exact = {key: common.strings(key, common.data.get(key, []), _exact_problem) for key in _COMMON_KEYS}

    word_operators, verb_operators = _operators_merged(langs)

    def union(key: str) -> frozenset[str]:
        return frozenset(_merged(lang.word_sets[key] for lang in langs))

    return CueData(
        words=_by_kind(kinds, [lang.words for lang in langs]),
        substrings=_by_kind(kinds, [lang.substrings for lang in langs]),
        follow_leads=union("follow_leads"),
        follow_pairs=frozenset(pair for lang in langs for pair in lang.pairs["follow_pairs"]),
        short_probes=union("short_probes"),
        echo_verbs=union("echo_verbs"),
        echo_leads=union("echo_leads"),
        request_openers=union("request_openers"),
        counting_questions=union("counting_questions"),
        explain_within_howto=union("explain_within_howto"),
        word_operators=word_operators,
        verb_operators=verb_operators,
        verb_operator_links=_merged(lang.word_sets["verb_operator_links"] for lang in langs),
        percent_of=_merged(lang.word_sets["percent_of"] for lang in langs),
        last_digits=tuple(dict.fromkeys(pair for lang in langs for pair in lang.pairs["last_digits"])),
        math_symbols=exact["math_symbols"],
        trace_starts=exact["trace_starts"],
        error_markers=exact["error_markers"],
    )
