"""Secret redaction: the parts of channel and feed URLs that are secrets become ``****`` in any text.

Three sources of secrets, one replacement:

* channel (Apprise) URLs: userinfo, query values, path segments and a host that is not a host name
  (Telegram bot tokens, Pushover keys, ntfy topics sit in the host position) are all secret (``Redactor``);
* any URL shown or logged, feed URLs included: userinfo and secret-looking query values (``redact_url``);
* every value the config interpolated from ``${VAR}``, wherever it appears (``remember_secrets``): the
  README tells users to put secrets in variables, so what came from one is secret in any position.

One process-wide logging filter per logger that can see a URL (``URL_LOGGERS``), fed by every redactor built
and always applying the two rules above, so secrets never reach a log line whichever library writes it.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import os
import pkgutil
import re
import threading
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "URL_LOGGERS",
    "Redactor",
    "protect_url_loggers",
    "redact_logger",
    "redact_text",
    "redact_url",
    "remember_secrets",
]

MASK = "****"

# Loggers of the libraries that see our URLs: Apprise (webhook URLs), requests/urllib3 (Apprise's HTTP; urllib3
# logs request paths at DEBUG), aiohttp (feed fetching), httpx/httpcore (Prefect's client; httpx logs every
# request URL at INFO).
URL_LOGGERS = ("apprise", "urllib3", "requests", "aiohttp", "httpx", "httpcore")

# Query keys whose values are secrets in any URL (api_key, access_token, X-Amz-Signature, sig, ...).
_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:token|key|apikey|secret|password|passwd|pass|pwd|auth|authorization|signature|sig|"
    r"session|sessionid|sid|credential|credentials|private|code|hash)(?:$|[_\-.])|token|secret|passw|apikey",
    re.IGNORECASE,
)
# Query keys that never hold secrets in Apprise URLs (a recipient, a format): kept readable.
_PLAIN_CHANNEL_KEYS = frozenset({"to", "from", "mode", "format", "blocks", "smtp", "port", "name"})
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s'\"<>`]+")
# A value that looks generated rather than written: mixed-case letters and digits, or long hex.
_TOKENISH = re.compile(r"^(?:(?=.*\d)(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9_\-+/=.~%]{20,}|[0-9a-fA-F]{32,})$")

_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()


def _pattern_of(secrets: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first so a token is not half-replaced by one of its parts; 4+ characters so a "1" or "on"
    # from a ${VAR} does not mask every digit of a log line.
    usable = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in usable)) if usable else None


def remember_secrets(values: Iterable[str]) -> None:
    """Treat each value (and its URL-encoded form) as secret in every later redaction in this process."""
    global _known_pattern
    new: set[str] = set()
    for v in values:
        if v:
            new.update({v, unquote(v)})
    with _lock:
        if new - _known:
            _known.update(new)
            _known_pattern = _pattern_of(_known)
    protect_url_loggers()


def _mask_known(text: str, extra: re.Pattern[str] | None = None) -> str:
    if extra is not None:
        text = extra.sub(MASK, text)
    pattern = _known_pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def _secret_value(key: str, value: str) -> bool:
    if not value:
        return False
    return bool(_SECRET_KEY.search(unquote(key))) or bool(_TOKENISH.match(unquote(value)))


def redact_url(url: str) -> str:
    """``url`` with its userinfo, secret-looking query values and any remembered secret masked.

    The rest (scheme, host, port, path, plain parameters) stays as written, so the URL remains recognisable
    in a log line or a health table: ``https://****@feeds.example.com/rss?region=HK&token=****``.
    """
    text = url
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.netloc:
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
        query = "&".join(_redact_param(p) for p in parts.query.split("&")) if parts.query else ""
        fragment = parts.fragment
        text = f"{parts.scheme}://{netloc}{parts.path}"
        if query or url.find("?") != -1:
            text += "?" + query
        if fragment or "#" in url:
            text += "#" + fragment
    else:
        text = re.sub(r"(://)[^/@\s]+@", r"\1" + MASK + "@", url)
    return _mask_known(text)


def _redact_param(param: str) -> str:
    key, sep, value = param.partition("=")
    return f"{key}{sep}{MASK}" if sep and _secret_value(key, value) else param


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through ``redact_url`` and every remembered secret masked."""
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _mask_known(text)


def _looks_like_host(host: str) -> bool:
    """A real host name or address (``smtp.example.com``, ``127.0.0.1``, ``localhost``), not a token."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return len(labels) >= 2 and all(labels) and labels[-1].isalpha()


class Redactor:
    """Replaces every secret part of the channel URLs with ``****`` in any text (and applies
    ``redact_text``: URLs in the text are redacted, remembered ``${VAR}`` values masked)."""

    def __init__(self, urls: Sequence[str], secrets: Iterable[str] = ()) -> None:
        found: set[str] = {s for s in secrets if s}
        for url in urls:
            found.update(_channel_secrets(url))
        found |= {unquote(s) for s in found}
        self._pattern = _pattern_of(found)

    @property
    def key(self) -> str:
        return self._pattern.pattern if self._pattern else ""

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return redact_text(text)


def _channel_secrets(url: str) -> set[str]:
    secrets: set[str] = set()
    scheme, sep, rest = url.partition("://")
    if not sep:
        return secrets
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        secrets.update(p for p in re.split(r"[:@]", userinfo) if p)
        secrets.add(userinfo)
    # The host position holds tokens in many Apprise schemes (tgram://BOTID:TOKEN/chat, pover://user@TOKEN,
    # ntfy://topic, discord://id/token): whatever is not a host name there is secret, a ":TOKEN" "port" too.
    host, colon, port = hostport.partition(":")
    if hostport.startswith("["):  # an IPv6 literal
        host, _, port = hostport.partition("]")
        host, port = host + "]", port.removeprefix(":")
    if host and not _looks_like_host(host):
        secrets.update({host, hostport})
    if colon and port and not port.isdigit():
        secrets.update({port, hostport})
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    path = parts.path if parts is not None else rest[len(netloc) :]
    # Webhook tokens live in the path (Slack: /T…/B…/token) and sometimes the query.
    for seg in path.split("/"):
        if len(seg) >= 8 and not seg.replace(".", "").replace(":", "").isdigit():
            secrets.add(seg)
    for key, value in parse_qsl(parts.query if parts is not None else ""):
        if key.lower() not in _PLAIN_CHANNEL_KEYS and len(value) >= 6:
            secrets.add(value)
    return secrets


class _RedactingFilter(logging.Filter):
    """One filter per logger for the whole process, fed by every redactor built.

    Redactors are keyed by their pattern, so a service that builds a Notifier every cycle does not stack up
    filters. Every record also gets ``redact_text`` (URLs and remembered secrets), message and traceback.
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: dict[str, Redactor] = {}

    def add(self, redact: Redactor | None) -> None:
        if redact is not None:
            self._redactors.setdefault(redact.key, redact)

    def redact(self, text: str) -> str:
        for redact in list(self._redactors.values()):
            text = redact(text)
        return redact_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as logging does
            return True
        record.msg, record.args = self.redact(msg), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_FILTERS: dict[str, _RedactingFilter] = {}


def _filter_for(name: str) -> _RedactingFilter:
    filt = _FILTERS.get(name)
    if filt is None:
        filt = _FILTERS[name] = _RedactingFilter()
        logging.getLogger(name).addFilter(filt)
    return filt


# Loggers named other than by module (`logging.getLogger("httpcore.http11")`), created when first used.
_NAMED_CHILDREN = {"httpcore": ("connection", "http11", "http2", "proxy", "socks")}


def _module_names(package: str) -> list[str]:
    """Every module name inside an installed package, found on disk without importing any of them."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    names: list[str] = []
    todo = [(package, list(spec.submodule_search_locations))]
    while todo:
        prefix, paths = todo.pop()
        for info in pkgutil.iter_modules(paths):
            name = f"{prefix}.{info.name}"
            names.append(name)
            if info.ispkg:
                todo.append((name, [os.path.join(p, info.name) for p in paths]))
    return names


def redact_logger(name: str, redact: Redactor | None = None) -> None:
    """Redact ``redact``'s secrets (and URLs, and remembered secrets) in every record of logger ``name`` and of
    every logger below it.

    A logger's filters do not see its children's records (``urllib3.connectionpool`` is the one that logs
    request paths), so the filter goes on each child too: the ones that exist, and, created now so the
    library finds them with the filter already on, one per module of the package and its named loggers.
    """
    if name not in _FILTERS:
        names = {n for n in list(logging.Logger.manager.loggerDict) if n.startswith(name + ".")}
        names.update(_module_names(name))
        names.update(f"{name}.{child}" for child in _NAMED_CHILDREN.get(name, ()))
        for n in sorted(names):
            _filter_for(n)
        _filter_for(name)
    prefix = name + "."
    for n, filt in list(_FILTERS.items()):
        if n == name or n.startswith(prefix):
            filt.add(redact)


def protect_url_loggers(redact: Redactor | None = None) -> None:
    """``redact_logger`` on every logger in ``URL_LOGGERS``."""
    for name in URL_LOGGERS:
        redact_logger(name, redact)
