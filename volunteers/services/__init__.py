"""Every write of the volunteers app, by topic:

- ``providers``: volunteers, merchants and teams, their logins, duty,
  ratings, merchants' prices, the logged reveal of personal numbers;
- ``posts``: organizations, posts (双报到) and claims;
- ``hours``: service hours and certificates;
- ``ladder``: complaints and the sanction ladder;
- ``imports``: import files, previewed then applied all or nothing.

Callers use the package (``from volunteers import services``;
``services.volunteer_update(...)``). A test that replaces a service must
patch the name where it is looked up: ``volunteers.services.<name>`` for
code that calls through the package, the topic module for a call between
services (``volunteers.services.hours.hours_verify`` inside ``hours_record``).
"""

from ._common import merchant_login_name, volunteer_number
from .hours import (
    certificate_issue,
    certificate_shown,
    hours_between,
    hours_record,
    hours_verify,
)
from .imports import import_apply, import_preview, import_rows_purge
from .ladder import add_months, complaint_record, complaint_rule, sanction_revoke, sanctions_expire
from .posts import (
    ORGANIZATION_FIELDS,
    POST_FIELDS,
    organization_create,
    organization_delete,
    organization_update,
    post_claim,
    post_create,
    post_delete,
    post_report,
    post_update,
    post_withdraw,
)
from .providers import (
    MERCHANT_FIELDS,
    TEAM_FIELDS,
    VOLUNTEER_FIELDS,
    merchant_create,
    merchant_offer_set,
    merchant_offers_cap,
    merchant_update,
    pii_reveal,
    provider_activation_issue,
    team_create,
    team_delete,
    team_message_members,
    team_message_send,
    team_update,
    volunteer_create,
    volunteer_notify,
    volunteer_set_on_duty,
    volunteer_set_rating,
    volunteer_update,
)

__all__ = [
    "volunteer_notify",
    "MERCHANT_FIELDS",
    "ORGANIZATION_FIELDS",
    "POST_FIELDS",
    "TEAM_FIELDS",
    "VOLUNTEER_FIELDS",
    "add_months",
    "certificate_issue",
    "certificate_shown",
    "complaint_record",
    "complaint_rule",
    "hours_between",
    "hours_record",
    "hours_verify",
    "import_apply",
    "import_preview",
    "import_rows_purge",
    "merchant_create",
    "merchant_login_name",
    "merchant_offer_set",
    "merchant_offers_cap",
    "merchant_update",
    "organization_create",
    "organization_delete",
    "organization_update",
    "pii_reveal",
    "post_claim",
    "post_create",
    "post_delete",
    "post_report",
    "post_update",
    "post_withdraw",
    "provider_activation_issue",
    "sanction_revoke",
    "sanctions_expire",
    "team_create",
    "team_delete",
    "team_message_members",
    "team_message_send",
    "team_update",
    "volunteer_create",
    "volunteer_number",
    "volunteer_set_on_duty",
    "volunteer_set_rating",
    "volunteer_update",
]
