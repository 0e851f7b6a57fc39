"""Hostile feeds and servers: entity tricks, compression bombs, internal redirects, and the memory ceiling.

Servers are pytest-httpserver on loopback. A test host name is made "public" through the injectable resolver
(``localhost`` is answered with a documentation-free public address), so no test leaves the machine.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from moverwatch.errors import PermanentFeedError, TransientFeedError
from scrapers.fetch import (
    FeedRequest,
    FetchResult,
    FetchSettings,
    fetch_feeds_sync,
    is_internal_address,
)
from scrapers.parse import parse_feed

REPO = Path(__file__).resolve().parent.parent.parent
FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
FEED = (FEEDS / "asiafinancial.xml").read_bytes()
NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)
AF_FEED = "https://www.asiafinancial.com/feed"
PUBLIC_IP = "93.184.215.14"  # a globally routable address; never connected to


async def localhost_is_public(host: str) -> Sequence[str]:
    """A resolver for which ``localhost`` is a public host and every other name does not exist."""
    if host == "localhost":
        return [PUBLIC_IP]
    raise OSError(f"no such host {host}")


SETTINGS = FetchSettings(timeout_s=10)


def fetch(url: str) -> FetchResult:
    (result,) = fetch_feeds_sync([FeedRequest("hostile", url)], SETTINGS, resolver=localhost_is_public)
    return result


def rss(head: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{head}\n<rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><link>https://example.com/a</link></item></channel></rss>"
    ).encode()


def quadratic_after_doctype(size: int = 80_000) -> bytes:
    """The issue's feed: an entity declared after ``<!DOCTYPE rss>`` (outside any internal subset)."""
    value = "x" * (size // 2)
    return rss(f'<!DOCTYPE rss>\n<!ENTITY a "{value}">', "&a;" * (size // 6))


# ------------------------------------------------------------------------------------------- entities


@pytest.mark.parametrize(
    "head",
    [
        '<!DOCTYPE rss>\n<!ENTITY a "boom">',
        '<!ENTITY a "boom">\n<!DOCTYPE rss>',
        '<!ENTITY a "boom">',
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd">\n  <!ENTITY a "boom">',
        '<!-- a comment -->\n<!entity a "boom">',
    ],
    ids=["after-doctype", "before-doctype", "no-doctype", "after-public-doctype", "lowercase"],
)
def test_entity_declared_anywhere_before_the_root_is_refused(head: str) -> None:
    """An <!ENTITY> before the root element is refused unexpanded, inside a DOCTYPE subset or not."""
    result = parse_feed("hostile", AF_FEED, rss(head, "&a;"), NOW)
    assert isinstance(result.error, PermanentFeedError)
    assert "possible XML bomb" in result.error.reason
    assert result.items == ()


def test_entity_declaration_is_refused_whatever_the_encoding() -> None:
    """UTF-7 and BOM-less UTF-16 hide `<!ENTITY` from a byte scan; the check sees what feedparser decodes."""
    utf7 = (
        b'<?xml version="1.0" encoding="utf-7"?>\n+ADw-!DOCTYPE rss+AD4-\n+ADw-!ENTITY a +ACI-boom+ACI-+AD4-\n'
        b'<rss version="2.0"><channel><title>t</title><item><title>&a;</title>'
        b"<link>https://example.com/a</link></item></channel></rss>"
    )
    utf16 = rss('<!DOCTYPE rss>\n<!ENTITY a "boom">', "&a;").decode().replace("utf-8", "utf-16")
    for body in (utf7, utf16.encode("utf-16-le"), utf16.encode("utf-16-be")):
        result = parse_feed("hostile", AF_FEED, body, NOW)
        assert result.error is not None and "possible XML bomb" in result.error.reason, body[:60]


def test_entity_text_after_the_root_is_content_not_a_declaration() -> None:
    """`<!ENTITY` written inside an item (CDATA) is text: the feed is parsed and the text kept."""
    body = rss("<!DOCTYPE rss>", 'About <![CDATA[<!ENTITY x "y">]]> declarations')
    result = parse_feed("ok", AF_FEED, body, NOW)
    assert result.error is None
    assert [i.title for i in result.items] == ['About <!ENTITY x "y"> declarations']


# ---------------------------------------------------------------------------------------- compression


def test_stacked_content_encoding_is_refused(httpserver: HTTPServer) -> None:
    """`Content-Encoding: gzip, gzip` is refused by name, whatever the body."""
    httpserver.expect_request("/feed").respond_with_data(
        gzip.compress(gzip.compress(FEED)), headers={"Content-Encoding": "gzip, gzip"}
    )
    result = fetch(httpserver.url_for("/feed"))
    assert isinstance(result.error, PermanentFeedError)
    assert "stacked Content-Encoding 'gzip, gzip' refused" in result.error.reason
    assert result.body is None


def test_unknown_content_encoding_is_refused(httpserver: HTTPServer) -> None:
    """A coding we did not offer (br) is refused with its name instead of being parsed as garbage."""
    httpserver.expect_request("/feed").respond_with_data(b"\x8b\x00\x80", headers={"Content-Encoding": "br"})
    result = fetch(httpserver.url_for("/feed"))
    assert isinstance(result.error, PermanentFeedError)
    assert "unsupported Content-Encoding 'br'" in result.error.reason


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("gzip", lambda b: gzip.compress(b[:5000]) + gzip.compress(b[5000:])),  # two gzip members
        ("identity", lambda b: b),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "gzip-members", "identity"],
)
def test_single_encodings_decode_to_the_feed(httpserver: HTTPServer, coding: str, encode: object) -> None:
    """Every coding we accept decodes to exactly the feed bytes, and we only offer what we decode."""
    assert callable(encode)
    httpserver.expect_request("/feed").respond_with_data(encode(FEED), headers={"Content-Encoding": coding})
    result = fetch(httpserver.url_for("/feed"))
    assert result.error is None and result.body == FEED
    assert httpserver.log[-1][0].headers["Accept-Encoding"] == "gzip, deflate"


def test_corrupt_gzip_is_a_transient_error(httpserver: HTTPServer) -> None:
    """A corrupt gzip body (a truncated transfer, say) is reported as such and retried."""
    httpserver.expect_request("/feed").respond_with_data(
        b"\x1f\x8b\x08\x00garbage-garbage", headers={"Content-Encoding": "gzip"}
    )
    result = fetch(httpserver.url_for("/feed"))
    assert isinstance(result.error, TransientFeedError)
    assert "corrupt gzip body" in result.error.reason


# ------------------------------------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"]
    + ["::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1"],
)
def test_internal_addresses_are_recognised(address: str) -> None:
    """Loopback, private, link-local (cloud metadata), CGNAT, unspecified, mapped and multicast are internal."""
    assert is_internal_address(address)


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_not_internal(address: str) -> None:
    """Globally routable unicast addresses are public."""
    assert not is_internal_address(address)


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/internal", "http://[::ffff:127.0.0.1]:{port}/internal"]
)
def test_redirect_from_a_public_host_to_an_internal_address_is_refused(
    httpserver: HTTPServer, target: str
) -> None:
    """A public feed redirecting to loopback is refused before the internal URL is requested."""
    location = target.format(port=httpserver.port)
    httpserver.expect_request("/feed").respond_with_data("", status=302, headers={"Location": location})
    httpserver.expect_request("/internal").respond_with_data(FEED)
    result = fetch(f"http://localhost:{httpserver.port}/feed")
    assert isinstance(result.error, PermanentFeedError)
    assert "redirect from public host localhost to internal address" in result.error.reason
    assert result.body is None
    assert [r.path for r, _ in httpserver.log] == ["/feed"]  # the internal URL was never asked


def test_redirect_within_a_public_host_is_followed(httpserver: HTTPServer) -> None:
    """A public host redirecting to itself is followed (no lookup can make a hop cross the boundary)."""
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(FEED)
    result = fetch(f"http://localhost:{httpserver.port}/old")
    assert result.error is None and result.body == FEED
    assert result.moved_to == f"http://localhost:{httpserver.port}/new"


def test_configured_internal_feed_may_redirect_internally(httpserver: HTTPServer) -> None:
    """A feed the user configured on an internal address keeps working through internal redirects."""
    httpserver.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{httpserver.port}/x"}
    )
    httpserver.expect_request("/x").respond_with_data(FEED)

    async def all_internal(host: str) -> Sequence[str]:
        return ["127.0.0.1"]

    (result,) = fetch_feeds_sync(
        [FeedRequest("lan", httpserver.url_for("/feed"))], SETTINGS, resolver=all_internal
    )
    assert result.error is None and result.body == FEED


def test_remembered_redirect_target_is_checked_against_the_configured_url(httpserver: HTTPServer) -> None:
    """A stored 301 target polled instead of the configured public URL is refused once it is internal."""
    httpserver.expect_request("/moved").respond_with_data(FEED)
    request = FeedRequest(
        "hostile",
        f"http://127.0.0.1:{httpserver.port}/moved",
        config_url=f"http://localhost:{httpserver.port}/feed",
    )
    (result,) = fetch_feeds_sync([request], SETTINGS, resolver=localhost_is_public)
    assert isinstance(result.error, PermanentFeedError)
    assert "redirect from public host localhost to internal address 127.0.0.1" in result.error.reason
    assert httpserver.log == []


def test_redirect_to_a_host_that_does_not_resolve_is_refused(httpserver: HTTPServer) -> None:
    """A redirect target our resolver cannot place on either side of the boundary is not requested."""
    httpserver.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": "http://nowhere.invalid/feed"}
    )
    result = fetch(f"http://localhost:{httpserver.port}/feed")
    assert isinstance(result.error, TransientFeedError)  # DNS may be back on the next poll
    assert "'nowhere.invalid' does not resolve" in result.error.reason
    assert [r.path for r, _ in httpserver.log] == ["/feed"]


def test_redirect_target_that_rebinds_to_an_internal_address_is_not_connected(httpserver: HTTPServer) -> None:
    """DNS rebinding: a redirect target found public by the check, but internal when connected, is refused.

    This machine's own host name stands in for the rebinding name: the injected resolver (the check) calls
    it public, the system resolver (the connection) gives a loopback or private address.
    """
    name = socket.gethostname()
    try:
        system = {info[4][0] for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"this machine's host name {name!r} does not resolve")
    if not all(is_internal_address(a) for a in system):
        pytest.skip(f"{name!r} resolves to a public address here")
    httpserver.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": f"http://{name}:{httpserver.port}/secret"}
    )
    httpserver.expect_request("/secret").respond_with_data(FEED)

    async def rebinding(host: str) -> Sequence[str]:
        if host in ("localhost", name):
            return [PUBLIC_IP]
        raise OSError(f"no such host {host}")

    (result,) = fetch_feeds_sync(
        [FeedRequest("hostile", f"http://localhost:{httpserver.port}/feed")], SETTINGS, resolver=rebinding
    )
    assert isinstance(result.error, TransientFeedError)
    assert "resolves to internal addresses only" in result.error.reason
    assert [r.path for r, _ in httpserver.log] == ["/feed"]  # /secret was never requested


def test_redirect_loop_is_cut(httpserver: HTTPServer) -> None:
    """A redirect loop ends after ten hops with a clear error."""
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    result = fetch(httpserver.url_for("/loop"))
    assert isinstance(result.error, PermanentFeedError) and "too many redirects" in result.error.reason
    assert len(httpserver.log) == 11


# ------------------------------------------------------------------------------------ the memory ceiling

# Runs in a fresh interpreter: fetch one URL, parse what came back, report the error and the peak RSS.
# RLIMIT_AS is only a safety net so a regression fails fast instead of swapping the machine.
_CYCLE_SCRIPT = """
import json, resource, sys
from datetime import UTC, datetime
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from scrapers.fetch import FeedRequest, FetchSettings, fetch_feeds_sync
from scrapers.parse import parse_feed
async def public(host):
    return ["93.184.215.14"]
(r,) = fetch_feeds_sync([FeedRequest("hostile", sys.argv[1])], FetchSettings(timeout_s=60), resolver=public)
error = r.error
if error is None:
    error = parse_feed("hostile", r.final_url, r.body, datetime.now(UTC)).error
print(json.dumps({"error": type(error).__name__, "reason": error and error.reason,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
PEAK_RSS_MB = 400


def _zeros_gzip(n_bytes: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    return b"".join(z.compress(block) for _ in range(n_bytes >> 20)) + z.flush()


@pytest.fixture(scope="module")
def hostile_bodies() -> dict[str, tuple[bytes, dict[str, str], str]]:
    """name -> (body, headers, expected reason fragment)."""
    inner = _zeros_gzip(2 << 30)  # 2 GiB of zeros, ~2 MB compressed
    bomb = (FEEDS / "broken" / "billion_laughs.xml").read_bytes()
    return {
        "entity-after-doctype-80k": (quadratic_after_doctype(80_000), {}, "possible XML bomb"),
        "entity-after-doctype-260k": (quadratic_after_doctype(260_000), {}, "possible XML bomb"),
        "billion-laughs": (bomb, {}, "possible XML bomb"),
        "billion-laughs-utf16": (
            bomb.decode().replace('encoding="UTF-8"', "").encode("utf-16"),
            {},
            "possible XML bomb",
        ),
        "gzip-gzip": (gzip.compress(inner), {"Content-Encoding": "gzip, gzip"}, "stacked Content-Encoding"),
        "gzip-bomb": (inner, {"Content-Encoding": "gzip"}, "response larger than"),
    }


@pytest.fixture(scope="module")
def hostile_server(hostile_bodies: dict[str, tuple[bytes, dict[str, str], str]]) -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    for name, (body, headers, _) in hostile_bodies.items():
        server.expect_request(f"/{name}").respond_with_data(body, headers=headers)
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize(
    "name",
    [
        "entity-after-doctype-80k",
        "entity-after-doctype-260k",
        "billion-laughs",
        "billion-laughs-utf16",
        "gzip-gzip",
        "gzip-bomb",
    ],
)
def test_no_hostile_feed_drives_fetch_and_parse_past_the_memory_ceiling(
    hostile_server: HTTPServer, hostile_bodies: dict[str, tuple[bytes, dict[str, str], str]], name: str
) -> None:
    """Fetch + parse of each hostile body, served on loopback, peaks under 400 MB RSS and names the refusal."""
    proc = subprocess.run(
        [sys.executable, "-c", _CYCLE_SCRIPT, hostile_server.url_for(f"/{name}")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["peak_mb"] < PEAK_RSS_MB, out
    assert out["error"] in {"PermanentFeedError"}, out
    assert hostile_bodies[name][2] in out["reason"], out
