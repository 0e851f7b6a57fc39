"""Notify stage: render an alert per channel kind (``render``) and send it through Apprise (``notifier``)."""

from moverwatch.notify.notifier import CONSOLE, Channel, ChannelKind, Notifier

__all__ = ["CONSOLE", "Channel", "ChannelKind", "Notifier"]
