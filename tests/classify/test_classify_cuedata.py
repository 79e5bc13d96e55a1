"""The cue data files: they load from the package, merge by language, and a malformed one fails loudly."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from thinkbudget_litellm.classify import classify_rules, scoring
from thinkbudget_litellm.classify import lexicon as lx
from thinkbudget_litellm.classify.cuedata import CueDataError, load_cue_data

DATA = files("thinkbudget_litellm.classify").joinpath("data")
LANGUAGES = ("en", "es", "fr", "de", "ru", "pt", "zh", "ja")

Edit = Callable[[dict[str, Any]], None]


def test_the_shipped_files_load_from_the_package() -> None:
    names = sorted(entry.name for entry in DATA.iterdir() if entry.name.endswith(".json"))
    assert names == sorted(["index.json", "common.json", *(f"{lang}.json" for lang in LANGUAGES)])
    index = json.loads(DATA.joinpath("index.json").read_text(encoding="utf-8"))
    assert tuple(index["languages"]) == LANGUAGES
    assert load_cue_data(DATA, lx.CUE_KINDS) == lx.CUES


def test_every_language_file_holds_its_own_language_only() -> None:
    for lang in LANGUAGES:
        data = json.loads(DATA.joinpath(f"{lang}.json").read_text(encoding="utf-8"))
        assert data["language"] == lang
        cues = [c for table in ("words", "substrings") for cs in data.get(table, {}).values() for c in cs]
        assert cues, lang
        if lang == "ru":
            assert all(any("\u0400" <= ch <= "\u04ff" for ch in c) for c in cues)
        elif lang in ("zh", "ja"):
            assert all(not c.isascii() for c in cues)
        elif lang == "en":
            assert all(c.isascii() for c in cues)


def test_cue_data_is_immutable() -> None:
    with pytest.raises(TypeError):
        lx.CUES.words["chat"] = ("yo",)  # type: ignore[index]
    with pytest.raises(AttributeError):
        lx.CUES.follow_leads = frozenset()  # type: ignore[misc]
    assert isinstance(lx.CUES.words["chat"], tuple)
    assert isinstance(lx.CUES.follow_pairs, frozenset)


def test_cues_of_one_kind_merge_in_language_order() -> None:
    fact = lx.CUES.words[lx.FACT]
    assert fact.index("what") < fact.index("qué") < fact.index("quel") < fact.index("wer") < fact.index("что")
    assert fact.index("что") < fact.index("qual")
    assert "你好" in lx.CUES.substrings[lx.CHAT] and "こんにちは" in lx.CUES.substrings[lx.CHAT]


def test_cues_from_each_language_reach_the_classifier() -> None:
    assert classify_rules("Danke! Das war hilfreich.").tier.value == "trivial"
    assert classify_rules("Спасибо!").tier.value == "trivial"
    assert classify_rules("こんにちは").tier.value == "trivial"
    assert classify_rules("Démontrez que racine de 2 est irrationnel").task.value == "math"
    assert classify_rules("Was ist 1.2345 mal 7?").features["math_level"] == 2.0
    assert classify_rules("What is 1.2345 times 7?").features["math_level"] == 1.0


def test_every_rule_names_a_known_kind() -> None:
    kinds = set(lx.CUE_KINDS)
    assert {rule.kind for rule in scoring.RULES} <= kinds | {scoring.ALGORITHMIC}
    assert {modifier.kind for modifier in scoring.MODIFIERS} <= kinds


# ------------------------------------------------------------------------------------ malformed files
@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    for entry in DATA.iterdir():
        if entry.name.endswith(".json"):
            (root / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def _edit(root: Path, name: str, edit: Edit) -> None:
    path = root / name
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


MALFORMED: list[tuple[str, str, Edit, str]] = [
    ("en.json", "unknown key", lambda d: d.update(colour="red"), "'colour'"),
    ("de.json", "unknown cue kind", lambda d: d["words"].update(greeting=["hallo"]), "'words.greeting'"),
    ("fr.json", "cues not a list", lambda d: d["words"].update(chat="bonjour"), "'words.chat'"),
    ("en.json", "cue not tokenized", lambda d: d["words"]["chat"].append("Hello there"), "'words.chat[78]'"),
    ("en.json", "cue with punctuation", lambda d: d["words"]["fact"].append("what's"), "'words.fact[45]'"),
    ("es.json", "cue listed twice", lambda d: d["words"]["chat"].append("hola"), "'words.chat[10]'"),
    ("ru.json", "not a string", lambda d: d["words"]["chat"].append(7), "'words.chat[6]'"),
    ("zh.json", "substring with a space", lambda d: d["substrings"]["chat"].append("你 好"), "'substrings.chat[5]'"),
    ("en.json", "two words where one is expected", lambda d: d["echo_verbs"].append("say it"), "'echo_verbs[7]'"),
    ("en.json", "pair of three", lambda d: d["follow_pairs"].append(["a", "b", "c"]), "'follow_pairs[10]'"),
    ("en.json", "counting cue not a fact cue", lambda d: d["counting_questions"].append("how soon"), "counting"),
    ("en.json", "unknown operator", lambda d: d["word_operators"].update({"to the power of": {"op": "^"}}), ".op'"),
    ("pt.json", "operator flag not a bool", lambda d: d["word_operators"]["vezes"].update(dot_groups_thousands=1), ""),
    ("en.json", "verb operator spec", lambda d: d["verb_operators"].update(double="2"), "'verb_operators.double'"),
    ("ja.json", "wrong language", lambda d: d.update(language="jp"), "'language'"),
    ("common.json", "unknown key", lambda d: d.update(emoji=["x"]), "'emoji'"),
    ("common.json", "empty marker", lambda d: d["error_markers"].append(""), "'error_markers[6]'"),
    ("index.json", "language without a file", lambda d: d["languages"].append("it"), "it.json"),
]


@pytest.mark.parametrize(("name", "what", "edit", "key"), MALFORMED, ids=[f"{m[0]}: {m[1]}" for m in MALFORMED])
def test_a_malformed_file_fails_naming_the_file_and_the_key(
    data_copy: Path, name: str, what: str, edit: Edit, key: str
) -> None:
    _edit(data_copy, name, edit)
    expected = "it.json" if name == "index.json" else name
    with pytest.raises(CueDataError, match=rf"{expected}") as info:
        load_cue_data(data_copy, lx.CUE_KINDS)
    assert key in str(info.value)


def test_invalid_json_fails_naming_the_file(data_copy: Path) -> None:
    (data_copy / "fr.json").write_text('{"language": "fr",', encoding="utf-8")
    with pytest.raises(CueDataError, match=r"fr\.json: not valid JSON"):
        load_cue_data(data_copy, lx.CUE_KINDS)


def test_a_file_the_index_does_not_list_fails(data_copy: Path) -> None:
    shutil.copy(data_copy / "es.json", data_copy / "it.json")
    with pytest.raises(CueDataError, match=r"index\.json, key 'languages': it\.json is in the data folder"):
        load_cue_data(data_copy, lx.CUE_KINDS)


def test_one_operator_word_with_two_meanings_fails(data_copy: Path) -> None:
    _edit(data_copy, "es.json", lambda d: d.update(word_operators={"times": {"op": "/"}}))
    with pytest.raises(CueDataError, match=r"es\.json, key 'word_operators\.times': defined differently"):
        load_cue_data(data_copy, lx.CUE_KINDS)


def test_a_new_language_is_a_data_edit(data_copy: Path) -> None:
    (data_copy / "it.json").write_text(
        json.dumps({"language": "it", "words": {"chat": ["ciao", "grazie mille"]}, "follow_leads": ["poi"]}),
        encoding="utf-8",
    )
    _edit(data_copy, "index.json", lambda d: d["languages"].append("it"))
    cues = load_cue_data(data_copy, lx.CUE_KINDS)
    assert cues.words[lx.CHAT][-2:] == ("ciao", "grazie mille")
    assert "poi" in cues.follow_leads and "and" in cues.follow_leads
