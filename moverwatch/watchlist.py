"""Load and validate the watchlist file (format: LABELING.md §2.1, sample: data/watchlist.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from moverwatch.errors import WatchlistError
from moverwatch.yamlfile import describe_validation_error, read_yaml


class Ticker(BaseModel):
    """One watched symbol and the aliases that mention it."""

    # allow_inf_nan=False: YAML reads `.inf` / `.nan` as floats; a threshold must be a real number.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    symbol: str = Field(min_length=1)
    names: tuple[str, ...] = Field(min_length=1)
    kind: Literal["stock", "index"] = "stock"
    threshold_pct: float | None = Field(default=None, gt=0)
    case_sensitive: bool = False
    exclude: tuple[str, ...] = ()
    # Apprise tags of the channels this ticker's alerts go to; empty = every channel.
    tags: tuple[str, ...] = ()
    # IANA zone of the main listing, used to show the exchange's local time in alerts.
    timezone: str | None = None

    @field_validator("symbol", mode="before")
    @classmethod
    def _symbol_as_text(cls, v: Any) -> Any:
        # YAML turns an unquoted 700 into an int; a symbol is always text.
        return str(v) if isinstance(v, int | float) else v

    @field_validator("names", "exclude", mode="before")
    @classmethod
    def _names_as_text(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple(str(x) if isinstance(x, int | float) and not isinstance(x, bool) else x for x in v)
        return v

    @field_validator("symbol")
    @classmethod
    def _symbol_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @field_validator("names", "exclude")
    @classmethod
    def _no_blank_phrase(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        # An empty alias would match everywhere (or nowhere, depending on the matcher): never what was meant.
        blank = [i for i, name in enumerate(v) if not name.strip()]
        if blank:
            raise ValueError(f"entry {blank[0]} is empty or blank; remove it")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r}; use an IANA name such as Asia/Hong_Kong or America/New_York"
            ) from None
        return v


class Watchlist(BaseModel):
    """The set of watched tickers with the default threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    default_threshold_pct: float = Field(default=5.0, gt=0)
    tickers: tuple[Ticker, ...] = Field(min_length=1)
    # Feeds generated for every ticker from the source catalogue (moverwatch/data/sources.yaml), so adding a
    # ticker is enough to follow it.
    per_ticker_feeds: tuple[Literal["yahoo", "google-news"], ...] = ()

    @model_validator(mode="after")
    def _unique_symbols(self) -> Watchlist:
        seen: set[str] = set()
        for t in self.tickers:
            if t.symbol in seen:
                raise ValueError(f"symbol {t.symbol!r} appears twice")
            seen.add(t.symbol)
        return self

    def threshold(self, ticker: Ticker) -> float:
        """The big-move threshold of a ticker (its own, else the default)."""
        return ticker.threshold_pct if ticker.threshold_pct is not None else self.default_threshold_pct

    def timezones(self) -> dict[str, str]:
        """Exchange time zones by symbol, for tickers that name one."""
        return {t.symbol: t.timezone for t in self.tickers if t.timezone}

    def by_symbol(self) -> dict[str, Ticker]:
        """Tickers keyed by symbol."""
        return {t.symbol: t for t in self.tickers}


def parse_watchlist(data: Any, source: str = "<inline>") -> Watchlist:
    """Validate an already-loaded watchlist mapping; errors name the entry and field."""
    if not isinstance(data, dict):
        raise WatchlistError(
            f"invalid watchlist {source}: expected a mapping with 'tickers', got {type(data).__name__}"
        )
    try:
        return Watchlist.model_validate(data)
    except ValidationError as exc:
        raise WatchlistError(describe_validation_error("watchlist", source, exc)) from None


def load_watchlist(path: str | Path) -> Watchlist:
    """Read a watchlist YAML file."""
    p = Path(path)
    data = read_yaml(p, "watchlist", WatchlistError)
    return parse_watchlist(data, str(p))
