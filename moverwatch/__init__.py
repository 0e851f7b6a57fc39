"""moverwatch: big-move news on watched tickers, from feeds to one alert per move.

Data flow: scrapers.fetch → scrapers.parse → moverwatch.detect → moverwatch.dedup → moverwatch.outbox →
moverwatch.notify. ``flows/`` orchestrates these stages with Prefect; nothing in this package imports Prefect.
"""

__version__ = "0.1.0"
