"""A POST form submits once: the second click while the first is in flight does nothing,
and the buttons show they are busy (static/js/lianxin.js)."""

import pytest

from tests.factories import PASSWORD, CommunityFactory, ResidentFactory, ServiceItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_order_form_submits_once(live_server, page, operator, station):
    community = CommunityFactory()
    station.communities.add(community)
    resident = ResidentFactory(community=community)
    ServiceItemFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(operator.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/orders/new/{resident.pk}/")
    submitted = page.evaluate(
        """() => new Promise(resolve => {
            let n = 0;
            // Registered after the page's own listener: counts submits that were let through.
            document.addEventListener('submit', e => { if (!e.defaultPrevented) n++; e.preventDefault(); });
            const form = document.getElementById('order-form');
            form.querySelector('#id_item').selectedIndex = 1;  // a valid form, or no submit event
            form.requestSubmit();
            form.requestSubmit();
            setTimeout(() => resolve({n, disabled: form.querySelector('button[type=submit]').disabled}), 50);
        })"""
    )
    assert submitted == {"n": 1, "disabled": True}


def test_a_form_with_a_field_named_method_submits_once(live_server, page, center_manager):
    """The consent form has a <select name="method">, which shadows form.method:
    the guard reads the attribute, so it still holds (it threw before)."""
    resident = ResidentFactory()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号或用户名").fill(center_manager.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/residents/{resident.pk}/consents/add/")
    submitted = page.evaluate(
        """() => new Promise(resolve => {
            let n = 0;
            document.addEventListener('submit', e => { if (!e.defaultPrevented) n++; e.preventDefault(); });
            const form = document.querySelector('select[name=method]').form;
            form.querySelectorAll('input[type=checkbox]').forEach(c => { c.checked = true; });
            form.requestSubmit();
            form.requestSubmit();
            setTimeout(() => resolve(n), 50);
        })"""
    )
    assert submitted == 1
    assert errors == []
