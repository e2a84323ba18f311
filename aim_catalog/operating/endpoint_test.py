"""``aim-catalog test``: ask a served deployment (or any OpenAI-compatible URL) one chat
completion, or a small load, and optionally store the result as a smoke-test row.

The HTTP work is ``openai_client``'s; this is the workflow around it: which endpoint, one reply
or a load, what is saved. It prints nothing; ``Catalog.test`` returns a ``TestOutcome``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aim_catalog.errors import CatalogError, UsageProblem

if TYPE_CHECKING:
    from aim_catalog.launch.targets.base import Served
    from aim_catalog.operating.load import LoadResult
    from aim_catalog.operating.openai_client import Reply
    from aim_catalog.storage.work import Work


@dataclass(frozen=True)
class TestOptions:
    """What `test` is asked to do."""

    __test__ = False  # not a pytest test class, despite its name

    prompt: str = "Say hello in one short sentence."
    max_tokens: int = 64
    stream: bool = False
    concurrency: int = 1
    requests: int | None = None  # a load run of this many requests (default: 4 x concurrency)
    time_limit: float = 120.0  # a load run sends nothing after this many seconds
    timeout: float = 120.0  # seconds for each request, from connecting to its last byte
    save: bool = False

    @property
    def load(self) -> bool:
        return self.concurrency > 1 or self.requests is not None


@dataclass(frozen=True)
class TestOutcome:
    """One reply (``reply``) or a load run (``load``), where it was sent, and the id of the
    benchmark row it was saved as (None: not saved)."""

    __test__ = False

    base: str
    what: str
    reply: Reply | None = None
    load: LoadResult | None = None
    saved: int | None = None
    save_asked: bool = False

    def failure(self) -> CatalogError | None:
        """Why a load run failed (some request failed, or none completed); None: it did not.
        ``InvalidAnswer`` (exit code 4) when a request failed because its answer was invalid."""
        from aim_catalog.operating.openai_client import InvalidAnswer, SmokeFailed

        result = self.load
        if result is None or (not result.failed and result.completed):
            return None
        first = result.errors[0] if result.errors else "no request was sent"
        nothing = " (nothing saved)" if self.save_asked else ""
        kind = InvalidAnswer if result.invalid else SmokeFailed
        return kind(f"{result.failed} of {result.requests} request(s) failed{nothing}; first: {first}")


def target(work: Work, name: str) -> tuple[str, Served | None]:
    """(base URL, deployment or None): ``name`` is a deployment of the current Docker engine,
    or a URL like http://host:8000. A deployment answers on the engine's host, at its port."""
    if name.startswith(("http://", "https://")):
        base = name.rstrip("/")
        return (base[: -len("/v1")] if base.endswith("/v1") else base), None
    from aim_catalog.launch.service import served

    found = served(work, name)
    return found.base_url, found


def run_test(work: Work, name: str, options: TestOptions) -> TestOutcome:
    """Send the request(s); save a reply, or a load run without failures, when asked.

    The figures are checked against the physical bounds (``recipes.bounds``) before they are
    returned or saved: a server's answer is data, and an impossible one fails in one line.
    """
    from aim_catalog.operating import load, openai_client

    base, deployment = target(work, name)
    if options.save and deployment is None:
        raise UsageProblem(
            "--save needs a deployment name (a URL has no serve config to store the result on)"
        )
    what = name if deployment is not None else "the server"
    saving = deployment is not None and options.save
    if not options.load:
        reply = openai_client.single(
            base,
            options.prompt,
            options.max_tokens,
            stream=options.stream,
            what=what,
            timeout=options.timeout,
        )
        single = load.single_as_load(reply)
        _check(single, base, what, saving)
        saved = _save(work, deployment, single, options.max_tokens) if deployment and saving else None
        return TestOutcome(base, what, reply=reply, saved=saved, save_asked=options.save)
    result = _load(base, what, options)
    if result.completed:
        _check(result, base, what, saving)
    saved = None
    if deployment is not None and saving and result.completed and not result.failed:
        saved = _save(work, deployment, result, options.max_tokens)
    return TestOutcome(base, what, load=result, saved=saved, save_asked=options.save)


def _check(result: LoadResult, base: str, what: str, saving: bool) -> None:
    """``InvalidAnswer`` when a figure of the result cannot be a real measurement."""
    from aim_catalog.operating.openai_client import InvalidAnswer
    from aim_catalog.recipes import bounds

    found = bounds.problems({k: v for k, v in result.row().items() if v is not None})
    if found:
        column, why = found[0]
        nothing = " (nothing saved)" if saving else ""
        raise InvalidAnswer(f"{what} at {base} answered with an impossible {column}: {why}{nothing}")


def _save(work: Work, deployment: Served, result: LoadResult, max_tokens: int) -> int:
    """Store the result as a smoke-test row of the deployment's serve config; its id."""
    from aim_catalog.measurements.bench_import import store_smoke_test

    with work.write() as session:
        return store_smoke_test(
            session, deployment.name, deployment.serve_config_id, deployment.image, result, max_tokens
        )


def _load(base: str, what: str, options: TestOptions) -> LoadResult:
    from aim_catalog.operating import load

    return load.run_load(
        base,
        options.prompt,
        options.max_tokens,
        concurrency=options.concurrency,
        requests=options.requests if options.requests is not None else 4 * options.concurrency,
        time_limit=options.time_limit,
        timeout=options.timeout,
        what=what,
    )
