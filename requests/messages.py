"""The hotline's messages (center.messages: rendered in the reader's
language when read). Registered from RequestsConfig.ready()."""

import datetime

from django.utils.translation import gettext_lazy as _

from center.messages import Message

ORDER_ALERT_BODY = "%(item)s · %(address)s"

MESSAGES: dict[str, Message] = {
    # To the provider: params number, item, address.
    "requests.order.assigned": Message(_("New order %(number)s: %(item)s"), "%(address)s"),
    # To the provider: params item, minutes ("?" when unknown), address. An
    # offer held longer than the widening rounds (quiet hours, an outage) is
    # stale: the order has been widened, taken or assigned since.
    "requests.order.offered": Message(
        _("Order nearby: %(item)s, about %(minutes)s minutes away"),
        "%(address)s",
        stale_after=datetime.timedelta(minutes=30),
    ),
    # To the provider: params number, note.
    "requests.order.urged": Message(_("Order %(number)s is urged"), "%(note)s"),
    # To the station's managers (_alert_station): params number, item, address (+ n, reason).
    "requests.alert.no_provider": Message(
        _("No available provider for order %(number)s."), ORDER_ALERT_BODY
    ),
    "requests.alert.not_taken": Message(
        _("Order %(number)s is still not taken after %(n)s rounds."), ORDER_ALERT_BODY
    ),
    "requests.alert.widened": Message(
        _("Order %(number)s not taken in time: offered wider."), ORDER_ALERT_BODY
    ),
    "requests.alert.returned": Message(
        _("Order %(number)s was returned: %(reason)s"), ORDER_ALERT_BODY
    ),
    "requests.alert.urged": Message(_("Order %(number)s is urged"), ORDER_ALERT_BODY),
    # Micro-wishes (requests/services/wishes.py): params title.
    # To the station's managers:
    "requests.wish.adopted": Message(_("Wish adopted: %(title)s")),
    "requests.wish.fulfilled": Message(_("Wish fulfilled, to confirm with the family: %(title)s")),
    # To the adopters (and the deliverer):
    "requests.wish.released": Message(
        _(
            "Your adoption of the wish “%(title)s” was released: the family was not contacted in time."
        )
    ),
    "requests.wish.withdrawn": Message(_("The wish “%(title)s” you adopted was withdrawn.")),
    "requests.wish.confirmed": Message(_("The wish “%(title)s” came true. Thank you!")),
    "requests.wish.deliver": Message(_("Please deliver the wish “%(title)s” to the family.")),
    # issue 13, part A (requests/services/reminders.py)
    # To the resident, by SMS (no login): params name (王师傅, or the merchant's
    # or team's name), number, and minutes (taken) or time ("MM-DD HH:MM", taken_for).
    "requests.order.taken": Message(
        _("%(name)s has taken your order"),
        _("Arriving within about %(minutes)s minutes. Order %(number)s."),
    ),
    # To the resident when the order is done (reminders.order_completed_tell_resident):
    # params number.
    "requests.order.completed": Message(
        _("Order %(number)s is done"),
        _("The center will call you to ask how it went. Thank you for calling 96345."),
    ),
    "requests.order.taken_for": Message(
        _("%(name)s has taken your order"),
        _("Coming at %(time)s as agreed. Order %(number)s."),
    ),
    # To the provider holding the order and the station's managers: params
    # number, time (the limit, "MM-DD HH:MM"), item, address.
    "requests.reminder.near": Message(
        _("Order %(number)s is near its time limit (%(time)s)"), ORDER_ALERT_BODY
    ),
    "requests.reminder.late": Message(
        _("Order %(number)s is past its time limit (%(time)s)"), ORDER_ALERT_BODY
    ),
    # To a station's managers, daily: params n, station, date (the oldest, ISO).
    "requests.reminder.followup": Message(
        _("%(station)s: %(n)s follow-up calls due"),
        _("Completed orders waiting for their call back, the oldest since %(date)s."),
    ),
    # issue 13, part B (services.reminders_care, services.reminders_wishes)
    # To the paired member: params resident (masked, 张**), community, due
    # (ISO date), days (how many days past due: 0 or more).
    "requests.care.visit_due": Message(
        _("A care visit is due: %(resident)s"),
        _("%(community)s, due %(due)s. Record the visit under “My residents”."),
    ),
    "requests.care.visit_overdue": Message(
        _("The care visit to %(resident)s is overdue"),
        _("%(community)s, due %(due)s. Please visit or call soon and record it."),
    ),
    # To a station's managers, daily: params station, n, days (CARE_SILENT_DAYS).
    "requests.care.silent": Message(
        _("%(station)s: residents without contact for %(days)s days: %(n)s"),
        _("See the silent residents in the care overview."),
    ),
    # To a wish's adopters: params title, due ("YYYY-MM-DD HH:MM").
    "requests.wish.contact_soon": Message(
        _("Contact the family of the wish “%(title)s” by %(due)s"),
        _("Then record it under “My wishes”, or the station may release your adoption."),
    ),
    "requests.wish.contact_passed": Message(
        _("The time to contact the family of “%(title)s” has passed"),
        _("It was due by %(due)s. Contact them now, or the station may release your adoption."),
    ),
    # To a wish's adopters: params title, deadline (ISO date).
    "requests.wish.deadline_soon": Message(
        _("The wish “%(title)s” is due on %(deadline)s"),
        _("Please make it come true by then and record it under “My wishes”."),
    ),
    # To a station's managers, on the day: params station, n.
    "requests.wish.rollover_soon": Message(
        _("%(station)s: wishes not adopted, rolling over tonight: %(n)s"),
        _("Their deadline is today: they start a new round with priority."),
    ),
}
