"""Reactions to the center app's signals (connected in VolunteersConfig.ready)."""

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from center.models import ServiceItem
from center.signals import center_price_lowered

from . import services
from .models import Provider, ProviderItem, Volunteer


@receiver(center_price_lowered, dispatch_uid="volunteers.cap_merchant_offers")
def cap_merchant_offers(sender, item, old_price, actor=None, **kwargs):
    """The center lowered an item's price: merchants' offers follow (same transaction)."""
    services.merchant_offers_cap(actor=actor, item=item, old_price=old_price)


@receiver(m2m_changed, sender=Volunteer.service_items.through, dispatch_uid="volunteers.items")
@receiver(m2m_changed, sender=Volunteer.specialties.through, dispatch_uid="volunteers.specs")
def refresh_provider_items(sender, instance, action, reverse, **kwargs):
    """A volunteer's items or specialties changed: the dispatch copy follows
    (``ProviderItem``; the same transaction, derived data only)."""
    if not action.startswith("post_"):
        return
    if reverse:  # changed from the item's or specialty's side: redo those items
        items = (
            [instance]
            if isinstance(instance, ServiceItem)
            else list(ServiceItem.objects.filter(specialty=instance))
        )
        for item in items:
            ProviderItem.refresh_item(item)
        return
    provider = Provider.objects.filter(volunteer=instance).first()
    if provider is not None:
        ProviderItem.refresh(provider, instance)


@receiver(post_save, sender=ServiceItem, dispatch_uid="volunteers.item_saved")
def refresh_item_providers(sender, instance, created, update_fields=None, **kwargs):
    """A catalogue item's specialty decides who can do it: keep the copy right."""
    if update_fields is None or "specialty" in update_fields:
        ProviderItem.refresh_item(instance)
