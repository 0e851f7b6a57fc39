"""The `moverwatch` command line: run, serve, detect, explain, feeds, notify-test, dead, doctor, sources.

User errors (bad config, unreachable state store, bad watchlist) end in one clear message on stderr
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from moverwatch.errors import ConfigError, MoverwatchError, StateStoreError, WatchlistError

if TYPE_CHECKING:
    from moverwatch.config import Settings


def load_settings(path: Path | None) -> Settings:
    """The config (imported on use: building the pydantic models costs ~0.3 s that `--help` need not pay)."""
    from moverwatch.config import load_settings as load

    return load(path)


app = typer.Typer(
    help="Big-move news alerts on watched tickers: poll feeds, detect moves, alert once.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML config file (default: the bundled offline demo).", dir_okay=False
    ),
]


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn our errors into one line on stderr and an exit code: 2 config/watchlist, 3 state store."""
    try:
        yield
    except (ConfigError, WatchlistError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except StateStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from None
    except MoverwatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _progress(total: int) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A feeds-done bar on a terminal; silent when stdout is not a TTY."""
    if not sys.stderr.isatty() or total == 0:
        return (lambda _r: None), (lambda: None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("polling feeds"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    )
    progress.start()
    bar = progress.add_task("poll", total=total)
    return (lambda _r: progress.advance(bar)), progress.stop


@app.command()
def run(
    config: ConfigOpt = None,
    prefect: Annotated[bool, typer.Option("--prefect", help="Run as the Prefect flow `poll-feeds`.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log failing feeds, feeds with news, and a summary line.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Replay after an outage: alert only on news published after this (a duration back from "
            "now, 6h, or an ISO time, 2026-03-02T08:00:00Z); older unseen news is recorded as seen.",
        ),
    ] = None,
) -> None:
    """Run one poll cycle: fetch, detect, dedup, alert. Exit 0 even if some feeds failed (they are listed)."""
    _setup_logging(verbose)
    with _user_errors():
        if prefect:
            from flows.poll import poll_feeds

            counts = poll_feeds(str(config) if config else None, since=since)
            typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
            return
        from moverwatch.pipeline import replay_settings, run_cycle
        from moverwatch.runtime import open_runtime, utcnow

        settings = load_settings(config)
        if since:
            try:
                settings = replay_settings(settings, since, utcnow())
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--since") from None
        with open_runtime(_resolved(settings), console=typer.echo) as rt:
            advance, stop = _progress(len(rt.settings.feeds))
            try:
                report = run_cycle(rt, on_feed_done=advance)
            finally:
                stop()
    failed = [o for o in report.feeds if o.error]
    for o in failed:
        typer.echo(f"feed {o.name}: {o.status}: {o.error}", err=True)
    d = report.delivery
    typer.echo(
        f"{len(report.feeds)} feeds ({len(failed)} failed), "
        f"{report.new_items} new items, {len(report.enqueued)} alerts queued, "
        f"{len(d.sent)} sent, {len(d.failed)} to retry, {report.pending} pending, {report.dead_total} dead "
        f"({report.seconds:.1f}s)",
        err=True,
    )


def _resolved(settings: Settings) -> Settings:
    """Read channel URLs from Prefect Secret blocks when the config names any (imports Prefect only then)."""
    if any(c.secret_block for c in settings.channels):
        from flows.secrets import resolve_secret_blocks

        return resolve_secret_blocks(settings)
    return settings


@app.command()
def serve(config: ConfigOpt = None) -> None:
    """Run the poll cycle on its schedule as a Prefect deployment served by this process."""
    _setup_logging(False)
    with _user_errors():
        settings = load_settings(config)
        from flows.serve import serve as serve_flow

        serve_flow(str(config.resolve()) if config else None, settings.schedule)


@app.command()
def detect(
    watchlist: Annotated[
        Path, typer.Option("--watchlist", "-w", help="Watchlist YAML file.", dir_okay=False)
    ],
) -> None:
    """Read JSON lines {"id","title","summary"} on stdin; write {"id","moves":[...]} per line, flushed."""
    from moverwatch.detect import Detector, stream_jsonl
    from moverwatch.watchlist import load_watchlist

    with _user_errors():
        detector = Detector(load_watchlist(watchlist))
    errors = stream_jsonl(detector, sys.stdin, sys.stdout)
    if errors:
        typer.echo(f"{errors} input line(s) could not be read (see the error lines in the output)", err=True)


@app.command()
def explain(
    text: Annotated[str, typer.Argument(help="A headline (title) to analyse.")],
    summary: Annotated[str, typer.Option("--summary", "-s", help="The item's summary text.")] = "",
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", "-w", help="Watchlist YAML (default: the config's).", dir_okay=False),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Show what the detector sees in a text: aliases, sentences, move words, numbers, and why."""
    from moverwatch.detect import Detector
    from moverwatch.watchlist import load_watchlist

    with _user_errors():
        wl = load_watchlist(watchlist) if watchlist else load_settings(config).load_watchlist()
        typer.echo(Detector(wl).explain(text, summary))


@app.command()
def feeds(config: ConfigOpt = None) -> None:
    """Print feed health: last status, last success, failures, items seen, next poll."""
    from moverwatch.health import health_table
    from moverwatch.state import open_store

    with _user_errors():
        settings = load_settings(config)
        settings = settings.expanded(settings.load_watchlist())
        store = open_store(settings.state_url(), settings.redis_prefix)
        try:
            stored = store.load_feeds([f.name for f in settings.feeds])
        finally:
            store.close()
    typer.echo(health_table([(f.name, f.url, stored.get(f.name)) for f in settings.feeds]))


@app.command("notify-test")
def notify_test(config: ConfigOpt = None) -> None:
    """Send one test message to every channel and report ok/failed per channel."""
    from moverwatch.errors import DeliveryError
    from moverwatch.notify import Notifier

    with _user_errors():
        settings = _resolved(load_settings(config))
        notifier = Notifier(settings.channels, console=typer.echo)
    failures = 0
    for cid, ch in notifier.channels.items():
        try:
            notifier.send_text(cid, "moverwatch test", "Test message from moverwatch: this channel works.")
            typer.echo(f"ok      {ch.label}")
        except DeliveryError as exc:
            failures += 1
            typer.echo(f"FAILED  {ch.label}: {exc.reason}")
    if failures:
        raise typer.Exit(1)


@app.command()
def dead(
    config: ConfigOpt = None,
    requeue: Annotated[
        bool,
        typer.Option("--requeue", help="Put every dead alert back in the outbox (after fixing the channel)."),
    ] = False,
) -> None:
    """List alerts parked as dead after max_attempts failed sends, or requeue them."""
    from datetime import UTC, datetime

    from moverwatch.models import Alert
    from moverwatch.state import open_store

    with _user_errors():
        settings = load_settings(config)
        store = open_store(settings.state_url(), settings.redis_prefix)
        try:
            if requeue:
                typer.echo(
                    f"{store.requeue_dead(datetime.now(UTC))} dead alerts requeued: the next run sends them"
                )
                return
            letters = store.dead_letters()
        finally:
            store.close()
    if not letters:
        typer.echo("no dead alerts")
        return
    for d in letters:
        m = d.message
        what = (
            f"{m.symbol} {m.direction} {m.pct}  {m.headline}"
            if isinstance(m, Alert)
            else f"notice  {m.title}"
        )
        when = d.dead_at.isoformat() if d.dead_at else "-"
        typer.echo(f"{when}  {d.channel}  {what}  attempts={d.attempts}  error: {d.error}")


@app.command()
def doctor(config: ConfigOpt = None) -> None:
    """Check the config, the watchlist and the state store (SQLite integrity, Redis persistence); exit 3 on a
    problem with the store."""
    from moverwatch.state import open_store

    with _user_errors():
        settings = load_settings(config)
        watchlist = settings.load_watchlist()
        typer.echo(f"ok      config: {len(settings.feeds)} feeds, {len(settings.channels)} channels")
        typer.echo(f"ok      watchlist: {len(watchlist.tickers)} tickers")
        store = open_store(settings.state_url(), settings.redis_prefix)
        try:
            problems = store.check()
        finally:
            store.close()
    for p in problems:
        typer.echo(f"PROBLEM {p}")
    if not problems:
        typer.echo(f"ok      {store.where()}")
        return
    raise typer.Exit(3)


@app.command()
def sources(config: ConfigOpt = None) -> None:
    """List the source catalogue: name, format, URL and notes; `*` marks the sources a config enables."""
    from moverwatch.sources import load_catalogue

    with _user_errors():
        catalogue = load_catalogue()
        enabled = set(load_settings(config).sources) if config else set()
    for name, url, fmt, notes in catalogue.rows():
        typer.echo(f"{'*' if name in enabled else ' '} {name:22} {fmt:5} {url}")
        if notes:
            typer.echo(f"    {notes}")


def main() -> None:
    # Prefect talks to its API on import in some paths; keep the offline demo quiet and private.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    app()
