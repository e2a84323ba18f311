"""InferenceX entries as recipe documents.

Every single-node AMD entry (runner ``mi300x``/``mi325x``/``mi355x``) of a master config
that runs vLLM, SGLang or ATOM becomes serve configs of a recipe:

* one recipe per model x hardware x precision (x ``-mtp`` for speculative-decoding entries,
  which need their own serve config at the same GPU count);
* one serve config per backend x tensor-parallel size of the entry's search space: the
  row reaching the highest concurrency of its headline scenario (8192/1024, else the
  first), whose flags the launch script resolves (``capture``);
* the entry's image, the flags and environment the script starts the server with, the
  ``pip install`` steps it runs first (``setup``), and notes saying where each came from;
* a recipe all of whose entries are archived (``configs/deprecated/``) is retired, with
  what ``MODELS.md`` says of when and why.

A recipe whose entry cannot be read (a renamed key, a missing or failing script) is
reported with the reason and not produced, so a sync leaves the catalog's copy as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aim_catalog.sync.inferencex import capture, models_md
from aim_catalog.sync.inferencex.checkout import REPOSITORY, Checkout

BACKENDS = ("vllm", "sglang", "atom")
HARDWARE = {"mi300x": "MI300X", "mi325x": "MI325X", "mi355x": "MI355X"}
# InferenceX precision names -> the catalog's (InferenceX "fp4" on AMD is MXFP4).
PRECISION = {"fp4": "mxfp4", "fp8": "fp8", "bf16": "bf16", "int4": "int4"}
HEADLINE = (8192, 1024)
# Flags the launcher owns (host/port/model).
OWNED = frozenset(("--host", "--port", "--server-port", "--model", "--model-path"))
# The scripts export HSA_NO_SCRATCH_RECLAIM=1 only when `rocm-smi --showfw` reports a MEC
# firmware older than 177; the rocm-smi stub reports 177 (a current host), so the variable is
# left out and the recipe says when to add it.
MEC_NOTE = (
    "HSA_NO_SCRATCH_RECLAIM=1 not in env: {script} exports it only on hosts whose MEC firmware "
    "(rocm-smi --showfw) is older than 177; on such a host add it with --env HSA_NO_SCRATCH_RECLAIM=1"
)
SCRIPT_DIRS = ("benchmarks/single_node/fixed_seq_len/", "benchmarks/single_node/fixed_seq_len/deprecated/")

Reader = Callable[[str], "str | None"]


@dataclass
class Config:
    backend: str
    gpus: int
    image: str
    args: dict[str, Any]
    env: dict[str, str]
    setup: list[str]
    notes: list[str]
    entry: str
    config_path: str
    script_path: str
    deprecated: bool
    retirement: models_md.Retirement | None = None
    benchmarks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Draft:
    """A recipe being built from entries (``failed``: why one of its entries could not be read)."""

    recipe_id: str
    model: str
    hardware: str
    precision: str
    configs: dict[tuple[str, int], Config] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


@dataclass
class Conversion:
    drafts: dict[str, Draft] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # entries that are not single-node AMD ones
    # entry name -> why an AMD entry of ours could not be understood (a renamed key, an
    # unknown precision): the catalog's recipes made from it are left as they are, not retired
    unread: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # every entry name of the configs read
    unreadable: dict[str, str] = field(default_factory=dict)  # config file -> why it was not read


def convert_checkout(checkout: Checkout) -> Conversion:
    """Every AMD entry of the checkout's master configs, active files first and, within
    each group, the entries of the headline scenario before the others: an entry name (the
    1k1k archive repeats the 8k1k names) and a recipe's config go to the first that has them."""
    out = Conversion()
    text = checkout.models_md()
    queue: list[tuple[bool, bool, int, str, Any, str]] = []
    for order, config in enumerate(checkout.config_files()):
        if isinstance(config.entries, str):
            out.skipped.append(f"{config.path}: {config.entries}")
            out.unreadable[config.path] = config.entries
            continue
        out.names.update(config.entries)
        for name, entry in config.entries.items():
            queue.append((config.deprecated, not _is_headline(entry), order, name, entry, config.path))
    seen: set[str] = set()
    for deprecated, _, _, name, entry, path in sorted(queue, key=lambda q: q[:3]):
        if name not in seen:
            seen.add(name)
            try:
                convert_entry(name, entry, path, checkout.read, out, deprecated=deprecated, models=text)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                # a value of the wrong shape deep in the entry: that entry only, reported
                why = f"{type(exc).__name__}: {str(exc)[:200]}"
                _malformed(name, entry, f"{name} ({path}): {why}; entry not understood", out)
    return out


def _malformed(name: str, entry: Any, reason: str, out: Conversion) -> None:
    """An entry whose values have the wrong shape: the recipes it was for fail (their
    configs from it are taken back), so the catalog's copies are left as they are."""
    out.unread[name] = reason
    hit = False
    for draft in out.drafts.values():
        taken = [key for key, config in draft.configs.items() if config.entry == name]
        mine = isinstance(entry, dict) and entry.get("model") == draft.model
        if taken or (mine and str(entry.get("runner", "")).upper().startswith(draft.hardware)):
            for key in taken:
                del draft.configs[key]
            draft.failed.append(reason)
            hit = True
    if not hit:
        out.skipped.append(reason)


def _is_headline(entry: Any) -> bool:
    try:
        found = headline(entry) if isinstance(entry, dict) else None
    except (TypeError, ValueError, AttributeError, KeyError):
        return False  # convert_entry reports it
    return found is not None and found[:2] == HEADLINE


def convert_entry(
    name: str,
    entry: Any,
    config_path: str,
    read: Reader,
    out: Conversion,
    *,
    deprecated: bool,
    models: str | None,
    script_override: str | None = None,
    prefix: str | None = None,
) -> None:
    """Add entry ``name`` to ``out``: its serve configs, or why it cannot be read."""
    if not isinstance(entry, dict):
        out.skipped.append(f"{name} ({config_path}): not a mapping")
        return
    framework = entry.get("framework")
    hw_match = re.search(r"mi3(?:00|25|55)x", str(entry.get("runner", "")))
    if entry.get("multinode") or framework not in BACKENDS:
        kind = "multi-node" if entry.get("multinode") else framework
        out.skipped.append(f"{name}: {kind} (not single-node vLLM/SGLang/ATOM)")
        return
    if hw_match is None or hw_match.group(0) not in HARDWARE:
        out.skipped.append(f"{name}: runner {entry.get('runner')} is not an AMD GPU")
        return
    missing = [
        k for k in ("image", "model", "model-prefix", "precision") if not isinstance(entry.get(k), str)
    ]
    found = headline(entry)
    if found is None:
        out.skipped.append(f"{name}: no fixed-seq-len scenario (agentic trace replay only)")
        return
    isl, osl, rows = found
    hw = hw_match.group(0)
    mtp = any(isinstance(r, dict) and r.get("spec-decoding") == "mtp" for r in rows)
    if missing or entry["precision"] not in PRECISION:
        what = f"no {', '.join(missing)}" if missing else f"unknown precision {entry['precision']!r}"
        _not_understood(name, entry, hw, mtp, f"{name} ({config_path}): {what}; entry not understood", out)
        return
    model = entry["model"]
    recipe_id = _recipe_id(model, hw, PRECISION[entry["precision"]], mtp)
    draft = out.drafts.setdefault(
        recipe_id, Draft(recipe_id, model, HARDWARE[hw], PRECISION[entry["precision"]])
    )
    candidates = (
        [script_override]
        if script_override
        else script_candidates(entry["model-prefix"], entry["precision"], hw, framework, mtp)
    )
    script_path, text = None, None
    for candidate in candidates:
        text = read(candidate)
        if text is not None:
            script_path = candidate
            break
    if script_path is None or text is None:
        draft.failed.append(f"{name}: launch script not found ({candidates[0]})")
        return
    try:
        best, row_notes = pick_rows(rows)
    except (KeyError, TypeError, ValueError) as exc:
        draft.failed.append(f"{name} ({config_path}): search-space row not understood ({exc!r})")
        return
    scenario = _scenario_name(isl, osl)
    retirement = (
        models_md.retirement(models, prefix or entry["model-prefix"], scenario, entry["precision"])
        if deprecated
        else None
    )
    for tp, row in sorted(best.items()):
        key = (framework, tp)
        if key in draft.configs:
            out.skipped.append(
                f"{name} TP{tp}: {framework} {tp}-GPU config already taken by {draft.configs[key].entry}"
            )
            continue
        conc = _conc_end(row)
        env = _workflow_env(entry, model, tp, conc, isl, osl, row, framework, mtp)
        captured = capture.run_script(text, script_path, env)
        if isinstance(captured, str):
            draft.failed.append(f"{name} TP{tp}: {script_path} did not start a server when run ({captured})")
            continue
        try:
            backend, args, arg_notes = split_argv(captured.argv)
        except ValueError as exc:
            draft.failed.append(f"{name} TP{tp}: {script_path}: {exc}")
            continue
        notes = [
            f"{framework} TP{tp}: from entry {name} ({config_path}) and {script_path}; flags resolved for "
            f"the headline scenario ISL {isl} / OSL {osl} at concurrency {conc} "
            f"(MAX_MODEL_LEN {env['MAX_MODEL_LEN']}, EP {row.get('ep', 1)}, "
            f"DP-attention {bool(row.get('dp-attn', False))})",
            *[f"{framework} TP{tp}: {n}" for n in arg_notes],
        ]
        args = clean_args(args, notes, captured.files)
        if (
            "--showfw" in text
            and "HSA_NO_SCRATCH_RECLAIM" in text
            and "HSA_NO_SCRATCH_RECLAIM" not in captured.env
        ):
            notes.append(f"{framework} TP{tp}: " + MEC_NOTE.format(script=script_path))
        if captured.shell_only:
            notes.append(
                f"{framework} TP{tp}: {', '.join(captured.shell_only)} exported by {script_path} only to "
                "build the server's flags (no server reads them): not container environment"
            )
        setup = _setup_lines(captured.setup, notes, f"{framework} TP{tp}")
        draft.configs[key] = Config(
            backend=backend,
            gpus=tp,
            image=entry["image"],
            args=args,
            env=captured.env,
            setup=setup,
            notes=notes + [f"{framework}: {n}" for n in row_notes],
            entry=name,
            config_path=config_path,
            script_path=script_path,
            deprecated=deprecated,
            retirement=retirement,
        )


def _not_understood(
    name: str, entry: dict[str, Any], hw: str, mtp: bool, reason: str, out: Conversion
) -> None:
    """An AMD entry of ours with a renamed key or an unknown precision: a failure of the
    recipe it is for, where its model and precision say which (else only reported), and
    never a reason to retire the catalog's recipes made from it (``unread``)."""
    out.unread[name] = reason
    model, precision = entry.get("model"), entry.get("precision")
    if not isinstance(model, str) or not isinstance(precision, str):
        out.skipped.append(reason)
        return
    recipe_id = _recipe_id(model, hw, PRECISION.get(precision, slug(precision)), mtp)
    out.drafts.setdefault(recipe_id, Draft(recipe_id, model, HARDWARE[hw], precision)).failed.append(reason)


def _scenario_name(isl: int, osl: int) -> str:
    return f"{round(isl / 1024)}k{round(osl / 1024)}k"


def _workflow_env(
    entry: dict[str, Any], model: str, tp: int, conc: int, isl: int, osl: int, row: dict[str, Any],
    framework: str, mtp: bool,
) -> dict[str, str]:  # fmt: skip
    """The variables InferenceX's workflow (benchmark-tmpl.yml) gives a launch script."""
    return {
        "MODEL": model,
        "TP": str(tp),
        "CONC": str(conc),
        "ISL": str(isl),
        "OSL": str(osl),
        "MAX_MODEL_LEN": str(entry.get("max-model-len", isl + osl + 256)),
        "RANDOM_RANGE_RATIO": "0.8",
        "RESULT_FILENAME": "result",
        "PORT": "8888",
        "EP_SIZE": str(row.get("ep", 1)),
        "DP_ATTENTION": str(bool(row.get("dp-attn", False))).lower(),
        "PP_SIZE": "1",
        "DCP_SIZE": str(row.get("dcp-size", 1)),
        "PCP_SIZE": "1",
        "SPEC_DECODING": "mtp" if mtp else "none",
        "FRAMEWORK": framework,
        "PRECISION": entry["precision"],
        "IMAGE": entry["image"],
        "EXP_NAME": f"{entry['model-prefix']}_{isl // 1024}k{osl // 1024}k",
        "MODEL_PREFIX": entry["model-prefix"],
        "GPU_COUNT": str(tp),
        "RUN_EVAL": "false",
        "EVAL_ONLY": "false",
        "SCENARIO_TYPE": "fixed-seq-len",
        "IS_AGENTIC": "0",
        "HF_HUB_CACHE": "/tmp/hf",
        "DISAGG": "false",
    }


def _setup_lines(calls: list[list[str]], notes: list[str], label: str) -> list[str]:
    """The captured pip calls as setup lines; one the recipe format refuses is left out, said."""
    from aim_catalog.recipes.setup import line_problem

    lines = []
    for call in calls:
        line = " ".join(call)
        problem = line_problem(line)
        if problem is None:
            lines.append(line)
        else:
            notes.append(
                f"{label}: setup step {line!r} not kept ({problem}); run it by hand before the server"
            )
    return lines


def split_argv(argv: list[str]) -> tuple[str, dict[str, Any], list[str]]:
    """The backend of a captured command line and its flags (value, or True for a bare flag)."""
    if argv[:2] == ["vllm", "serve"]:
        backend, rest = "vllm", argv[3:]
    elif argv[:2] == ["sglang", "serve"]:
        backend, rest = "sglang", argv[2:]
    elif argv[:3] == ["python3", "-m", "sglang.launch_server"]:
        backend, rest = "sglang", argv[3:]
    elif argv[:3] == ["python3", "-m", "atom.entrypoints.openai_server"]:
        backend, rest = "atom", argv[3:]
    else:
        raise ValueError(f"unknown server command {' '.join(argv[:3])!r}")
    args: dict[str, Any] = {}
    dropped: list[str] = []
    i = 0
    while i < len(rest):
        token = rest[i]
        if not token.startswith("-"):
            dropped.append(token)
            i += 1
            continue
        flag, eq, value = token.partition("=")
        values: list[str] = [value] if eq else []
        if not eq:
            while i + 1 < len(rest) and not _is_flag(rest[i + 1]):
                values.append(rest[i + 1])
                i += 1
        i += 1
        if flag in args:
            dropped.append(f"{flag} (given twice; the last value is kept)")
        if not values:
            args[flag] = True
        elif len(values) == 1:
            args[flag] = values[0]
        else:
            args[flag] = " ".join(values)
            dropped.append(f"{flag} takes {len(values)} values; kept as one space-separated value")
    return backend, args, dropped


def _is_flag(token: str) -> bool:
    return token.startswith("-") and not re.fullmatch(r"-[0-9.]+", token)


def clean_args(args: dict[str, Any], notes: list[str], files: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flag, value in args.items():
        if flag in OWNED:
            continue
        if isinstance(value, str) and "<InferenceX>" in value:
            notes.append(f"dropped {flag} {value}: a file of the InferenceX tree, not in the image")
            continue
        if flag == "--config":
            inlined = config_file_args((files or {}).get(str(value)))
            if inlined is None:
                notes.append(f"dropped --config {value}: a file the launch script writes at run time")
                continue
            for name, text in inlined.items():
                if name in args:
                    notes.append(
                        f"--config {value} sets {name}, also given on the command line: kept the latter"
                    )
                    continue
                out[name] = text
            flags = ", ".join(f"{k} {v}" for k, v in inlined.items())
            notes.append(f"--config {value} (written by the script) inlined as {flags}")
            continue
        out[flag] = value
    return out


def config_file_args(text: str | None) -> dict[str, str] | None:
    """vLLM's ``--config`` YAML as the flags it stands for (FlexibleArgumentParser.load_config_file:
    each ``key: value`` becomes ``--key value``); None when it holds anything but scalar values."""
    import yaml

    if text is None:
        return None
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data:
        return None
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or isinstance(value, (dict, list, bool)) or value is None:
            return None
        out[f"--{key}"] = str(value)
    return out


def headline(entry: dict[str, Any]) -> tuple[int, int, list[Any]] | None:
    scenarios = (entry.get("scenarios") or {}).get("fixed-seq-len") or []
    if not scenarios or not all(isinstance(s, dict) and "isl" in s and "osl" in s for s in scenarios):
        return None
    chosen = next((s for s in scenarios if (s["isl"], s["osl"]) == HEADLINE), scenarios[0])
    return int(chosen["isl"]), int(chosen["osl"]), list(chosen.get("search-space") or [])


def pick_rows(rows: list[Any]) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """One search-space row per TP: the one reaching the highest concurrency."""
    best: dict[int, dict[str, Any]] = {}
    notes: list[str] = []
    for row in rows:
        tp = int(row["tp"])
        if row.get("pp", 1) != 1 or row.get("pcp-size", 1) != 1:
            notes.append(f"TP{tp} row with pp/pcp > 1 skipped (GPU count would differ from TP)")
            continue
        if tp in best:
            keep = best[tp] if _conc_end(best[tp]) >= _conc_end(row) else row
            lose = row if keep is best[tp] else best[tp]
            notes.append(f"TP{tp}: kept the row up to concurrency {_conc_end(keep)}, not {_describe(lose)}")
            best[tp] = keep
        else:
            best[tp] = row
    return best, notes


def _conc_end(row: dict[str, Any]) -> int:
    if "conc-list" in row:
        return int(max(row["conc-list"]))
    return int(row["conc-end"])


def _describe(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def script_candidates(prefix: str, precision: str, hw: str, framework: str, mtp: bool) -> list[str]:
    spec = "_mtp" if mtp else ""
    base = f"{prefix}_{precision}_{hw}"
    names = [f"{base}_{framework}{spec}.sh", f"{base}{'_atom' if framework == 'atom' else ''}{spec}.sh"]
    if hw != "mi355x":  # runners/launch_mi3[02]5x-*.sh know one script name only
        names = [f"{base}{spec}.sh"]
    return [d + n for d in SCRIPT_DIRS for n in names]


def _recipe_id(model: str, hw: str, precision: str, mtp: bool) -> str:
    return f"{slug(model)}-{hw}-{precision}" + ("-mtp" if mtp else "")


def slug(model: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", model.rsplit("/", 1)[-1].lower()).strip("-")


def document(
    draft: Draft, commit: str | None, generated_by: str, extra_notes: Sequence[str] = ()
) -> dict[str, Any]:
    """The recipe document of a draft with configs (the order ``export`` writes)."""
    configs = sorted(draft.configs.values(), key=lambda c: (BACKENDS.index(c.backend), c.gpus))
    at = f"@{commit[:12]}" if commit else ""
    files = sorted({c.config_path for c in configs} | {c.script_path for c in configs})
    doc: dict[str, Any] = {
        "recipe_id": draft.recipe_id,
        "model_id": draft.model,
        "huggingface_id": draft.model,
        "hardware": draft.hardware,
        "precision": draft.precision,
    }
    if configs and all(c.deprecated for c in configs):
        told = next((c.retirement for c in configs if c.retirement is not None), None)
        doc["status"] = "retired"
        doc["retired_reason"] = (
            told.reason
            if told is not None
            else f"InferenceX archived its entries under configs/deprecated/ "
            f"({', '.join(sorted({c.config_path for c in configs}))}); MODELS.md says nothing of when"
        )
        if told is not None and told.on:
            doc["retired_on"] = told.on
    source: dict[str, Any] = {"repository": REPOSITORY}
    if commit:
        source["commit"] = commit
    source["files"] = [f"{path}{at}" for path in files]
    source["entries"] = sorted({c.entry for c in configs})
    source["generated_by"] = generated_by
    notes = [n for c in configs for n in c.notes] + list(extra_notes)
    if not commit:
        notes.append("the InferenceX checkout had no git metadata: the commit is not recorded")
    source["notes"] = notes
    doc["source"] = source
    for backend in BACKENDS:
        section = {
            f"{c.gpus}_gpu": {
                "enabled": True,
                "image": c.image,
                "args": c.args,
                **({"env": dict(sorted(c.env.items()))} if c.env else {}),
                **({"setup": c.setup} if c.setup else {}),
                **({"benchmarks": c.benchmarks} if c.benchmarks else {}),
            }
            for c in configs
            if c.backend == backend
        }
        if section:
            doc[f"{backend}_serve"] = section
    return doc
