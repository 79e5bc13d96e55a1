"""Outside values (config, database URL, prompts) printed by the commands: literal, never markup,
control characters spelled out. The report's own cases are in tests/record/test_record_report.py."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from thinkbudget_litellm.cli import check_cmd, db_cmd
from thinkbudget_litellm.cli.terminal import json_line, line, styled, visible

_BIDI = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} or char in _BIDI


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("qwen3-32b", "qwen3-32b"),
        ("[/bold]", "[/bold]"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\x00b\x7fc\x9bd", "a\\x00b\\x7fc\\x9bd"),
        ("line\nnext\rover\ttab", "line\\nnext\\rover\\ttab"),
        ("rtl\u202eevil\u2066x\u2028y", "rtl\\u202eevil\\u2066x\\u2028y"),
        ("sur\udc80gate", "sur\\udc80gate"),
        ("ümlaut 模型 🙂", "ümlaut 模型 🙂"),
    ],
)
def test_visible_spells_out_what_a_terminal_would_obey(value: str, shown: str) -> None:
    assert visible(value) == shown


@given(st.text())
def test_visible_always_encodes_and_holds_nothing_a_terminal_obeys(value: str) -> None:
    shown = visible(value)
    shown.encode("utf-8")
    assert not any(_unsafe(char) for char in shown)
    if not any(_unsafe(char) for char in value):
        assert shown == value


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_json)
def test_json_line_is_the_same_json_and_safe_to_print(value: object) -> None:
    encoded = json_line(value)
    encoded.encode("utf-8")
    assert not any(_unsafe(char) for char in encoded)
    assert json.loads(encoded) == value


def test_rich_text_is_never_markup() -> None:
    text = line(styled("error:", "red"), " ", "[/bold] [link=http://x]evil[/link] :smile:")
    assert text.plain == "error: [/bold] [link=http://x]evil[/link] :smile:"
    assert [span.style for span in text.spans] == ["red"]


WIDE = {"COLUMNS": "200"}  # rich wraps at the terminal's width


def _app(register: object) -> typer.Typer:
    app = typer.Typer()
    register(app)  # type: ignore[operator]

    @app.callback()
    def _root() -> None:
        """test app"""

    return app


_HOSTILE_CONFIG = r"""
model_list:
  - model_name: "[/bold]"
    litellm_params: {model: openai/x}
  - model_name: "[link=http://x]evil[/link]"
    litellm_params: {model: openai/x}
    model_info: {thinkbudget: {enforcement: stream}}
  - model_name: "\e[31mred\r\0"
    litellm_params: {model: openai/x}
    model_info: {thinkbudget: {enforcement: "\e]8;;http://x\e\\[/red]"}}
  - "[/i] not a mapping"
"""


def test_check_config_prints_names_and_errors_literally(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(_HOSTILE_CONFIG, encoding="utf-8")
    result = CliRunner().invoke(_app(check_cmd.register), ["check-config", str(config)], env=WIDE)
    assert result.exit_code == 2, (result.output, result.exception)
    out = result.output
    assert "deployment [/bold]: no thinkbudget block" in out
    assert "deployment [link=http://x]evil[/link]: enforcement=stream" in out
    assert "error: deployment \\x1b[31mred\\r\\x00 model_info.thinkbudget.enforcement" in out
    assert "deployment #3: no thinkbudget block" in out
    assert "\x1b" not in out and "\r" not in out and "\x00" not in out


def test_db_url_prints_its_notes_literally() -> None:
    """A URL's query keys come back in notes, percent-decoded: markup and ESC are the operator's own
    input here, but a URL copied from elsewhere must not restyle the terminal either."""
    url = "postgresql://u@h/db?%5B%2Fbold%5D%1B%5B2J=1"
    result = CliRunner().invoke(_app(db_cmd.register), ["db", "url", "--url", url], env=WIDE)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "note: dropped parameter [/bold]\\x1b[2J" in result.output and "\x1b" not in result.output


def test_report_charts_without_matplotlib_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_cmd, "missing_modules", lambda extra: ("matplotlib",))
    args = ["report", "--url", f"sqlite:///{tmp_path / 'x.sqlite'}", "--png", str(tmp_path / "r.png")]
    result = CliRunner().invoke(_app(db_cmd.register), args, env=WIDE)
    assert result.exit_code == 2
    assert "pip install 'thinkbudget-litellm[charts]'" in result.output
