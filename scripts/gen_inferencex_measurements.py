#!/usr/bin/env python3
"""Regenerate the bundled InferenceX measurements (seed_recipes/measurements/inferencex.json).

Reads the real InferenceX results in ``../shared/reference/inferencex-results/`` (never
copied into the project; its README says where each file comes from):

* ``agg/run_<RUN_ID>.agg_bmk.json``: the ``agg_bmk.json`` artifacts of InferenceMAX /
  InferenceX workflow runs, copied from gminneci/mantile@72ff84eb;
* ``api/*.json``: rows of the InferenceX app's ``/api/v1/benchmarks`` endpoint.

Both are parsed with the catalog's own importers (``aim_catalog.measurements.importers.
parse_results``), so a bundled row holds exactly what ``aim-catalog bench import`` of the
same file would store. Every AMD single-node row is given to the bundled recipe that lists
its InferenceX entry (``{prefix}-{precision}-{hw}-{framework}[-mtp]``) in ``source.entries``
(seed_recipes/*.yaml, written by scripts/gen_inferencex_recipes.py), at the serve config of
its backend and GPU count. A row that fits no config, contradicts its recipe (model, EP,
DP-attention) or repeats one is left out with one line saying why; so are empty files. A
figure the importers refuse (malformed, or outside ``recipes.bounds``) stops the generator:
the reference data would have to be looked at, not silently thinned.

Each row keeps its source: the workflow run URL (``https://github.com/InferenceMAX/
InferenceMAX/actions/runs/<RUN_ID>`` for an artifact, the row's ``run_url`` for an API
row), the image it was measured with and its date: the API's ``date``, or for an artifact
(which holds no date) the run's creation day bracketed by GitHub run-id order between dated
runs (``ANCHORS`` below and the API rows' own run ids and dates): an exact day when the
bracket is one day, else an ISO 8601 interval ``2025-12-21/2025-12-31``, said in the
source. The import key identifies the measurement (run id, entry, parallelism, scenario,
concurrency, image), not the file it came in, so the same run read from an artifact and
from the API is one row. Repeated runs of one config stay separate rows.

Usage (from the checkout; writes the file and prints a summary):

    python scripts/gen_inferencex_measurements.py \
        --results ../shared/reference/inferencex-results --out seed_recipes/measurements/inferencex.json
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __name__ == "__main__":  # run as a script: the checkout's aim_catalog (tests import the installed one)
    sys.path.insert(0, str(REPO))

from aim_catalog.measurements.importers import parse_results  # noqa: E402
from aim_catalog.recipes import bounds  # noqa: E402
from aim_catalog.recipes.files import load_recipes  # noqa: E402
from aim_catalog.settings import normalize_precision  # noqa: E402

AGG_URL = "https://github.com/InferenceMAX/InferenceMAX/actions/runs/{}"
MANTILE = "gminneci/mantile@72ff84eb"
# Dated GitHub run ids that are not in the API file (its rows date their own runs). Run ids
# rise with creation time across all of GitHub, so two dated runs bracket an undated one.
ANCHORS: dict[int, tuple[str, str]] = {
    18950071657: ("2025-10-30", f"{MANTILE} reconcile/sources/inferencemax/TODO.md"),
    18984029536: ("2025-10-31", f"{MANTILE} reconcile/sources/inferencemax/TODO.md"),
    20074006738: ("2025-12-09", f"{MANTILE} reconcile/sources/inferencemax/TODO.md"),
    20308883467: ("2025-12-17", f"{MANTILE} reconcile/by_model/openai_GPT-OSS-120B/inferencemax.csv"),
    20667906037: ("2026-01-02", f"{MANTILE} reconcile/by_model/openai_GPT-OSS-120B/inferencemax.csv"),
    20764588467: ("2026-01-06", f"{MANTILE} reconcile/by_model/openai_GPT-OSS-120B/inferencemax.csv"),
    20786863188: ("2026-01-07", f"{MANTILE} reconcile/by_model/openai_GPT-OSS-120B/inferencemax.csv"),
    21012127808: ("2026-01-14", f"{MANTILE} reconcile/by_model/openai_GPT-OSS-120B/inferencemax.csv"),
}
_RUN_ID = re.compile(r"/actions/runs/([0-9]+)")
_AGG_NAME = re.compile(r"^run_([0-9]+)\.agg_bmk\.json$")


class Anchors:
    """Dated run ids, sorted: the bracket of an undated run."""

    def __init__(self, dated: dict[int, tuple[str, str]]) -> None:
        self.ids = sorted(dated)
        self.dated = dated

    def date_of(self, run: int) -> tuple[str, str]:
        """``(measured_at, how it was derived)`` of run ``run``."""
        if run in self.dated:
            day, where = self.dated[run]
            return day, f"run date {day} ({where})"
        at = bisect.bisect_left(self.ids, run)
        if at == 0 or at == len(self.ids):
            raise SystemExit(f"run {run} is outside the dated runs: add an anchor")
        lo, hi = self.ids[at - 1], self.ids[at]
        (lo_day, lo_where), (hi_day, hi_where) = self.dated[lo], self.dated[hi]
        when = lo_day if lo_day == hi_day else f"{lo_day}/{hi_day}"
        how = (
            f"run date not in the artifact: derived from run-id order between runs {lo} "
            f"({lo_day}, {lo_where}) and {hi} ({hi_day}, {hi_where})"
        )
        return when, how


def entries(recipes: list[Any]) -> dict[str, Any]:
    """InferenceX entry name -> the bundled recipe that lists it."""
    out: dict[str, Any] = {}
    for recipe in recipes:
        source = recipe.document.get("source") or {}
        for entry in source.get("entries") or []:
            out[str(entry)] = recipe
    return out


def measurement_key(run_id: int, raw: dict[str, Any], entry: str, gpus: int, row: dict[str, Any]) -> str:
    """``ix-`` + sha1 of what identifies the measurement: the run, the InferenceX entry and
    its parallelism, the scenario and the image (not the file or the dialect it came in)."""
    facts = [
        run_id,
        entry,
        gpus,
        _parallel(raw, "ep"),
        _parallel(raw, "dp_attention"),
        row.get("nominal_input_len"),
        row.get("nominal_output_len"),
        row.get("concurrency"),
        row.get("image"),
    ]
    return "ix-" + hashlib.sha1(json.dumps(facts).encode()).hexdigest()


def _parallel(raw: dict[str, Any], name: str) -> Any:
    """EP or DP-attention of a single-node row in either dialect (agg: ``ep``,
    ``dp_attention`` as "true"/"false"; API: ``decode_ep``, ``decode_dp_attention`` bool)."""
    value = raw.get(name, raw.get(f"decode_{name}"))
    if name == "dp_attention":
        return str(value).lower() == "true"
    return 1 if value is None else value


class Generator:
    def __init__(self, recipes: list[Any], anchors: Anchors) -> None:
        self.by_entry = entries(recipes)
        self.anchors = anchors
        self.rows: dict[str, dict[str, Any]] = {}
        self.lines: list[str] = []
        self.per_config: Counter[str] = Counter()

    def say(self, line: str) -> None:
        self.lines.append(line)

    def read(self, path: Path, dialect: str) -> None:
        data = path.read_bytes()
        raw_rows = json.loads(data)
        if not raw_rows:
            self.say(f"{path.name}: skipped: no rows (an empty array)")
            return
        parsed = parse_results(data, path.name)
        if parsed.problems:
            raise SystemExit("\n".join(map(str, parsed.problems)))
        for skipped in parsed.skipped:
            self.say(str(skipped))
        for run in parsed.runs:
            assert run.element is not None
            self.take(path, dialect, run, raw_rows[run.element])

    def take(self, path: Path, dialect: str, run: Any, raw: dict[str, Any]) -> None:
        def refuse(message: str) -> None:
            self.say(f"{run.where}: left out: {message}")

        if dialect == "agg":
            found = _AGG_NAME.match(path.name)
            if found is None:
                raise SystemExit(f"{path}: not named run_<RUN_ID>.agg_bmk.json")
            run_id = int(found.group(1))
            prefix, precision = raw.get("infmax_model_prefix"), raw.get("precision")
        else:
            found = _RUN_ID.search(run.row["source"])
            assert found is not None  # the API reader checked the URL
            run_id = int(found.group(1))
            prefix, precision = raw.get("model"), raw.get("precision")
        spec = run.spec_decoding or "none"
        hw = str(run.hardware).lower()
        entry = f"{prefix}-{precision}-{hw}-{run.backend}" + ("" if spec == "none" else f"-{spec}")
        recipe = self.by_entry.get(entry)
        if recipe is None:
            refuse(f"no bundled recipe lists the InferenceX entry {entry}")
            return
        gpus = run.tensor_parallel
        config = next(
            (c for c in recipe.serve_configs if c.backend == run.backend and c.gpu_count == gpus), None
        )
        if config is None:
            refuse(
                f"{recipe.recipe_id} has no {run.backend} {gpus}-GPU serve config (entry {entry}, TP {gpus})"
            )
            return
        contradictions = []
        if (
            run.model
            and run.model not in (recipe.huggingface_id, recipe.model_id)
            and not run.model.startswith("/")
        ):
            contradictions.append(f"model {run.model}, the recipe is {recipe.huggingface_id}")
        if run.hardware != recipe.hardware:
            contradictions.append(f"hardware {run.hardware}, the recipe is for {recipe.hardware}")
        if run.precision != normalize_precision(recipe.precision):
            contradictions.append(f"precision {run.precision}, the recipe is {recipe.precision}")
        if _parallel(raw, "ep") != 1 or _parallel(raw, "dp_attention"):
            contradictions.append(
                f"EP {_parallel(raw, 'ep')}, DP-attention {_parallel(raw, 'dp_attention')}; "
                "the bundled configs run EP 1 without DP-attention"
            )
        if contradictions:
            refuse("the row contradicts " + recipe.recipe_id + ": " + "; ".join(contradictions))
            return
        row = dict(run.row)
        if dialect == "agg":
            measured_at, how = self.anchors.date_of(run_id)
            row["measured_at"] = measured_at
            row["source"] = (
                AGG_URL.format(run_id) + f" (InferenceX agg_bmk.json artifact of run {run_id}, via "
                f"{MANTILE}; {how}; ISL/OSL nominal)"
            )
        impossible = bounds.problems(row, gpus)
        if impossible:
            refuse("; ".join(f"{column}: {why}" for column, why in impossible))
            return
        key = measurement_key(run_id, raw, entry, gpus, row)
        if key in self.rows:
            conc = row.get("concurrency")
            refuse(f"the same measurement as an earlier row (run {run_id}, {entry}, conc {conc})")
            return
        target = {"recipe_id": recipe.recipe_id, "backend": run.backend, "gpu_count": gpus}
        self.rows[key] = {**target, **row, "origin": "import", "import_key": key}
        self.per_config[f"{recipe.recipe_id}/{run.backend}/{gpus} GPU ({dialect})"] += 1


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["recipe_id"],
        row["backend"],
        row["gpu_count"],
        row.get("nominal_input_len") or 0,
        row.get("nominal_output_len") or 0,
        row.get("image") or "",
        row.get("measured_at") or "",
        row.get("concurrency") or 0,
        row["import_key"],
    )


def render(rows: list[dict[str, Any]]) -> str:
    """A JSON array, one row per line (a regenerated file diffs row by row)."""
    lines = [json.dumps(row, sort_keys=True, ensure_ascii=False) for row in sorted(rows, key=_order)]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def api_anchors(api_files: list[Path]) -> dict[int, tuple[str, str]]:
    """Run id -> (date, where) of every API row (the app's ``date``: the run's creation day)."""
    dated: dict[int, tuple[str, str]] = {}
    for path in api_files:
        for row in json.loads(path.read_bytes()):
            found = _RUN_ID.search(str(row.get("run_url")))
            if found and isinstance(row.get("date"), str):
                dated.setdefault(int(found.group(1)), (row["date"], "InferenceX app API"))
    return dated


def generate(results: Path, recipes_dir: Path) -> tuple[str, Generator]:
    recipes, problems, _ = load_recipes([recipes_dir])
    if problems:
        raise SystemExit("\n".join(map(str, problems)))
    agg_files = sorted((results / "agg").glob("*.json"))
    api_files = sorted((results / "api").glob("*.json"))
    anchors = Anchors({**api_anchors(api_files), **ANCHORS})
    gen = Generator(recipes, anchors)
    for path in agg_files:
        gen.read(path, "agg")
    for path in api_files:
        gen.read(path, "api")
    return render(list(gen.rows.values())), gen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REPO.parent / "shared/reference/inferencex-results")
    parser.add_argument("--recipes", type=Path, default=REPO / "seed_recipes")
    parser.add_argument("--out", type=Path, default=REPO / "seed_recipes/measurements/inferencex.json")
    args = parser.parse_args(argv)
    text, gen = generate(args.results, args.recipes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    for line in gen.lines:
        print(line)
    for label, count in sorted(gen.per_config.items()):
        print(f"{count:4d} {label}")
    print(f"{len(gen.rows)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
