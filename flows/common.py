"""What every moverwatch flow shares: the config it reads at run time, its stages as tasks, its logs.

- The config path is read when the run starts, on the worker: the ``config_path`` parameter, else
  ``MOVERWATCH_CONFIG`` in the worker's environment, else the bundled demo. (A ``{{ $VAR }}`` template in
  prefect.yaml would be filled on the machine that runs ``prefect deploy``, at deploy time.)
- ``moverwatch.*`` and ``scrapers.*`` log records reach the run logger, so the UI shows delivery failures.
- Stages are tasks whose run names say what they work on (``fetch-and-parse[1000 feeds]``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prefect import task
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from flows.secrets import resolve_secret_blocks
from moverwatch.config import Settings, load_settings

CONFIG_ENV = "MOVERWATCH_CONFIG"
# The core's loggers whose records a run shows (the core never imports Prefect, so it cannot log there).
CORE_LOGGERS = ("moverwatch", "scrapers")


def config_path(given: str | None) -> str | None:
    """The config file this run reads: the parameter, else $MOVERWATCH_CONFIG here and now, else None (demo)."""
    return given or os.environ.get(CONFIG_ENV) or None


def run_settings(given: str | None, feeds: Sequence[str] | None = None) -> Settings:
    """The settings of this run (Secret blocks resolved); with ``feeds``, only those feeds (a shard)."""
    settings = resolve_secret_blocks(load_settings(config_path(given)))
    if feeds is None:
        return settings
    wanted = set(feeds)
    # model_copy keeps the config's folder (relative paths) and skips re-validating the whole file.
    return settings.model_copy(update={"feeds": tuple(f for f in settings.feeds if f.name in wanted)})


class _ToRunLogger(logging.Handler):
    """Forwards core log records to a Prefect run logger (records are redacted by their own loggers)."""

    def __init__(self, target: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        super().__init__(logging.INFO)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.target.log(record.levelno, "%s: %s", record.name, record.getMessage())
        except Exception:  # pragma: no cover - a logging failure must not fail the run
            self.handleError(record)


@contextmanager
def core_logs_to(target: logging.Logger | logging.LoggerAdapter[Any]) -> Iterator[None]:
    """While the run lasts, INFO and above from the core's loggers also go to the run logger."""
    handler = _ToRunLogger(target)
    saved = []
    for name in CORE_LOGGERS:
        lg = logging.getLogger(name)
        saved.append((lg, lg.level))
        if lg.getEffectiveLevel() > logging.INFO:
            lg.setLevel(logging.INFO)
        lg.addHandler(handler)
    try:
        yield
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)


def _run_name(name: str, args: Sequence[Any]) -> str:
    """The task run's name: the stage and what it works on (``fetch-and-parse[1000 feeds]``)."""
    if name == "fetch-and-parse":
        return f"{name}[{len(args[0].settings.feeds)} feeds]"
    if name == "detect-moves":
        return f"{name}[{len(args[1].items())} items]"
    if name == "claim-events":
        return f"{name}[{sum(len(m) for _i, m in args[2])} moves in {len(args[2])} items]"
    if name == "record-health":
        return f"{name}[{len(args[1].results)} polled feeds]"
    return name


def as_task(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """One stage as a Prefect task whose run name says what it works on. Inputs are live objects (store,
    notifier): never cached or persisted.

    Arguments go in quote(): Prefect otherwise walks every element of every argument (50,000 NewsItems,
    1,000 feed configs) twice per task call, which measured ~20 s of a cold 1,000-feed cycle.
    """
    t = task(name=name, cache_policy=NONE, persist_result=False)(fn)

    def call(*args: Any) -> Any:
        return t.with_options(task_run_name=_run_name(name, args))(*(quote(a) for a in args))

    return call
