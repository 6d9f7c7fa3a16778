"""The volunteers app's messages (center.messages: rendered in the reader's
language when read). Registered from VolunteersConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from center.messages import Message

# The same msgids as volunteers.models.Sanction.Level (one translation each).
SANCTION_LEVELS = {"warning": _("Warning"), "yellow": _("Yellow card"), "red": _("Red card")}

MESSAGES: dict[str, Message] = {
    "volunteers.star.reached": Message(
        _("You reached %(n)s stars"), _("Thank you for %(hours)s hours of service.")
    ),
    "volunteers.sanction.suspended": Message(
        _("%(level)s after a valid complaint"),
        _("No orders until %(date)s."),
        labels={"level": SANCTION_LEVELS},
    ),
    "volunteers.sanction.removed": Message(
        _("%(level)s after a valid complaint"),
        _("You have been removed from the provider roster."),
        labels={"level": SANCTION_LEVELS},
    ),
    "volunteers.sanction.revoked": Message(
        _("Your %(level)s was revoked"), "%(reason)s", labels={"level": SANCTION_LEVELS}
    ),
    # issue 13, part A
    # To the provider whose suspension ended (volunteers.services.sanctions_expire): params level.
    "volunteers.sanction.ended": Message(
        _("Your %(level)s has ended"),
        _("You can take orders again."),
        labels={"level": SANCTION_LEVELS},
    ),
    # issue 13, part C
    # To every member of a team, from its managers (volunteers.services.team_message_send):
    # params team (the team's name), text (what the manager wrote, as written).
    "volunteers.team.message": Message(_("Message to team %(team)s"), "%(text)s"),
}
