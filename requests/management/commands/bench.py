"""Issue 10's benchmark: build the city, then time every page against its budget.

    createdb -h 127.0.0.1 -U postgres lianxin_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/lianxin_bench
    python manage.py migrate
    python manage.py bench                    # build (reused at the same scale and seed), time
    python manage.py bench --scale 0.01       # a smoke run: seconds
    python manage.py bench --no-build --only orders --repeat 15
    python manage.py bench --write-docs       # the table into docs/performance.md
    make bench BENCH_ARGS="--scale 0.1"

The data set (``requests.bench.build``): the city at ``--scale 1`` (1,153
stations, 157,000 volunteers, 2,000 merchants, 300,000 residents, 5,000,000
orders over five years ...), set-based SQL, in a database whose name contains
"bench" (it empties the tables it fills). What is timed (``pages``), the
budgets (``budgets``, one file) and the anchors (``timing``) are described
in their modules; docs/performance.md carries the table.

``bench_dispatch`` (issue 8) stays a command of its own, a thin one over the
same builder and the ranking timer (``requests.bench.rankings``): its options
and the figures of the dispatch rounds in docs/performance.md keep their
meaning, while ``bench`` times the volunteer ranking among the other pages.
"""

import os
import time
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from requests.bench import build, pages, timing
from requests.bench.docs import replace_section


class Command(BaseCommand):
    help = (
        "Build the city-size data set on a bench database (reused when already built) and "
        "time every page and operation against its budget (issue 10)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="1 = the city (5,000,000 orders); 0.01 = a smoke run (default 1)",
        )
        parser.add_argument("--seed", type=float, default=0.96345, help="the data's seed")
        built = parser.add_mutually_exclusive_group()
        built.add_argument(
            "--rebuild", action="store_true", help="build even if built at this scale and seed"
        )
        built.add_argument(
            "--no-build", action="store_true", help="time the data already there, as it is"
        )
        parser.add_argument(
            "--build-only", action="store_true", help="build (or reuse) the data set, time nothing"
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=2,
            help="connections loading orders and rebuilding indexes at once (default 2)",
        )
        parser.add_argument(
            "--repeat", type=int, default=7, help="timed runs of each page (default 7)"
        )
        parser.add_argument("--warmup", type=int, default=1, help="untimed runs before (default 1)")
        parser.add_argument(
            "--samples", type=int, default=30, help="orders the dispatch ranking is timed on"
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="TEXT",
            help="time only the cases whose name contains TEXT (repeatable)",
        )
        parser.add_argument(
            "--explain-dir",
            default=str(Path(settings.BASE_DIR) / "var" / "bench"),
            help="where EXPLAIN (ANALYZE, BUFFERS) of each budgeted case goes (var/bench)",
        )
        parser.add_argument(
            "--write-docs",
            action="store_true",
            help="replace the marked section of docs/performance.md with this run's table",
        )
        parser.add_argument(
            "--strict", action="store_true", help="fail if a case is over budget or fails"
        )
        parser.add_argument(
            "--i-know-this-is-a-test-database",
            dest="test_database",
            action="store_true",
            help="allow a database named test_* (the test suite's smoke run)",
        )

    def handle(self, *args, **opts):
        out = self.stdout.write
        try:
            name = build.check_database(test_database=opts["test_database"], command="bench")
        except build.BenchError as exc:
            raise CommandError(str(exc)) from exc
        machine = build.machine()
        out(f"Database {name}; {machine}")
        try:
            marker = self._data(opts, out)
            if opts["build_only"]:
                return
            results, skipped = self._time(opts, out)
        except build.BenchError as exc:
            raise CommandError(str(exc)) from exc

        load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"
        written = timing.save_explains(results, Path(opts["explain_dir"]))
        counts = {v: sum(r.verdict == v for r in results) for v in ("OK", "OVER", "ERROR")}
        out(
            f"{len(results)} cases: {counts['OK']} OK, {counts['OVER']} over budget, "
            f"{counts['ERROR']} failed; load average {load} at the end. EXPLAIN of "
            f"{len(written)} budgeted cases in {opts['explain_dir']}."
        )
        if skipped:
            out("Not timed: " + "; ".join(skipped))
        if opts["write_docs"]:
            path = Path(settings.BASE_DIR) / "docs" / "performance.md"
            replace_section(path, self._docs(opts, machine, load, marker, results, skipped))
            out(f"Wrote the table into {path}.")
        if opts["strict"] and (counts["OVER"] or counts["ERROR"]):
            raise CommandError(f"{counts['OVER']} over budget, {counts['ERROR']} failed.")

    # --- the data set -------------------------------------------------------------------

    def _data(self, opts, out) -> build.Marker | None:
        scale, seed = opts["scale"], opts["seed"]
        marker = build.read_marker()
        if opts["no_build"]:
            if marker is None:
                out("No bench marker: timing the data as it is (built by another command?).")
            else:
                out(self._built(marker))
            return marker
        sizes = build.Sizes.for_scale(scale)
        same = (
            marker is not None
            and abs(marker.scale - scale) < 1e-9
            and marker.seed == seed
            and marker.version == build.BUILDER_VERSION
            and marker.sizes == asdict(sizes)
        )
        if same and not opts["rebuild"]:
            out(f"Reusing the data set: {self._built(marker)} (--rebuild builds it again).")
            return marker
        out(
            f"Building at scale {scale:g} (seed {seed}): {sizes.orders:,} orders, "
            f"{sizes.volunteers:,} volunteers, {sizes.residents:,} residents; jobs {opts['jobs']}."
        )
        started = time.perf_counter()
        builder = build.Builder(sizes=sizes, seed=seed, out=out, jobs=opts["jobs"])
        builder.build(scale)
        out(f"Built in {time.perf_counter() - started:.0f} s.")
        return build.read_marker()

    @staticmethod
    def _built(marker: build.Marker) -> str:
        total = sum(s for _label, s in marker.steps)
        at = timezone.localtime(marker.built_at).strftime("%Y-%m-%d %H:%M")
        return (
            f"scale {marker.scale:g}, seed {marker.seed}, builder v{marker.version}, built {at} "
            f"in {total:.0f} s"
        )

    # --- timing -------------------------------------------------------------------------

    def _time(self, opts, out):
        runs = opts["warmup"] + opts["repeat"] + 1
        world = pages.world(samples=opts["samples"], intake_runs=2 * runs + 2)
        cases = pages.cases(world)
        swept, skipped = pages.page_cases(world)
        cases += swept
        if opts["only"]:
            cases = [c for c in cases if any(text in c.name for text in opts["only"])]
        out(
            f"Timing {len(cases)} cases: {opts['warmup']} untimed run(s), then {opts['repeat']} "
            f"timed (ms; the ranking: per order), DEBUG off, in-process test client. "
            f"×SQL: the page's median over its main query's, run through a cursor; ×admin: "
            f"over Django's plain ModelAdmin changelist of the same model."
        )
        out(
            f"Busiest branch: {world.branch.name} (station {world.branch.pk}; its manager sees "
            f"{len(world.manager_scope)} stations); order to assign "
            f"{world.order_to_assign.number}; the ranking on {len(world.samples)} orders."
        )
        out(timing.COLUMNS)
        runner = timing.Runner(world, repeat=opts["repeat"], warmup=opts["warmup"], out=out)
        results = runner.run_all(cases)
        return results, runner.skipped + skipped

    def _docs(self, opts, machine, load, marker, results, skipped) -> str:
        now = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        lines = [
            f"Generated by `manage.py bench --write-docs` on {now} (Asia/Shanghai), "
            f"{opts['repeat']} timed runs after {opts['warmup']} untimed, in-process test "
            "client, DEBUG off.",
            "",
            f"Machine: {machine} at the start, {load} at the end.",
            "",
        ]
        if marker is not None:
            sizes = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in marker.sizes.items())
            steps = "; ".join(f"{label} {s:g} s" for label, s in marker.steps)
            total = sum(s for _label, s in marker.steps)
            lines += [
                f"Data: scale {marker.scale:g} ({sizes}), seed {marker.seed}, builder "
                f"v{marker.version}.",
                "",
                f"Build ({timezone.localtime(marker.built_at):%Y-%m-%d %H:%M}, {total:.0f} s in "
                f"all): {steps}.",
                "",
            ]
        lines.append(timing.markdown(results))
        if skipped:
            lines += ["", "Not timed: " + "; ".join(skipped) + "."]
        return "\n".join(lines)
