"""axe-core (WCAG 2.1 A and AA) over every page of the portal, in Chinese and in
English: no critical or serious violation anywhere.

The pages are every URL of tests/test_url_sweep.py's REGISTRY that answers GET
with a whole HTML page, filled with the sweep's two stations of real rows, plus
the states a list of URL names cannot show (an order in each status, an
emergency alert, a rejected import, the console with a number typed). POST-only
actions, htmx fragments (checked inside their page) and downloads are left out
by what they answer, so a new URL is checked without being listed here.
"""

import time
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.urls import reverse

from requests import services as hotline
from requests.models import Device
from requests.selectors import hash_secret
from tests.factories import PASSWORD

# The sweep's two stations of rows, as the fixture ``sweep_world``.
from tests.test_url_sweep import QUERY, REGISTRY
from tests.test_url_sweep import world as sweep_world  # noqa: F401
from volunteers import services as vs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"critical", "serious"}
SHOWN = 8  # elements listed per rule in the failure message

ROLES = ("operator", "station_manager", "center_manager", "volunteer")
LANGUAGES = {"zh-hans": "zh-CN", "en": "en-US"}


def _more_states(world):
    """What the sweep's rows do not show: orders in the other statuses, an open
    emergency call, an urged order (inbox messages), a rejected import."""
    a, operator, manager = world.a, world.users["operator"], world.users["station_manager"]
    item = a.volunteer.service_items.first()
    item.free_for_special_groups = True  # the catalogue's "free" tick
    item.save(update_fields=["free_for_special_groups"])
    orders = {}
    for status in ("offered", "cancelled", "closed"):
        order = hotline.order_create(
            actor=operator, resident=a.resident, item=item, channel="hotline", station=a.station
        )
        if status == "offered":
            hotline.order_offer(actor=operator, order=order)
        elif status == "cancelled":
            hotline.order_cancel(actor=operator, order=order, reason="居民取消")
        else:
            hotline.order_assign(actor=operator, order=order, provider=a.volunteer)
            hotline.order_take(actor=operator, order=order)
            hotline.order_complete(actor=operator, order=order, notes="已修好", fee=Decimal("0"))
            hotline.follow_up_record(actor=operator, order=order, satisfaction="satisfied", score=5)
        orders[status] = order
    hotline.order_urge(actor=operator, order=a.order, note="居民又来电")
    Device.objects.create(device_id="YJT-A11Y", secret_hash=hash_secret("s"), resident=a.resident)
    hotline.device_call(device_id="YJT-A11Y", secret="s")
    rejected = vs.import_preview(
        actor=manager,
        kind="volunteers",
        filename="v.csv",
        content="姓名,手机号,站点编号\n王伟,13900001111,BR-A\n李四,123,BR-A\n".encode(),
    )
    return [
        reverse("requests:order_detail", kwargs={"pk": a.new_order.pk}),
        reverse("requests:order_detail", kwargs={"pk": a.done_order.pk}),
        *(reverse("requests:order_detail", kwargs={"pk": o.pk}) for o in orders.values()),
        reverse("requests:my_order", kwargs={"pk": orders["closed"].pk}),
        reverse("volunteers:import_preview", kwargs={"pk": rejected.pk}),
    ]


def _plan(world) -> dict[str, list[str]]:
    """Each page is checked once per language, as the first role in ROLES that may
    open it (found with the test client: no browser time spent on refusals). The
    volunteer also sees, on their phone, the pages every role shares."""
    clients = {role: Client() for role in ROLES}
    for role, client in clients.items():
        client.force_login(world.users[role])
    plan = {role: [] for role in ROLES}
    for name, fill in sorted(REGISTRY.items()):
        url = reverse(name, kwargs=fill(world, "a") if fill else None) + QUERY.get(name, "")
        for role in ROLES:
            response = clients[role].get(url)
            if response.status_code == 405:
                break  # POST only
            if response.status_code == 200:
                if response.get("Content-Type", "").startswith("text/html") and (
                    b"<html" in response.content[:300]
                ):
                    plan[role].append(url)
                break  # else an htmx fragment or a download
        else:
            pytest.fail(f"no role may open {name} ({url}): fill it in the sweep's REGISTRY")
    plan["operator"] += _more_states(world) + [reverse("center:inbox")]
    plan["volunteer"] += [reverse("center:home"), reverse("center:inbox")]
    return plan


def _login(page, base, user):
    page.goto(f"{base}{reverse('login')}")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _check(page, where, found):
    """Run axe once htmx has loaded the page's fragments; file each critical or
    serious violation under its rule, with the page and the elements."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    # What a click shows is checked too: the forms folded in <details>.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    results = page.evaluate("options => axe.run(options)", AXE_OPTIONS)
    for v in results["violations"]:
        if v["impact"] in BLOCKING:
            rule = found.setdefault((v["id"], v["impact"], v["help"]), {"pages": [], "nodes": {}})
            rule["pages"].append(where)
            for node in v["nodes"]:
                checks = node["any"] + node["all"] + node["none"]
                why = checks[0]["message"] if checks else ""
                rule["nodes"].setdefault(
                    " ".join(node["target"]), f"{node['html'][:100]}\n      {why[:160]} ({where})"
                )


def _report(found) -> str:
    lines = []
    for (rule_id, impact, help_text), rule in sorted(found.items()):
        pages = rule["pages"]
        lines.append(f"{rule_id} [{impact}] on {len(pages)} page(s): {help_text}")
        lines.append("  pages: " + ", ".join(pages[:6]) + (" ..." if len(pages) > 6 else ""))
        for target, html in list(rule["nodes"].items())[:SHOWN]:
            lines.append(f"  {target}  {html}")
        if len(rule["nodes"]) > SHOWN:
            lines.append(f"  ... {len(rule['nodes']) - SHOWN} more elements")
    return "\n".join(lines)


def test_no_serious_accessibility_violation_on_any_page(live_server, browser, request):
    started = time.monotonic()
    world = request.getfixturevalue("sweep_world")
    plan = _plan(world)
    base, found, checked = live_server.url, {}, 0
    print(f"axe: rows and plan {time.monotonic() - started:.0f}s")

    def context_for(role, language):
        phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
        context = browser.new_context(
            locale=LANGUAGES[language], **(phone if role == "volunteer" else {})
        )
        context.add_init_script(AXE.axe_script)  # before the page's own scripts, CSP or not
        return context

    for language in LANGUAGES:
        anonymous = context_for("anonymous", language)
        page = anonymous.new_page()
        page.goto(f"{base}{reverse('login')}")
        _check(page, f"{language}/anonymous {reverse('login')}", found)
        anonymous.close()
        for role in ROLES:
            context = context_for(role, language)
            page = context.new_page()
            _login(page, base, world.users[role])
            assert page.locator("html").get_attribute("lang") == language
            for url in plan[role]:
                page.goto(f"{base}{url}")
                _check(page, f"{language}/{role} {url}", found)
            checked += len(plan[role])
            if role == "operator":
                # The console as it is used: a number typed, matches and the alert by htmx.
                page.goto(f"{base}{reverse('requests:console')}")
                page.locator("#phone").fill("135")
                page.get_by_test_id("resident-match").first.wait_for()
                page.get_by_test_id("device-alert").first.wait_for()
                _check(page, f"{language}/{role} console, number typed", found)
            if role == "volunteer":
                # A page the volunteer may not open: the 403 page.
                page.goto(f"{base}{reverse('center:station_list')}")
                _check(page, f"{language}/{role} 403", found)
            context.close()
        print(f"axe: {checked} pages checked after {language}, {time.monotonic() - started:.0f}s")
    assert not found, "critical or serious accessibility violations:\n" + _report(found)


def test_console_tells_a_screen_reader_about_matches_and_alerts(live_server, browser, request):
    """htmx fills the console without a page load: the matches are a polite live
    region, emergency alerts an assertive one, and the alert poll (every 5 s)
    leaves an unchanged alert in place, so it is announced once, not every poll."""
    world = request.getfixturevalue("sweep_world")
    Device.objects.create(
        device_id="YJT-A11Y", secret_hash=hash_secret("s"), resident=world.a.resident
    )
    hotline.device_call(device_id="YJT-A11Y", secret="s")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server.url, world.users["operator"])
    page.goto(f"{live_server.url}{reverse('requests:console')}")
    page.locator("#phone").fill("135")
    page.get_by_test_id("resident-match").first.wait_for()
    assert page.locator("#matches").get_attribute("aria-live") == "polite"
    alerts = page.locator("#alerts")
    assert alerts.get_attribute("aria-live") == "assertive"
    page.get_by_test_id("device-alert").first.evaluate("node => { node.seen = true; }")
    with page.expect_response(lambda r: "/console/alerts/" in r.url):
        pass  # the next poll
    page.wait_for_timeout(200)  # past the swap htmx would have made
    assert page.get_by_test_id("device-alert").first.evaluate("node => node.seen === true")
    context.close()
