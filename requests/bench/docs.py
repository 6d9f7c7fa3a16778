"""``bench --write-docs``: the measured table into docs/performance.md,
between ``<!-- bench:start -->`` and ``<!-- bench:end -->``; the rest of the
file is left as it is (a file without the markers gets the section at its end)."""

from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def replace_section(path: Path, body: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = f"{START}\n{body.strip()}\n{END}"
    if START in text and END in text and text.index(START) < text.index(END):
        head, rest = text.split(START, 1)
        _old, tail = rest.split(END, 1)
        text = f"{head}{section}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{section}\n"
    path.write_text(text, encoding="utf-8")
