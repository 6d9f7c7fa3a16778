"""Reactions to the center app's signals (connected in VolunteersConfig.ready)."""

from django.dispatch import receiver

from center.audit import audit
from center.signals import center_price_lowered

from .models import MerchantOffer


@receiver(center_price_lowered, dispatch_uid="volunteers.cap_merchant_offers")
def cap_merchant_offers(sender, item, old_price, actor=None, **kwargs):
    """A merchant's price is never above the center's: when the center lowers
    an item's price, offers above it come down to it (same transaction)."""
    above = MerchantOffer.objects.filter(item=item, price__gt=item.center_price)
    merchants = list(above.values_list("merchant_id", flat=True))
    if merchants:
        above.update(price=item.center_price)
        audit(
            actor=actor,
            action="volunteers.merchant.offers_capped",
            target=item,
            data={"merchants": merchants, "price": str(item.center_price), "was": str(old_price)},
        )
