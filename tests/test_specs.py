"""Spec loading is bounded: hostile YAML is refused in one line instead of hanging or crashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deployments.cli import main
from tasks.errors import SpecError
from tasks.specs import MAX_SPEC_DEPTH, load_documents

# Nine levels of nine aliases: 357 bytes that expand to 9**9 values ("billion laughs").
LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


def _refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_documents(path)
    (issue,) = info.value.issues
    assert issue.file == str(path)
    return issue.reason


def test_an_alias_bomb_is_refused_by_its_expanded_size(tmp_path: Path) -> None:
    assert len(LAUGHS) < 400
    reason = _refusal(tmp_path, LAUGHS)
    assert reason == "refused: the document expands to more than 100,000 values (aliases)"


def test_deep_nesting_is_refused_before_the_recursion_limit(tmp_path: Path) -> None:
    reason = _refusal(tmp_path, "x: " + "[" * 2000 + "]" * 2000)
    assert reason == f"refused: nested deeper than {MAX_SPEC_DEPTH} levels"


def test_a_number_hundreds_of_digits_long_is_refused_with_its_line(tmp_path: Path) -> None:
    reason = _refusal(tmp_path, "checks:\n  - frequency: 1" + "0" * 400 + "\n")
    assert reason == "refused: line 2: a number of 401 characters (at most 64)"


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    reason = _refusal(tmp_path, "# " + "x" * 1_100_000 + "\n")
    assert reason.startswith("refused: 1,100,003 characters")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("checks: !!int _\n", "not a valid int (string index out of range)"),
        ("created: 2024-02-30\n", "not a valid timestamp (day is out of range for month)"),
        ("x: !!float .\n", "not a valid float (could not convert string to float: '.')"),
    ],
)
def test_a_value_that_does_not_fit_its_tag_is_refused_with_its_line(
    tmp_path: Path, text: str, reason: str
) -> None:
    assert (
        _refusal(tmp_path, text) == f"invalid YAML: line 1, column {text.index(':') + 3}: {reason}"
    )


def test_ordinary_aliases_and_nesting_still_load(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("base: &base {a: 1, b: [1, 2]}\nother: {<<: *base, c: 3}\n", encoding="utf-8")
    assert load_documents(path) == [
        {"base": {"a": 1, "b": [1, 2]}, "other": {"a": 1, "b": [1, 2], "c": 3}}
    ]


@pytest.mark.parametrize("command", [["slo", "validate"], ["checks", "validate"]])
def test_validate_commands_refuse_the_bomb_in_one_line(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    result = CliRunner().invoke(main, [*command, str(path)])
    assert result.exit_code == 1, result.output  # a spec problem, as for any invalid file
    assert "expands to more than 100,000 values" in result.output
    assert "Traceback" not in result.output
