"""Install the automations of deploy/automations.yaml on the Prefect server, notifying through a block.

    python -m flows.automations --block custom-webhook/desk-oncall [--interval 300] [--zombie-after 90]
                                [--file deploy/automations.yaml]

Automations are replaced by name, so running it again after an edit updates them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect.blocks.core import Block
from prefect.client.orchestration import get_client
from prefect.events.schemas.automations import AutomationCore

# In a checkout; an installed package (the image) passes --file (the image has it in /app/deploy/).
AUTOMATIONS = Path(__file__).resolve().parent.parent / "deploy" / "automations.yaml"


def render(
    text: str, notify_block_id: UUID, interval_s: float, zombie_after_s: float
) -> list[AutomationCore]:
    """The automations of the YAML text with our placeholders filled (Prefect's own templates are kept)."""
    for placeholder, value in {
        "{{ notify_block_id }}": str(notify_block_id),
        "{{ interval_3x }}": str(int(3 * interval_s)),
        "{{ zombie_after }}": str(int(zombie_after_s)),
    }.items():
        text = text.replace(f'"{placeholder}"', value).replace(placeholder, value)
    data: dict[str, Any] = yaml.safe_load(text)
    return [AutomationCore.model_validate(a) for a in data["automations"]]


def install(
    block: str, interval_s: float = 300, zombie_after_s: float = 90, path: Path = AUTOMATIONS
) -> list[UUID]:
    """Create (or replace, by name) every automation; ``block`` is a notification block "type-slug/name"."""
    notify: Block = Block.load(block)  # type: ignore[assignment]  # sync context: the block, not a coroutine
    block_id = notify._block_document_id
    if block_id is None:  # pragma: no cover - a loaded block always has its document id
        raise ValueError(f"block {block!r} has no document id")
    ids = []
    with get_client(sync_client=True) as client:
        for automation in render(path.read_text(encoding="utf-8"), block_id, interval_s, zombie_after_s):
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            ids.append(client.create_automation(automation))
    return ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block", required=True, help='notification block, "type-slug/name"')
    parser.add_argument("--interval", type=float, default=300, help="poll-feeds schedule interval, seconds")
    parser.add_argument("--zombie-after", type=float, default=90, help="seconds without a heartbeat")
    parser.add_argument("--file", type=Path, default=AUTOMATIONS, help="the automations YAML")
    args = parser.parse_args(argv)
    ids = install(args.block, args.interval, args.zombie_after, args.file)
    print(f"installed {len(ids)} automations")  # noqa: T201 - a command's one line of output


if __name__ == "__main__":
    main()
