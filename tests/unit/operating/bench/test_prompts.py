"""The prompts of a point: the random dataset's seeded words and ShareGPT's human turns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aim_catalog.operating.bench import prompts
from aim_catalog.operating.bench.prompts import DatasetProblem


def test_a_random_prompt_is_input_len_words_of_the_vocabulary_the_same_every_run() -> None:
    prompt = prompts.random_prompt(3, 50)
    words = prompt.split(" ")
    assert len(words) == 50 and set(words) <= set(prompts.VOCABULARY)
    assert prompt == prompts.random_prompt(3, 50)  # seeded by the index: a rerun sends the same
    assert prompt != prompts.random_prompt(4, 50)  # no two requests share a prefix to cache
    assert prompts.random_prompt(3, 50, seed=1) != prompt
    # One word each: a prompt of N words is about N tokens after a space.
    assert all(w.isalpha() and w.islower() for w in prompts.VOCABULARY)
    assert len(set(prompts.VOCABULARY)) == len(prompts.VOCABULARY) >= 64


def test_the_source_gives_request_index_its_prompt() -> None:
    source = prompts.prompt_source("random", 8, None)
    assert source(0) == prompts.random_prompt(0, 8) and len(source(9).split()) == 8


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "sharegpt.json"
    path.write_text(json.dumps(data))
    return path


def convo(first: str, value: object, turns: int = 2) -> dict[str, object]:
    replies = [{"from": "gpt", "value": "an answer"}] * (turns - 1)
    return {"id": "x", "conversations": [{"from": first, "value": value}, *replies]}


def test_sharegpt_prompts_are_the_first_human_turns_shuffled_with_the_seed(tmp_path: Path) -> None:
    data = [
        convo("human", "first question"),
        convo("gpt", "a conversation the model starts"),  # not a human's: skipped
        convo("human", "only one turn", turns=1),  # vLLM skips fewer than two turns
        convo("human", "   "),  # nothing asked
        convo("human", ["not", "text"]),
        "not an object",
        {"conversations": "not a list"},
        convo("user", "second question"),  # some exports say "user"
        convo("human", "third question", turns=4),
    ]
    path = write(tmp_path, data)
    found = prompts.sharegpt_prompts(path)
    assert sorted(found) == ["first question", "second question", "third question"]
    assert found == prompts.sharegpt_prompts(path)  # the same order every run
    source = prompts.prompt_source("sharegpt", 999, str(path))
    # Reused in turn when more requests than prompts are asked; input_len plays no part.
    assert [source(i) for i in range(5)] == [*found, *found[:2]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the ShareGPT file"),
        ("{not json", "is not JSON"),
        ('{"conversations": []}', "must hold a JSON list of conversations"),
        ('[{"conversations": [{"from": "gpt", "value": "x"}, {"from": "human", "value": "y"}]}]',
         "has no conversation of two turns or more that a human starts"),
        ("[" * 100_000 + "]" * 100_000, "is not JSON"),  # nested past the recursion limit
    ],
)  # fmt: skip
def test_a_bad_sharegpt_file_is_one_line_exit_4(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "data.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DatasetProblem) as caught:
        prompts.prompt_source("sharegpt", 8, str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 4


def test_sharegpt_needs_a_file_and_a_huge_one_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DatasetProblem, match="needs a file"):
        prompts.prompt_source("sharegpt", 8, None)
    path = write(tmp_path, [convo("human", "q" * 100)])
    monkeypatch.setattr(prompts, "MAX_DATASET_BYTES", 64)
    with pytest.raises(DatasetProblem, match="is larger than"):
        prompts.sharegpt_prompts(path)
