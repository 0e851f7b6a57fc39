"""Asia Financial (asiafinancial.com, WordPress ``atf`` theme): article and section-listing pages.

The selectors marked confirmed come from a public scraper of the live site; the rest follow the Magplus
theme the ``atf`` theme takes its ``tt-post*`` classes from, and Yoast's JSON-LD (tests/fixtures/README.md).
Traps the rules below handle:

* related posts further down the main column reuse ``tt-post type-3`` / ``tt-post-date`` ("Feb 21"): the
  article's date is the first match;
* the newsletter box inside the body holds a ``<p>`` (``div.content p`` would read it): removed, and only
  direct ``<p>`` children of the body are read;
* a bare "ALSO SEE:" paragraph starts the list of links that ends the article; an "ALSO SEE: <headline>"
  paragraph inside the body is a cross-link, left out;
* the "– Reuters, with additional editing by …" line is the credit, not article text;
* the visible date has no time: the exact one comes from JSON-LD or ``article:published_time``, when present.
"""

from __future__ import annotations

from scrapers.sites.base import SiteSpec

SITE = SiteSpec(
    name="asiafinancial",
    hosts=("www.asiafinancial.com", "asiafinancial.com"),
    scope="div.col-md-8",  # confirmed
    headline="div.reports-big-head h1.reports-big-head",  # confirmed
    date="div.tt-post.type-3 div.tt-post-label span.tt-post-date",  # confirmed; the first one
    date_formats=("%B %d, %Y",),  # confirmed: "February 21, 2025"
    category="div.tt-post-label.tt-post-label-new span.tt-post-cat a",  # confirmed
    standfirst="div.col.post-excerpt p",  # confirmed
    author=".tt-post-byline .tt-post-author-name a",
    tags='ul.tt-tags a[rel~="tag"]',
    image="div.story-big-img img",  # confirmed
    caption="div.story-big-img figcaption",  # confirmed
    body="div.content > p",
    drop=("div.af-inline-newsletter", "div.ad-slot"),
    stop=r"^ALSO SEE:?$",
    skip=r"^ALSO SEE\b",
    credit=r"^[–—-]\s*\S.*\b(?:Reuters|AFP|Bloomberg|AP|editing by|reporting by)\b",
    post_id=("body", r"postid-(\d+)"),
    listing_item="div.tt-post.has-thumbnail.type-6",
    listing_link="div.tt-post-info a.tt-post-title.c-h5",  # confirmed for the /insights/ listing
    listing_title="small",
    listing_date="span.tt-post-date",
    listing_post_id=r"post-(\d+)",
)
