"""The city-scale benchmark (issue 10): ``manage.py bench`` and ``bench_dispatch``.

- ``build``: the data set (set-based SQL, minutes), kept in a bench database.
- ``pages``: what is timed; ``budgets``: what each may cost (one file).
- ``timing``: the runs, the anchors (raw SQL, a plain ModelAdmin), EXPLAIN.
- ``rankings``: issue 8's dispatch ranking figures (``bench_dispatch``).
- ``docs``: the generated section of docs/performance.md.
- ``http*``: the load test over HTTP (gunicorn on loopback), its own command.
"""
