"""The long choice lists of the filter forms are drawn in one pass, with the
same options, labels, selection and escaping as Django's own <select>."""

import re

import pytest
from django import forms

from center.forms import FastSelect, StationChoiceField
from center.models import Station
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db


def options(html: str) -> list[tuple[str, str, bool]]:
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html
        )
    ]


def test_fast_select_draws_what_django_draws():
    choices = [("", "全部"), ("1", "<b>一</b>"), ("2", "二 & 三"), ("3", '引"号')]
    for value in ("", "2", None):
        fast = FastSelect(choices=choices).render("x", value, attrs={"class": "form-select"})
        django = forms.Select(choices=choices).render("x", value, attrs={"class": "form-select"})
        assert options(fast) == options(django), value
        assert 'name="x"' in fast and 'class="form-select"' in fast
    assert "<b>" not in fast and "&lt;b&gt;" in fast


def test_station_choices_read_name_and_place_without_instances(
    center_station, django_assert_num_queries
):
    branch = StationFactory(parent=center_station, name="建设分站")
    point = StationFactory(parent=branch, name="花园社区服务站点")
    field = StationChoiceField(queryset=Station.objects.order_by("pk"), empty_label="全部")
    with django_assert_num_queries(1):
        labels = dict(field.choices)
    assert labels[point.pk] == point.display_name  # the model's own rule
    assert labels[branch.pk] == branch.display_name
    html = field.widget.render("station", str(point.pk))
    assert (str(point.pk), point.display_name, True) in options(html)


def test_a_many_choice_picker_stays_many(center_station):
    from center.forms import StationForm

    form = StationForm(instance=center_station)
    html = str(form["communities"])
    assert " multiple" in html  # still a multiple select, drawn the fast way
    assert 'name="communities"' in html


def test_the_option_list_is_kept_and_the_selection_is_per_request(
    center_station, django_assert_num_queries, monkeypatch
):
    from center import forms as center_forms

    monkeypatch.setattr(center_forms, "OPTIONS_TTL", 60)
    a = StationFactory(parent=center_station, name="甲站")
    b = StationFactory(parent=center_station, name="乙站")
    field = StationChoiceField(queryset=Station.objects.order_by("pk"), empty_label="全部")
    first = field.widget.render("station", str(a.pk))
    with django_assert_num_queries(0):  # the options come from the kept list
        second = field.widget.render("station", str(b.pk))
    assert [o for o in options(first) if o[2]] == [(str(a.pk), a.display_name, True)]
    assert [o for o in options(second) if o[2]] == [(str(b.pk), b.display_name, True)]
    # Another query (another manager's scope) is another list.
    scoped = StationChoiceField(queryset=Station.objects.filter(pk=a.pk), empty_label="全部")
    assert [v for v, _l, _s in options(scoped.widget.render("station", ""))] == ["", str(a.pk)]
    # A station saved in this process shows at once (the kept list is dropped).
    c = StationFactory(parent=center_station, name="丙站")
    assert c.display_name in field.widget.render("station", "")


def test_filter_fields_draw_yes_no_and_plain_choices_with_the_selection():
    from center.filters import YesNoFilter
    from center.templatetags.lianxin import filter_field

    class F(forms.Form):
        on_duty = YesNoFilter(label="值班").field
        status = forms.ChoiceField(label="状态", choices=[("", "全部"), ("a", "甲"), ("b", "乙")])

    form = F({"on_duty": "true", "status": "b"})
    on_duty, status = filter_field(form["on_duty"]), filter_field(form["status"])
    assert [o for o in options(on_duty) if o[2]] == [("true", "是", True)]
    assert [o for o in options(status) if o[2]] == [("b", "乙", True)]
    assert 'for="id_on_duty"' in on_duty and 'id="id_on_duty"' in on_duty
    assert 'class="form-select"' in status
