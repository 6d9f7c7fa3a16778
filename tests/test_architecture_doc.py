"""docs/architecture.md stays true: its state diagrams are the models'
TRANSITIONS (the order's first, the micro-wish's second)."""

import re
from pathlib import Path

from requests.models import MicroWish, ServiceRequest

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
NO_STATE_CHANGE = {"urge", "merge"}  # possible in every open state, change no state


def diagram(n: int = 0) -> str:
    return DOC.read_text(encoding="utf-8").split("```mermaid")[n + 1].split("```", 1)[0]


def diagram_edges() -> set[tuple[str, str]]:
    block = diagram(0)
    edges = set()
    for source, step in re.findall(r"^\s*(\w+) --> \w+ : (\w+)", block, flags=re.M):
        edges.add((source, step))
    return edges


def test_the_state_diagram_is_the_models_transitions():
    expected = {
        (str(status), step)
        for step, statuses in ServiceRequest.TRANSITIONS.items()
        if step not in NO_STATE_CHANGE
        for status in statuses
    }
    assert diagram_edges() == expected


def test_the_diagram_names_only_real_statuses():
    text = diagram(0)
    named = set(re.findall(r"(\w+) --> (\w+)", text))
    statuses = set(ServiceRequest.Status.values)
    for source, target in named:
        assert {source, target} <= statuses, (source, target)


def test_the_wish_diagram_is_the_wish_transitions():
    drawn = set(re.findall(r"^\s*(\w+) --> (\w+) : (\w+)", diagram(1), flags=re.M))
    expected = {
        (str(source), str(target), step)
        for step, (sources, target) in MicroWish.TRANSITIONS.items()
        for source in sources
    }
    assert drawn == expected
