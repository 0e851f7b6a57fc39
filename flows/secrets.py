"""Resolve channel URLs kept in Prefect Secret blocks (`channels[].secret_block` in the config)."""

from __future__ import annotations

from prefect.blocks.system import Secret

from moverwatch.config import Settings
from moverwatch.errors import ConfigError


def resolve_secret_blocks(settings: Settings) -> Settings:
    """Settings whose channels all carry a URL, read from their Secret blocks where named."""
    if not any(c.secret_block for c in settings.channels):
        return settings
    channels = []
    for i, c in enumerate(settings.channels):
        if c.secret_block:
            try:
                secret: Secret[str] = Secret.load(c.secret_block)  # type: ignore[assignment]  # sync context
            except ValueError as exc:
                raise ConfigError(
                    f"channels[{i}].secret_block: no Prefect Secret block {c.secret_block!r} ({exc})"
                ) from None
            c = c.model_copy(update={"url": str(secret.get()), "secret_block": None})
        channels.append(c)
    return settings.with_channels(tuple(channels))
