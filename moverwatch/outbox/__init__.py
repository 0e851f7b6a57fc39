"""The outbox: messages waiting for a channel (alerts and notices), sent, acknowledged per channel, retried.

Claiming an event and enqueuing its alerts is one atomic step in the state store (``moverwatch.state``);
``deliver`` sends what is due, acks each channel separately, backs off on failure and parks the hopeless
as dead letters. Nothing is marked sent until a channel accepted it.
"""

from moverwatch.outbox.deliver import DeliveryReport, deliver, retry_delay

__all__ = ["DeliveryReport", "deliver", "retry_delay"]
