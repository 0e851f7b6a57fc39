"""deploy/: what can be checked without Docker or root: the compose file and Dockerfile reference files that
exist and have what the stack needs, prefect.yaml's entry points are the flows, the automations parse, and
the systemd units verify with an exposure below 5."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["moverwatch.service", "moverwatch-worker.service"]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def test_compose_services_have_healthchecks_restart_policies_and_existing_files() -> None:
    """The compose stack has Redis, PostgreSQL, the Prefect server, a one-shot deploy and a worker; long-lived
    services have a healthcheck and restart policy; every host file it mounts or builds from exists."""
    services = _compose()["services"]
    assert set(services) == {"redis", "postgres", "prefect", "deploy", "worker"}
    for name in ("redis", "postgres", "prefect", "worker"):
        assert services[name]["restart"] == "unless-stopped" and "test" in services[name]["healthcheck"]
    assert services["deploy"]["restart"] == "no"
    assert services["worker"]["depends_on"]["deploy"]["condition"] == "service_completed_successfully"
    for svc in services.values():
        for volume in svc.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith("."):
                assert (DEPLOY / host).exists(), f"compose mounts missing {host}"
        for env_file in svc.get("env_file", []):
            assert env_file.get("required") is False or (DEPLOY / env_file["path"]).exists()
    build = services["deploy"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_compose_worker_reads_its_mounted_config_and_reaches_redis() -> None:
    """The worker's MOVERWATCH_CONFIG is a file of the mounted config folder, whose state is the stack's
    Redis; Redis listens beyond loopback inside the stack with AOF on; the UI knows its API URL."""
    services = _compose()["services"]
    worker = services["worker"]
    host, target = worker["volumes"][0].split(":")[:2]
    config = worker["environment"]["MOVERWATCH_CONFIG"]
    assert config.startswith(target + "/")
    local = DEPLOY / host / config.removeprefix(target + "/")
    from moverwatch.config import load_settings

    settings = load_settings(local)
    assert settings.state.startswith("redis://redis:") and settings.load_watchlist()
    assert "0.0.0.0" in services["redis"]["command"]
    assert re.search(r"^appendonly yes", (DEPLOY / "redis.conf").read_text(), re.M)
    assert services["prefect"]["environment"]["PREFECT_UI_API_URL"].endswith("/api")
    assert "deploy --all" in " ".join(services["deploy"]["command"])


def test_dockerfile_is_slim_non_root_and_installs_the_package_with_uv() -> None:
    """The image builds from slim Python, installs the package with uv, runs as a non-root user, and every
    path it copies exists."""
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.findall(r"^FROM python:3\.11-slim", text, re.M)
    assert "uv pip install" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        for src in line.split()[:-1]:
            assert (ROOT / src).exists(), f"Dockerfile copies missing {src}"


def test_prefect_yaml_deploys_the_flows_with_run_time_config() -> None:
    """Each deployment's entry point is one of our flows, named apart from `serve`'s; no parameter is a
    deploy-time template; the poller and the deliverer run one at a time with CANCEL_NEW."""
    from flows.serve import SERVED

    data = yaml.safe_load((DEPLOY / "prefect.yaml").read_text())
    assert data["pull"] == []
    flows = {}
    for d in data["deployments"]:
        module, attr = d["entrypoint"].split(":")
        flows[getattr(importlib.import_module(module), attr).name] = d
        assert d["name"] != SERVED and d["version"] and "moverwatch" in d["tags"]
        assert "{{" not in yaml.safe_dump(d.get("parameters", {}))
        assert "config_path" not in d.get("parameters", {})
    assert set(flows) == {"poll-feeds", "deliver-outbox", "poll-shard"}
    for name in ("poll-feeds", "deliver-outbox"):
        assert flows[name]["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    assert (
        flows["deliver-outbox"]["schedules"][0]["interval"] < flows["poll-feeds"]["schedules"][0]["interval"]
    )


def test_automations_render_to_valid_prefect_automations() -> None:
    """The shipped automations parse as Prefect automations once the block, interval and zombie timeout
    are filled in: failed/crashed poll, no completed poll for 3 intervals, zombie runs marked Crashed."""
    from flows.automations import AUTOMATIONS, render

    block = uuid.uuid4()
    autos = render(AUTOMATIONS.read_text(), block, interval_s=300, zombie_after_s=90)
    by_name = {a.name: a for a in autos}
    assert len(by_name) == 3
    no_poll = by_name["moverwatch no completed poll-feeds"].trigger
    assert no_poll.posture == "Proactive" and no_poll.within.total_seconds() == 900  # type: ignore[union-attr]
    zombie = by_name["moverwatch zombie runs"]
    assert [a.type for a in zombie.actions] == ["change-flow-run-state", "send-notification"]
    assert all(getattr(a, "block_document_id", block) == block for a in (x for b in autos for x in b.actions))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_unit_verifies_and_is_hardened(unit: str, tmp_path: Path) -> None:
    """The unit passes `systemd-analyze verify` (its ExecStart pointed at this checkout's venv) and
    `systemd-analyze security` rates its exposure below 5; it stops by waiting for in-flight runs, then SIGTERM
    to the main process only."""
    text = (DEPLOY / unit).read_text()
    assert "KillMode=mixed" in text and "KillSignal=SIGTERM" in text
    assert re.search(r"^ExecStop=.*while pgrep -P \$MAINPID.*kill -TERM \$MAINPID", text, re.M)
    assert int(re.search(r"^TimeoutStopSec=(\d+)", text, re.M).group(1)) >= 300  # type: ignore[union-attr]
    local = tmp_path / unit
    local.write_text(text.replace("/opt/moverwatch/.venv", str(ROOT / ".venv")))
    verify = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr  # warnings ("ignoring") count
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(local)], capture_output=True, text=True
    )
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert level and float(level.group(1)) < 5, security.stdout[-500:]
