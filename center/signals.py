"""Signals the center app sends to apps that build on it (which it must not import)."""

from django.dispatch import Signal

# Sent by services.service_item_update inside its transaction when the center's
# price of an item goes down: item, old_price. Receivers keep their own prices
# in step (volunteers: merchant offers never above the center's price).
center_price_lowered = Signal()
