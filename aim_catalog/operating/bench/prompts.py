"""The prompts of a benchmark point: the ``random`` dataset's made-up text and the
``sharegpt`` dataset's human turns. Pure, seeded, no network; imports ``aim_catalog.errors``
and ``httpcall.size`` (how a byte cap is said).

``random``: request ``index`` gets ``input_len`` words drawn (seeded by ``SEED`` and the
index, so every run sends the same prompts and no two requests share a prefix the server
could cache) from ``VOCABULARY``, short common English words that the usual BPE and
SentencePiece tokenizers each read as one token after a space: a prompt is *about*
``input_len`` tokens, plus the chat template's. The length a row stores is never this
guess but the server's own count (``usage.prompt_tokens``).

``sharegpt``: the format vLLM's benchmark reads (``vllm/benchmarks/datasets/sharegpt.py``,
``ShareGPTDataset``, vllm-project/vllm at commit 237145ea): a JSON list of
``{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", ...}, ...]}``. As
there, conversations of fewer than two turns are skipped, the first turn is the prompt
(here only when it is a human's: ``"from"`` is ``human`` or ``user``), the list is
shuffled with the seed (``SEED`` = 0, vLLM's default) and the answer length is the one
asked, not the recorded answer's. Unlike vLLM (which draws extra prompts at random when
the file has too few) the prompts are reused in turn, and none is dropped for its token
count (there is no tokenizer here). A file over ``MAX_DATASET_BYTES`` is refused before
it is read.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aim_catalog.errors import CatalogError
from aim_catalog.httpcall import size

SEED = 0
MAX_DATASET_BYTES = 2**30  # ShareGPT_V3_unfiltered_cleaned_split.json is about 640 MiB
HUMAN = ("human", "user")

_WORDS = (
    "time year people way day man thing woman life child world school state family student "
    "group country problem hand part place case week company system program question work "
    "government number night point home water room mother area money story fact month lot "
    "right study book eye job word business issue side kind head house service friend father "
    "power hour game line end member law car city name team minute idea kid body back parent "
    "face level office door health person art war history party result change morning reason "
    "research girl guy moment air teacher force education"
)
VOCABULARY = tuple(_WORDS.split())


class DatasetProblem(CatalogError):
    """The dataset file cannot be read or holds no usable prompt (exit code 4, as for any
    invalid input)."""

    exit_code = 4


def random_prompt(index: int, input_len: int, seed: int = SEED) -> str:
    """Request ``index``'s prompt: ``input_len`` words of ``VOCABULARY``, the same every run."""
    rng = random.Random(f"aim-catalog-bench:{seed}:{index}")
    return " ".join(rng.choices(VOCABULARY, k=input_len))


def _prompt_of(entry: Any) -> str | None:
    """The first turn of a conversation of two turns or more, when a human said it."""
    if not isinstance(entry, dict):
        return None
    turns = entry.get("conversations")
    if not isinstance(turns, list) or len(turns) < 2 or not isinstance(turns[0], dict):
        return None
    first = turns[0]
    value = first.get("value")
    if first.get("from") not in HUMAN or not isinstance(value, str) or not value.strip():
        return None
    return value


def sharegpt_prompts(path: str | Path, seed: int = SEED) -> list[str]:
    """The human prompts of a ShareGPT file, shuffled with ``seed``."""
    where = Path(path)
    try:
        with where.open("rb") as handle:
            raw = handle.read(MAX_DATASET_BYTES + 1)
    except OSError as exc:
        raise DatasetProblem(f"cannot read the ShareGPT file {where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_DATASET_BYTES:
        raise DatasetProblem(f"the ShareGPT file {where} is larger than {size(MAX_DATASET_BYTES)}")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise DatasetProblem(f"the ShareGPT file {where} is not JSON: {detail}") from None
    del raw
    if not isinstance(data, list):
        raise DatasetProblem(f"the ShareGPT file {where} must hold a JSON list of conversations")
    found = [prompt for entry in data if (prompt := _prompt_of(entry)) is not None]
    if not found:
        raise DatasetProblem(
            f"the ShareGPT file {where} has no conversation of two turns or more that a human "
            'starts ({"conversations": [{"from": "human", "value": ...}, ...]})'
        )
    random.Random(seed).shuffle(found)
    return found


def prompt_source(dataset: str, input_len: int, dataset_file: str | None) -> Callable[[int], str]:
    """Request index -> its prompt, for the point's dataset (the file is read once, here)."""
    if dataset == "sharegpt":
        if not dataset_file:
            raise DatasetProblem("the sharegpt dataset needs a file (dataset_file)")
        found = sharegpt_prompts(dataset_file)
        return lambda index: found[index % len(found)]
    return lambda index: random_prompt(index, input_len)
