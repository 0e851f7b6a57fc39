"""Load and validate the one YAML settings file; the only place that reads the environment.

Every option and its default lives in `Settings` below (the README's configuration table mirrors it).
With no file given, the bundled demo config runs: sample feeds shipped with the package, the sample
watchlist, console alerts and a local SQLite state file.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from moverwatch.errors import ConfigError
from moverwatch.models import DEFAULT_USER_AGENT, SAMPLE_SCHEME
from moverwatch.redact import remember_secrets
from moverwatch.watchlist import Watchlist, load_watchlist, parse_watchlist
from moverwatch.yamlfile import describe_validation_error, load_yaml_text, read_yaml

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# ~550 years: far beyond any sensible setting (tests use 100000d as "forever"), and `now - max_age` stays a
# valid date, where `.inf` or 1e300 would overflow timedelta or datetime arithmetic with a traceback.
_MAX_DURATION_S = 200_000 * 86400


def _parse_duration(v: Any, allow_zero: bool = False) -> Any:
    """Accept 90, "90s", "5m", "24h", "2d"; bare numbers are seconds. Positive (or zero where allowed),
    finite and at most 200000d."""
    if isinstance(v, timedelta):
        seconds = v.total_seconds()
    elif isinstance(v, bool):
        raise ValueError(f"{v!r} is not a duration (use e.g. 90s, 5m, 24h, 2d)")
    elif isinstance(v, int | float):
        seconds = float(v)
    elif isinstance(v, str):
        m = _DURATION.match(v)
        if not m:
            raise ValueError(f"{v!r} is not a duration (use e.g. 90s, 5m, 24h, 2d)")
        seconds = float(m.group(1)) * _UNIT_S[(m.group(2) or "s").lower()]
    else:
        raise ValueError(f"{v!r} is not a duration (use e.g. 90s, 5m, 24h, 2d)")
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"{v!r} must be a positive duration (e.g. 90s, 5m, 24h, 2d)")
    if seconds > _MAX_DURATION_S:
        raise ValueError(f"{v!r} is too long; use at most 200000d")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
# Zero is meaningful for a few settings ("at once"), never negative.
ZeroOrMoreDuration = Annotated[timedelta, BeforeValidator(lambda v: _parse_duration(v, allow_zero=True))]


def _check_host_and_port(url: str) -> str:
    """``url`` if it names a host and, when it has one, a valid port; else a ValueError saying which."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range 0-65535", a bad IPv6 literal, ...
        raise ValueError(f"{url!r} is not a valid URL ({exc})") from None
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host name")
    if port == 0:
        raise ValueError(f"{url!r} has port 0; give a port between 1 and 65535")
    return url


NonBlank = Annotated[str, AfterValidator(lambda v: _non_blank(v))]


def _non_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or blank")
    return v


class _Strict(BaseModel):
    # allow_inf_nan=False: YAML reads `.inf` and `.nan` as floats; no number here may be either.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FeedConfig(_Strict):
    """One feed to poll."""

    name: NonBlank
    url: str = Field(min_length=1)
    site: str | None = None
    user_agent: str | None = None
    interval: Duration | None = None  # default: the schedule interval

    @field_validator("url")
    @classmethod
    def _http_or_sample(cls, v: str) -> str:
        if v.startswith(SAMPLE_SCHEME):
            if not v.removeprefix(SAMPLE_SCHEME).strip():
                raise ValueError(f"{v!r} names no sample file")
            return v
        if not v.lower().startswith(("http://", "https://")):
            raise ValueError(f"{v!r} must be an http(s) URL (or {SAMPLE_SCHEME}<file> for a bundled sample)")
        if any(c.isspace() for c in v):
            raise ValueError(f"{v!r} contains white space; percent-encode it (%20)")
        return _check_host_and_port(v)


class ChannelConfig(_Strict):
    """One Apprise destination. The URL may hold secrets: it is never logged unredacted.

    Give the URL itself (``${ENV}`` interpolated) or the name of a Prefect Secret block holding it
    (``secret_block``; resolved by the flow layer, since the core does not import Prefect).
    """

    url: str = ""
    secret_block: str | None = None
    tags: tuple[str, ...] = ()
    name: str | None = None

    _source: str | None = PrivateAttr(default=None)  # the config file it came from, for error messages

    @property
    def source(self) -> str | None:
        """The config file this channel was read from (None when built in code)."""
        return self._source

    @model_validator(mode="after")
    def _url_or_block(self) -> ChannelConfig:
        if bool(self.url) == bool(self.secret_block):
            raise ValueError("give exactly one of url or secret_block")
        return self


class DedupConfig(_Strict):
    window: Duration = timedelta(hours=12)
    escalate_points: float = Field(default=5.0, gt=0)
    max_escalations: int = Field(default=3, ge=0)  # escalation alerts per event, at most
    item_ttl: Duration = timedelta(days=14)


class DeliveryConfig(_Strict):
    max_attempts: int = Field(default=8, ge=1)
    backoff: Duration = timedelta(minutes=1)  # first retry delay; doubles per attempt
    backoff_cap: Duration = timedelta(hours=1)
    per_channel_per_minute: int = Field(default=20, ge=1)
    # A worker holding a delivery longer is presumed dead (0: at once, which tests use to simulate a crash).
    claim_timeout: ZeroOrMoreDuration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=10)  # per send: connect and read timeout of the channel request
    # An alert waiting longer in the outbox (a long channel outage) is parked, not sent as fresh news.
    max_delay: Duration = timedelta(hours=6)


class FetchConfig(_Strict):
    timeout: Duration = timedelta(seconds=15)
    max_bytes: int = Field(default=5_000_000, gt=0)
    concurrency: int = Field(default=32, ge=1)
    per_host: int = Field(default=4, ge=1)
    user_agent: str = DEFAULT_USER_AGENT
    feed_down_after: Duration = timedelta(hours=1)
    parse_pool_min: int = Field(default=32, ge=1)  # parse in a process pool when this many feeds are polled


class ScrapeConfig(_Strict):
    """Article pages fetched when a feed item's text is too thin to decide (a move with no size, no summary)."""

    enabled: bool = True
    paragraphs: int = Field(default=3, ge=1)  # the standfirst and this many paragraphs go to the detector
    max_bytes: int = Field(default=2_000_000, gt=0)  # page size cap
    timeout: Duration = timedelta(seconds=10)
    robots_ttl: Duration = timedelta(hours=6)  # how long a host's robots.txt is trusted


class Settings(_Strict):
    """The whole configuration. Paths inside are resolved relative to the config file."""

    feeds: tuple[FeedConfig, ...] = ()
    # Catalogue sources by name (`moverwatch sources` lists them); their feeds join `feeds`.
    sources: tuple[str, ...] = ()
    # Test setting: the catalogue's and per-ticker feeds' hosts rewritten to this base (a loopback server).
    sources_base_url: str | None = None
    scrape: ScrapeConfig = ScrapeConfig()
    watchlist: str | dict[str, Any]
    channels: tuple[ChannelConfig, ...] = ()
    state: str = "sqlite:///moverwatch-state.db"
    redis_prefix: str = "mw:"
    schedule: Duration = timedelta(minutes=5)
    max_age: Duration = timedelta(hours=24)
    dedup: DedupConfig = DedupConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    fetch: FetchConfig = FetchConfig()
    # A shared (Redis) store found wiped since this machine last used it: mark what the feeds hold as seen
    # without alerting ("reseed"), or alert on it again ("alert").
    on_state_loss: Literal["reseed", "alert"] = "reseed"
    # Where this machine remembers the generation of each Redis store it used (to notice a wiped store).
    cache_dir: str = "~/.cache/moverwatch"

    # Where the settings came from, given to validation as context (never keys of the file): the config
    # file's folder (relative paths resolve against it), its name, and the values interpolated from ${VAR}.
    _base_dir: Path = PrivateAttr(default=Path("."))
    _secrets: frozenset[str] = PrivateAttr(default=frozenset())
    _source: str = PrivateAttr(default="(config)")

    @model_validator(mode="after")
    def _take_context(self, info: ValidationInfo) -> Settings:
        ctx = info.context if isinstance(info.context, dict) else {}
        self._base_dir = Path(ctx.get("base_dir", "."))
        self._source = str(ctx.get("source", "(config)"))
        self._secrets = frozenset(s for s in ctx.get("secrets", ()) if s)
        for channel in self.channels:
            channel._source = self._source
        return self

    @field_validator("state")
    @classmethod
    def _state_url(cls, v: str) -> str:
        if not v.startswith(("redis://", "rediss://", "unix://", "sqlite:///")):
            raise ValueError(f"{v!r} must start with redis://, rediss:// or sqlite:///")
        if v.startswith("sqlite:///") and not v.removeprefix("sqlite:///").strip():
            raise ValueError(f"{v!r} names no database file (e.g. sqlite:///moverwatch-state.db)")
        if v.startswith(("redis://", "rediss://")):
            _check_host_and_port(v)
        return v

    @model_validator(mode="after")
    def _backoff_within_cap(self) -> Settings:
        if self.delivery.backoff > self.delivery.backoff_cap:
            raise ValueError("delivery.backoff must not be longer than delivery.backoff_cap")
        return self

    @model_validator(mode="after")
    def _unique_feed_names(self) -> Settings:
        counts = Counter(f.name for f in self.feeds)
        dupes = sorted(n for n, c in counts.items() if c > 1)
        if dupes:
            raise ValueError(f"feed names must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def secrets(self) -> frozenset[str]:
        """Every value that came from ``${VAR}`` interpolation: always treated as secret by the redactor."""
        return self._secrets

    def expanded(self, watchlist: Watchlist) -> Settings:
        """The settings with every feed spelled out: `feeds`, then the named `sources`, then the watchlist's
        per-ticker feeds. No feed at all is a ConfigError."""
        from moverwatch.sources import combine_feeds

        feeds = combine_feeds(
            [f.model_dump(exclude_none=True) for f in self.feeds],
            self.sources,
            watchlist.per_ticker_feeds,
            watchlist.tickers,
            base_url=self.sources_base_url,
        )
        if not feeds:
            raise ConfigError(
                f"invalid config {self._source}: no feeds: give feeds, sources, or per_ticker_feeds in the watchlist"
            )
        try:
            validated = tuple(FeedConfig.model_validate(f) for f in feeds)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error("config", self._source, exc)) from None
        return self.model_copy(update={"feeds": validated})

    def load_watchlist(self) -> Watchlist:
        """Read and validate the watchlist (a path relative to the config file, or inline); once per run."""
        if isinstance(self.watchlist, dict):
            return parse_watchlist(self.watchlist, f"{self._source} (inline watchlist)")
        return load_watchlist(self.resolve(self.watchlist))

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self._base_dir / p

    def with_channels(self, channels: tuple[ChannelConfig, ...]) -> Settings:
        """A copy with other channels (secret blocks resolved); keeps where the settings came from."""
        return self.model_copy(update={"channels": channels})

    def state_url(self) -> str:
        """The state URL with a relative SQLite path resolved against the config file's folder."""
        if self.state.startswith("sqlite:///"):
            return "sqlite:///" + str(self.resolve(self.state.removeprefix("sqlite:///")))
        return self.state


def _interpolate(value: Any, where: str, secrets: set[str]) -> Any:
    """Replace ${VAR} in strings with the environment's value, adding each value to ``secrets``; a missing
    variable is a clear error."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            secrets.add(os.environ[name])
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, list):
        return [_interpolate(v, f"{where}[{i}]", secrets) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{where}.{k}", secrets) for k, v in value.items()}
    return value


def parse_settings(data: Any, source: str, base_dir: Path) -> Settings:
    """Validate a loaded config mapping; errors name the field and the reason."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"invalid config {source}: expected a mapping of settings, got {type(data).__name__}"
        )
    secrets: set[str] = set()
    data = _interpolate(data, source, secrets)
    # Registered before validation: a validation error may quote an interpolated value.
    remember_secrets(secrets)
    try:
        settings = Settings.model_validate(
            data, context={"base_dir": base_dir, "source": source, "secrets": secrets}
        )
    except ValidationError as exc:
        raise ConfigError(describe_validation_error("config", source, exc)) from None
    if not settings.feeds and not settings.sources and not settings.load_watchlist().per_ticker_feeds:
        raise ConfigError(
            f"invalid config {source}: feeds: required field is missing "
            "(or name catalogue sources, or set per_ticker_feeds in the watchlist)"
        )
    return settings


def load_settings(path: str | Path | None = None) -> Settings:
    """Load the config file, or the bundled demo config when no path is given."""
    if path is None:
        demo = resources.files("moverwatch") / "data" / "demo.yaml"
        data = load_yaml_text(demo.read_text(encoding="utf-8"))
        # The demo reads the bundled watchlist and keeps its state in the current folder, so a second run
        # sees the first run's state.
        data["watchlist"] = str(resources.files("moverwatch") / "data" / "watchlist.yaml")
        return parse_settings(data, "(bundled demo config)", Path.cwd())
    p = Path(path)
    data = read_yaml(p, "config", ConfigError)
    return parse_settings(data, str(p), p.resolve().parent)
