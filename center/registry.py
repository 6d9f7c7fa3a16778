"""How a feature app plugs into the portal without center importing it.

Center is the base every app builds on (areas, stations, catalogue, users,
roles), so it may not import a feature app (import-linter checks it). Yet
the menu, the home page and ``manage.py seed_demo`` show every app's part.
This module is the one way across: each app's ``AppConfig.ready()`` registers
its parts here, and center reads the registries.

- ``register_demo(app, seed, after=...)``: the app's demo data; ``seed_demo``
  runs every part, each after the parts it names.
- ``register_nav(NavEntry(...))``: a menu entry (or a dropdown with children).
- ``register_home_card(HomeCard(...))``: a card on the home page.

Who sees an entry or a card is a predicate on the user: role checks only,
no query, since it runs on every page. The pages enforce access again.
"""

from __future__ import annotations

import graphlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

Visible = Callable[[object], bool]


def everyone(user) -> bool:
    return True


# --- Demo data ---------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPart:
    app: str
    seed: Callable[[random.Random], None]
    after: tuple[str, ...] = ()


_demo: dict[str, DemoPart] = {}


def register_demo(app: str, seed: Callable[[random.Random], None], *, after=()) -> None:
    """``seed(rng)`` loads ``app``'s demo rows (deterministic for a given rng,
    idempotent); it runs after the parts of the apps named in ``after``."""
    _demo[app] = DemoPart(app=app, seed=seed, after=tuple(after))


def demo_parts() -> list[DemoPart]:
    """Every registered part, each after those it depends on (ties: by name,
    so the order, and the demo data, are the same on every machine)."""
    missing = {dep for part in _demo.values() for dep in part.after} - set(_demo)
    if missing:
        raise graphlib.CycleError(f"demo parts depend on unregistered apps: {sorted(missing)}")
    sorter = graphlib.TopologicalSorter({name: part.after for name, part in _demo.items()})
    sorter.prepare()
    ordered = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered.extend(_demo[name] for name in ready)
        sorter.done(*ready)
    return ordered


# --- Menu ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NavEntry:
    label: str  # gettext_lazy
    url_name: str = ""  # "" for a dropdown that only holds children
    visible: Visible = everyone
    order: int = 100
    children: tuple[NavEntry, ...] = ()
    query: str = ""  # appended to the URL, e.g. "?overdue=yellow"

    @property
    def url(self) -> str:
        return reverse(self.url_name) + self.query if self.url_name else ""


@dataclass(frozen=True)
class ShownEntry:
    """A menu entry as one user sees it (children already filtered)."""

    label: str
    url: str
    children: list[ShownEntry] = field(default_factory=list)


_nav: list[NavEntry] = []


def register_nav(entry: NavEntry) -> None:
    _nav.append(entry)


def nav_for(user) -> list[ShownEntry]:
    """The menu of ``user``: visible entries by order; a dropdown shows only
    when at least one of its children does."""
    shown = []
    for entry in sorted(_nav, key=lambda e: e.order):
        if not entry.visible(user):
            continue
        children = [
            ShownEntry(label=c.label, url=c.url)
            for c in sorted(entry.children, key=lambda c: c.order)
            if c.visible(user)
        ]
        if entry.children and not children:
            continue
        shown.append(ShownEntry(label=entry.label, url=entry.url, children=children))
    return shown


# --- Home page -----------------------------------------------------------------------


@dataclass(frozen=True)
class HomeCard:
    template: str  # rendered with the home page's context (user, can, ...)
    visible: Visible = everyone
    order: int = 100


_cards: list[HomeCard] = []


def register_home_card(card: HomeCard) -> None:
    _cards.append(card)


def home_cards_for(user) -> list[str]:
    """The templates of the cards ``user`` sees on the home page, by order."""
    return [c.template for c in sorted(_cards, key=lambda c: c.order) if c.visible(user)]
