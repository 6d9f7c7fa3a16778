"""Compile locale/*/LC_MESSAGES/*.po to .mo without GNU gettext (pure Python, polib).

`manage.py compilemessages` needs msgfmt, which a fresh machine may lack;
this does the same for the project's own catalogues.
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    count = 0
    for po_path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        count += 1
        print(f"compiled {po_path.relative_to(ROOT)} ({po.percent_translated()}% translated)")
    if not count:
        print("no .po files found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
