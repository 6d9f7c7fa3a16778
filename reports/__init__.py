"""Dashboards and reports (issue 14): the top of the layering.

``reports`` may read every app (center, volunteers, requests, events); none of
them imports it (import-linter contracts in ``pyproject.toml``). The figures'
definitions are in ``docs/metrics.md``; the reads are in ``selectors``.
"""
