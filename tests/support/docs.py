"""The command blocks of README.md and docs/**/*.md, as the docs tests run them.

A ```sh block holds what a reader types. Its ``aim-catalog`` commands are run by
``integration/cli/test_docs.py`` (and, those that act on a deployment, by
``integration/docker/test_docs.py``); commands of other tools (pip, git, kubectl, vllm,
python scripts/..., export) are not ours to run and are listed, not run. A line ending in
``\\`` continues on the next; a ``# comment`` ends the command; in ``A && B`` or ``A | B``
the ``aim-catalog`` part is the command. ```python blocks are returned whole.

The sandbox a page's commands run in (``sandbox``) holds the files the docs name
(``FILES``): recipes, result files of each writer, AIM profiles, an InferenceX checkout.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from support import bench_results
from support.inferencex import build_checkout
from support.paths import REPO, SHARED

PAGES = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])
BLOCK = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```", re.S | re.M)
SEED = REPO / "seed_recipes"
ON_DEPLOYMENT = (("ps",), ("logs",), ("stop",), ("test",), ("bench", "run"))
INFERENCEX_RESULTS = SHARED / "reference" / "inferencex-results"
AGG_RUN = "run_20609406656.agg_bmk.json"  # DeepSeek-R1-0528 on MI300X, MI325X, MI355X
INFERENCEX_CHECKOUT = "/tmp/InferenceX"  # the docs' name for a checkout: the sandbox's is used


@dataclass(frozen=True)
class Command:
    page: str  # relative to the repository
    line: int  # where the command starts
    words: tuple[str, ...]  # shell words after `aim-catalog`
    exports: tuple[tuple[str, str], ...] = ()  # `export NAME=VALUE` lines above it on the page

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: aim-catalog {shlex.join(self.words)}"

    def has(self, *flags: str) -> bool:
        return any(word in flags or word.split("=")[0] in flags for word in self.words)

    def starts(self, *prefixes: tuple[str, ...]) -> bool:
        """Whether its words begin with one of ``prefixes`` (``("bench", "run")``)."""
        return any(self.words[: len(prefix)] == prefix for prefix in prefixes)

    def on_deployment(self) -> bool:
        """A command on a running deployment: it needs a GPU host (``ON_DEPLOYMENT``)."""
        return self.starts(*ON_DEPLOYMENT) or (self.starts(("bench", "import")) and self.has("--deployment"))


@dataclass(frozen=True)
class Foreign:
    page: str
    line: int
    text: str


def blocks(page: Path, lang: str) -> list[tuple[int, str]]:
    text = page.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("body")) + 1, m.group("body"))
        for m in BLOCK.finditer(text)
        if m.group("lang") == lang
    ]


def _logical_lines(start: int, body: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending, first = "", start
    for number, raw in enumerate(body.splitlines(), start):
        if not pending:
            first = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append((first, pending + raw))
        pending = ""
    if pending:
        lines.append((first, pending))
    return lines


def shell_commands(page: Path) -> tuple[list[Command], list[Foreign]]:
    """The ``aim-catalog`` commands of a page's ```sh blocks, and the other tools' lines."""
    name = str(page.relative_to(REPO))
    ours: list[Command] = []
    theirs: list[Foreign] = []
    exports: dict[str, str] = {}
    for start, body in blocks(page, "sh"):
        for line, text in _logical_lines(start, body):
            words = shlex.split(text, comments=True)
            if not words:
                continue
            parts: list[list[str]] = [[]]
            for word in words:
                if word in ("&&", "|", ";", "||"):
                    parts.append([])
                else:
                    parts[-1].append(word)
            found = [p for p in parts if p and p[0] == "aim-catalog"]
            if not found:
                theirs.append(Foreign(name, line, text.strip()))
                if words[0] == "export" and "=" in words[1]:
                    key, value = words[1].split("=", 1)
                    exports[key] = value
            ours += [Command(name, line, tuple(p[1:]), tuple(exports.items())) for p in found]
    return ours, theirs


def python_blocks(page: Path) -> list[tuple[str, int, str]]:
    name = str(page.relative_to(REPO))
    return [(name, line, body) for line, body in blocks(page, "python")]


def sandbox(root: Path) -> Path:
    """A working directory holding every file the docs' commands name (``FILES``)."""
    root.mkdir(parents=True, exist_ok=True)
    recipes = root / "my-recipes"
    recipes.mkdir()
    for name in ("qwen3-32b-mi300x-bf16.yaml", "llama-3.3-70b-instruct-fp8-kv-mi355x-fp8.yaml"):
        if (SEED / name).is_file():
            shutil.copy(SEED / name, recipes / name)
    shutil.copy(SEED / "deepseek-r1-0528-mi300x-fp8.yaml", root / "my-recipe.yaml")
    # `vllm bench serve` 0.27.1 and SGLang bench_serving 0.5.17, as the fake server's clients
    # write them (support.bench_results names each writer); the model is a bundled recipe's.
    run = bench_results.vllm_bench_serve_0_27_1(model_id="Qwen/Qwen3-32B", tokenizer_id="Qwen/Qwen3-32B")
    run["tensor_parallel_size"] = "4"  # what `--metadata tensor_parallel_size=4` adds
    bench_results.write_json(root / "run.json", run)
    bench_results.write_jsonl(
        root / "sglang.jsonl",
        [bench_results.sglang_bench_serving_0_5_17(model_id="Qwen/Qwen3-32B", tokenizer_id="Qwen/Qwen3-32B")],
    )
    # A real InferenceX run's aggregated results (its source: inferencex-results/README.md).
    (root / "results_bmk").mkdir()
    shutil.copy(INFERENCEX_RESULTS / "agg" / AGG_RUN, root / "results_bmk" / "agg_bmk.json")
    api = sorted((INFERENCEX_RESULTS / "api").glob("benchmarks.*.json"))
    shutil.copy(api[0], root / "benchmarks.json")
    shutil.copytree(SHARED / "reference" / "aim-build" / "profiles", root / "aim-build" / "profiles")
    build_checkout(root / "InferenceX")
    return root


def in_sandbox(command: Command, root: Path) -> list[str]:
    """The command's words as run in ``root``: the docs' InferenceX checkout is the sandbox's;
    a file an option writes lands in the sandbox, its directory made."""
    words = [str(root / "InferenceX") if w == INFERENCEX_CHECKOUT else w for w in command.words]
    for flag in ("--plot", "--out", "-o"):
        if flag in words[:-1]:
            target = root / words[words.index(flag) + 1]
            target.parent.mkdir(parents=True, exist_ok=True)
    return words
