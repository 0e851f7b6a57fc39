"""A throwaway `prefect server` on a free loopback port: shared by the real-server tests and
``bench/prefect_overhead.py`` so both start, wait for and stop it the same way.

Its state lives under ``home`` (SQLite), the scheduler and UI are off (runs are triggered explicitly), and
workers poll every second so a triggered run starts at once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(home: Path, api: str) -> dict[str, str]:
    """The environment for the server and for every `prefect` command and worker that talks to it."""
    return {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }


def start_server(
    home: Path, env: dict[str, str], port: int, timeout_s: float = 120
) -> subprocess.Popen[bytes]:
    """Start `prefect server` (its output in ``home/server.log``) and return once its API answers.

    Raises RuntimeError with the end of the server's log if it exits or does not answer in ``timeout_s``.
    """
    log_path = home / "server.log"
    with open(log_path, "wb") as out:  # the child keeps its own descriptor
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout_s
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_group(server)
            raise RuntimeError(
                f"prefect server did not answer in {timeout_s:g} s: {log_path.read_text()[-2000:]}"
            )
        time.sleep(0.5)


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 10) -> None:
    """Stop a process started in its own session: SIGINT twice (a worker needs two), then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGINT):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(grace_s / 2)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group too: a run the worker started may outlive it
    except ProcessLookupError:
        pass
    proc.wait(10)
