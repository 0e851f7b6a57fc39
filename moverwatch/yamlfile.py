"""Read the user's YAML files (config, watchlist) with errors that name the file, the field and the reason.

Stricter than YAML itself in two ways, both refusals with the line they concern:

* no aliases (``*name``, ``<<: *name``): an alias bomb (each level repeating the one before) is a few
  lines of text that expands into billions of nodes once validated; our files are short enough to write out;
* no duplicate keys: YAML lets the last one silently win, which hides a typo'd second ``feeds:``.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from moverwatch.errors import MoverwatchError
from moverwatch.redact import redact_text

# The C parser when PyYAML was built with libyaml: 4x faster on a 1,000-feed config. Construction (where the
# checks below live) is Python code in both loaders.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses aliases and duplicate keys."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # Without aliases the node graph is a tree, so a node met twice can only be an alias to its anchor.
        if node in self.constructed_objects or node in self.recursive_objects:
            raise ConstructorError(
                None,
                None,
                f"YAML aliases (*name) are not allowed: the value anchored at line {node.start_mark.line + 1} "
                "is used again; write the value out where it is needed",
                node.start_mark,
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        lines: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key",
                    key_node.start_mark,
                )
            if key in mapping:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {lines[key]}); YAML would silently keep only the last",
                    key_node.start_mark,
                )
            lines[key] = key_node.start_mark.line + 1
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


StrictLoader.add_constructor("tag:yaml.org,2002:map", StrictLoader.construct_yaml_map)


def load_yaml_text(text: str) -> Any:
    """Parse YAML text with the strict loader (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=StrictLoader)


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    """``line L, column C: problem`` for a marked error, else the error text."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        context = f" ({exc.context})" if exc.context else ""
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}{context}"
    return str(exc)


def read_yaml(path: Path, what: str, error: type[MoverwatchError]) -> Any:
    """The parsed content of a YAML file; unreadable or invalid files raise `error` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return load_yaml_text(text)
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {describe_yaml_error(exc)}") from None
    except RecursionError:
        raise error(f"{what} {path} is nested too deeply to read") from None


def describe_validation_error(what: str, source: str, exc: ValidationError) -> str:
    """One line per bad field, as `feeds[0].url: reason`, with friendlier words for the common cases."""
    errors = exc.errors()
    located = [tuple(e["loc"]) for e in errors]
    lines = []
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(o[: len(loc)] == loc and len(o) > len(loc) for o in located):
            continue  # "at least 1 item after validation" only repeats that one of the items was bad
        parts: list[str] = []
        for p in err["loc"]:
            if isinstance(p, int):
                parts[-1:] = [f"{parts[-1]}[{p}]" if parts else f"[{p}]"]
            else:
                parts.append(str(p))
        field = ".".join(parts) or "(top level)"
        msg = redact_text(err["msg"].removeprefix("Value error, "))
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the configuration reference in README.md)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"{field}: {msg}")
    return f"invalid {what} {source}: " + "; ".join(lines)
