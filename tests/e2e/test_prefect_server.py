"""The documented worker path on a real `prefect server` (loopback, SQLite in a temp dir), two real `prefect
worker` processes, real Redis and local webhooks: deploy as the README says, runs at once, a worker killed
mid-run, the zombie and failure automations, and the sharded cycle against the single-process one.

The server runs with its scheduler service off, so only the runs a test triggers exist (the deployments'
interval schedules would otherwise start runs at random points of the test).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.pipeline import run_cycle
from moverwatch.runtime import open_runtime

from ..conftest import FEEDS, REDIS_URL, write_config
from ..prefect_server import BIN, free_port, server_env, start_server, stop_group

pytestmark = [pytest.mark.prefect_server, pytest.mark.prefect, pytest.mark.redis]

ROOT = Path(__file__).parent.parent.parent
EVER = "100000d"  # fixture feeds are dated 2025: keep them alertable
FIXTURE_FEEDS = [
    "asiafinancial.xml",
    "asiafinancial_atom.xml",
    "asiafinancial_markets.xml",
    "asiamarketsdigest_syndication.xml",
    "google_news_alibaba.xml",
    "nikkei_asia.rdf",
    "scmp_business.xml",
    "yahoo_finance_BABA.xml",
]
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


def _pids_of_flow_run(flow_run_id: str) -> list[int]:
    """Processes running one flow run (the worker gives each run PREFECT__FLOW_RUN_ID in its environment)."""
    mark = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


class Hook:
    """A local webhook recording JSON posts; `stall_first` makes the first post hang 6 s and answer 500 (a
    send the sender never sees completed), and sets `first_seen` when it arrives."""

    def __init__(self, stall_first: bool = False) -> None:
        self.stall_first = stall_first
        self.first_seen = threading.Event()
        self.posts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request("/hook", method="POST").respond_with_handler(self._handle)
        self.server.start()

    def _handle(self, request: Request) -> Response:
        with self._lock:
            first = not self.first_seen.is_set()
            self.first_seen.set()
        if first and self.stall_first:
            time.sleep(6)
            return Response("stalled", status=500)
        with self._lock:
            self.posts.append(json.loads(request.get_data(as_text=True)))
        return Response("ok", status=200)

    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.port}/hook"

    def titles(self) -> list[str]:
        with self._lock:
            return [p["title"] for p in self.posts]

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()


@dataclass
class Stack:
    """The running server, its URL, the environment every CLI call and worker gets, and the workers."""

    api: str
    env: dict[str, str]
    home: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def prefect(self, command: str, cwd: Path) -> str:
        """Run a `prefect …` command line as a user would type it (in `cwd`); its output."""
        out = subprocess.run(
            [str(BIN / "prefect"), *shlex.split(command)[1:]],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 0, f"{command}: {out.stdout}\n{out.stderr}"
        return out.stdout

    def start_worker(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "moverwatch", "--name", name],
            cwd=self.home,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc


def _readme_commands() -> tuple[str, str]:
    """The work-pool and deploy commands of the README's Deploying section (what the test runs verbatim)."""
    readme = (ROOT / "README.md").read_text()
    pool = re.search(r"^(prefect work-pool create moverwatch --type process)$", readme, re.M)
    deploy = re.search(r"^cd deploy && (prefect deploy --all)$", readme, re.M)
    assert pool and deploy, "README must show the work-pool and `cd deploy && prefect deploy --all` commands"
    return pool.group(1), deploy.group(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A real Prefect server on a free loopback port, the README's deploy commands run, and the automations
    installed; every process it starts (server, workers, their flow runs) is stopped at the end."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = server_env(home, api)
    env.pop("MOVERWATCH_CONFIG", None)
    st = Stack(api, env, home)
    server = start_server(home, env, port, timeout_s=90)
    try:
        pool, deploy = _readme_commands()
        st.prefect(pool, ROOT)
        st.prefect(deploy, ROOT / "deploy")
        yield st
    finally:
        run_pids = []
        for w in st.workers:
            for pid in _children_of(w.pid):
                run_pids.append(pid)
        for w in st.workers:
            stop_group(w)
        for pid in run_pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        stop_group(server)


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _parent(int(entry.name)) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


@pytest.fixture
def client(stack: Stack) -> Iterator[Any]:
    """A sync Prefect client on the test server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: stack.api}), get_client(sync_client=True) as c:
        yield c


@pytest.fixture
def hooks() -> Iterator[Callable[..., Hook]]:
    """A factory of local webhooks, all stopped after the test."""
    made: list[Hook] = []

    def make(stall_first: bool = False) -> Hook:
        made.append(Hook(stall_first))
        return made[-1]

    yield make
    for h in made:
        h.stop()


@pytest.fixture
def feeds(httpserver: HTTPServer) -> list[dict[str, str]]:
    """The fixture feeds on a local HTTP server (several carry the same stories: cross-feed dedup)."""
    out = []
    for name in FIXTURE_FEEDS:
        httpserver.expect_request(f"/{name}").respond_with_data(
            (FEEDS / name).read_bytes(), content_type="application/rss+xml"
        )
        out.append({"name": name.split(".")[0], "url": httpserver.url_for(f"/{name}")})
    return out


def _config(path: Path, feeds: list[dict[str, str]], hook: Hook, prefix: str) -> Path:
    return write_config(
        path,
        feeds=feeds,
        channels=[{"url": hook.url(), "name": "desk"}],
        state=REDIS_URL,
        redis_prefix=prefix,
        max_age=EVER,
        delivery={"claim_timeout": "3s", "per_channel_per_minute": 1000},
    )


@pytest.fixture
def prefix() -> Iterator[Callable[[], str]]:
    """Fresh Redis key prefixes, deleted afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"mwtest:{uuid.uuid4().hex[:8]}:")
        return made[-1]

    yield make
    r = redis.Redis.from_url(REDIS_URL)
    for p in made:
        for k in r.scan_iter(match=p + "*", count=1000):
            r.delete(k)


def _trigger(client: Any, deployment: str, **parameters: Any) -> Any:
    dep = client.read_deployment_by_name(deployment)
    return client.create_flow_run_from_deployment(dep.id, parameters=parameters or None).id


def _wait_state(client: Any, run_id: Any, want: set[str], timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        fr = client.read_flow_run(run_id)
        if fr.state is not None and fr.state.type.value in want:
            return fr
        assert time.monotonic() < deadline, f"run {fr.name} still {fr.state and fr.state.type.value}"
        time.sleep(0.5)


def _events(client: Any, name: str, since: datetime) -> list[Any]:
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

    page = client.read_events(
        EventFilter(occurred=EventOccurredFilter(since=since), event=EventNameFilter(name=[name])), limit=50
    )
    return list(page.events)


def _artifact(client: Any, key: str) -> Any:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    arts = client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC
    )
    return arts[0] if arts else None


def _expected_titles(cfg: Path, hook: Hook) -> list[str]:
    """What the single-process cycle (`moverwatch run`) posts to ``hook`` for a config, by message title."""
    with open_runtime(cfg) as rt:
        for _ in range(2):  # a second cycle sends nothing more: the single path's whole output
            run_cycle(rt)
    return hook.titles()


def test_deployments_are_registered_as_documented(stack: Stack, client: Any) -> None:
    """`prefect deploy --all` from deploy/ registers poll-feeds, deliver-outbox and poll-shard on the pool,
    the poller one-at-a-time (CANCEL_NEW), with tags, a version and no config path baked in."""
    poll = client.read_deployment_by_name("poll-feeds/pool")
    deliver = client.read_deployment_by_name("deliver-outbox/pool")
    shard = client.read_deployment_by_name("poll-shard/pool")
    for d in (poll, deliver, shard):
        assert d.work_pool_name == "moverwatch" and d.version and "moverwatch" in d.tags
        assert "config_path" not in (d.parameters or {})
        assert d.pull_steps == []
    assert poll.global_concurrency_limit.limit == 1
    assert poll.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert [s.schedule.interval.total_seconds() for s in deliver.schedules] == [60]


def test_worker_path_delivers_once_across_runs_and_a_killed_worker(
    stack: Stack,
    client: Any,
    feeds: list[dict[str, str]],
    hooks: Callable[..., Hook],
    prefix: Callable[[], str],
    tmp_path: Path,
) -> None:
    """Four poll-feeds runs at once on two workers: one runs (the rest are cancelled); its worker is
    SIGKILLed mid-delivery; deliver-outbox then sends every alert exactly once, the zombie automation marks
    the dead run Crashed (freeing the slot), and a later poll sends nothing twice."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from flows.automations import install

    single = hooks()
    expected = _expected_titles(_config(tmp_path / "single.yaml", feeds, single, prefix()), single)
    assert len(expected) >= 4 and len(set(expected)) == len(expected)
    hook = hooks(stall_first=True)
    oncall = hooks()
    cfg = _config(tmp_path / "moverwatch.yaml", feeds, hook, prefix())
    CustomWebhookNotificationBlock(
        name="oncall", url=f"http://127.0.0.1:{oncall.server.port}/hook", json_data={"title": "{{subject}}"}
    ).save("mw-oncall", overwrite=True)
    install("custom-webhook/mw-oncall", interval_s=300, zombie_after_s=40)
    since = datetime.now(UTC)
    for i in range(2):
        stack.start_worker(f"w{i}", MOVERWATCH_CONFIG=str(cfg))

    runs = [_trigger(client, "poll-feeds/pool") for _ in range(4)]
    assert hook.first_seen.wait(90), "no run reached delivery"
    running = [r for r in runs if client.read_flow_run(r).state.type.value == "RUNNING"]
    assert len(running) == 1
    victim = running[0]
    pids = _pids_of_flow_run(str(victim))
    assert pids
    worker = next(w for w in stack.workers if any(_parent(p) == w.pid for p in pids))
    os.killpg(worker.pid, signal.SIGKILL)
    for p in pids:
        os.kill(p, signal.SIGKILL)
    worker.wait(10)
    for r in runs:
        if r != victim:
            assert _wait_state(client, r, FINAL).state.type.value == "CANCELLED"
    assert hook.titles() == []  # the killed run sent nothing (its one send stalled)

    time.sleep(3.5)  # delivery.claim_timeout: the dead run's deliveries may be taken over after it
    later = _wait_state(client, _trigger(client, "deliver-outbox/pool"), FINAL)
    assert later.state.type.value == "COMPLETED", later.state.message
    assert Counter(hook.titles()) == Counter(expected)  # every alert, each once

    zombie = _wait_state(client, victim, {"CRASHED"}, timeout_s=120)
    assert "heartbeat" in (zombie.state.message or "")
    again = _wait_state(client, _trigger(client, "poll-feeds/pool"), FINAL)
    assert again.state.type.value == "COMPLETED", again.state.message
    assert len(hook.titles()) == len(expected)  # nothing twice

    sent_table = _artifact(client, "deliver-outbox-pool-alerts-sent")
    assert sent_table is not None and len(json.loads(sent_table.data)) == len(expected)
    summary = _artifact(client, "poll-feeds-pool-summary")
    assert summary is not None and "sent=0" in summary.description and summary.flow_run_id == again.id
    deadline = time.monotonic() + 30
    while len(_events(client, "moverwatch.alert.sent", since)) < len(expected):
        assert time.monotonic() < deadline, "alert-sent events did not all arrive"
        time.sleep(1)
    assert any("Crashed" in t for t in oncall.titles())


def test_failed_poll_run_notifies_through_the_automation(
    stack: Stack, client: Any, hooks: Callable[..., Hook]
) -> None:
    """A poll-feeds run that cannot read its config ends Failed with the reason, and the shipped
    automation notifies the configured block."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from flows.automations import install

    oncall = hooks()
    CustomWebhookNotificationBlock(
        name="oncall", url=f"http://127.0.0.1:{oncall.server.port}/hook", json_data={"title": "{{subject}}"}
    ).save("mw-oncall-2", overwrite=True)
    install("custom-webhook/mw-oncall-2", interval_s=300, zombie_after_s=40)
    if not any(w.poll() is None for w in stack.workers):
        stack.start_worker("w-fail")
    run = _trigger(client, "poll-feeds/pool", config_path="/nonexistent/moverwatch.yaml")
    failed = _wait_state(client, run, FINAL)
    assert failed.state.type.value == "FAILED" and "nonexistent" in (failed.state.message or "")
    deadline = time.monotonic() + 30
    while not any("FAILED" in t.upper() for t in oncall.titles()):
        assert time.monotonic() < deadline, f"no failure notification: {oncall.titles()}"
        time.sleep(0.5)


def test_sharded_cycle_on_two_workers_sends_what_the_single_process_cycle_sends(
    stack: Stack,
    client: Any,
    feeds: list[dict[str, str]],
    hooks: Callable[..., Hook],
    prefix: Callable[[], str],
    tmp_path: Path,
) -> None:
    """poll-feeds with shard_size=2 fans 8 feeds out to 4 poll-shard runs on the two workers; they alert the
    same events as the single-process cycle, each event's first alert once (stories shared across shards
    included). Which outlet's report comes first may differ: shards claim in their own order."""
    while sum(w.poll() is None for w in stack.workers) < 2:
        stack.start_worker(f"w-shard-{len(stack.workers)}")
    single = hooks()
    expected = _expected_titles(_config(tmp_path / "single.yaml", feeds, single, prefix()), single)
    hook = hooks()
    cfg = _config(tmp_path / "sharded.yaml", feeds, hook, prefix())
    run = _trigger(client, "poll-feeds/pool", config_path=str(cfg), shard_size=2)
    done = _wait_state(client, run, FINAL, timeout_s=120)
    assert done.state.type.value == "COMPLETED", done.state.message
    assert _events_of(hook.titles()) == _events_of(expected)
    firsts = Counter(_event(t) for t in hook.titles() if not t.split()[2:3] == ["now"])
    assert firsts and set(firsts.values()) == {1}, f"an event's first alert went out twice: {hook.titles()}"
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    shards = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run]))
    )
    assert len(shards) == 4 and all(s.state.type.value == "COMPLETED" for s in shards)
    summary = _artifact(client, "poll-feeds-pool-summary")
    assert summary.flow_run_id == run and f"sent={len(hook.titles())}" in summary.description


def _event(title: str) -> str:
    """'BABA ▲' of 'BABA ▲ 14% …': the event (symbol and direction) an alert's title is about."""
    return " ".join(title.split()[:2])


def _events_of(titles: list[str]) -> set[str]:
    return {_event(t) for t in titles}


def test_serve_registers_its_own_deployments_and_leaves_the_pool_ones_alone(
    stack: Stack, client: Any, tmp_path: Path, hooks: Callable[..., Hook], feeds: list[dict[str, str]]
) -> None:
    """`moverwatch serve` on the same server creates poll-feeds/serve and deliver-outbox/serve; the work-pool
    deployments keep their pool, concurrency limit and active schedules, also after serve stops."""
    cfg = _config(tmp_path / "serve.yaml", feeds, hooks(), "mwtest:serve:")
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    serve = subprocess.Popen(
        [str(BIN / "moverwatch"), "serve", "--config", str(cfg)],
        env=stack.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if len([d for d in client.read_deployments() if d.name == "serve"]) == 2:
                break
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not register its deployments"
            time.sleep(0.5)
        served = client.read_deployment_by_name("poll-feeds/serve")
        assert served.work_pool_name is None and served.global_concurrency_limit.limit == 1
    finally:
        stop_group(serve)
        log.close()
    pool = client.read_deployment_by_name("poll-feeds/pool")
    assert pool.work_pool_name == "moverwatch" and pool.global_concurrency_limit.limit == 1
    assert pool.schedules and all(s.active for s in pool.schedules)
