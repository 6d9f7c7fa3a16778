"""Pagination that never counts millions of rows.

``CappedPaginator.count`` counts at most ``COUNT_CAP`` + 1 rows (a LIMITed
subquery), so a page view costs the same on 5M rows as on 5k; templates show
"10,000+" when ``count_capped`` is true. The admin base uses it too.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    cap: int | None = None

    def _cap(self) -> int:
        return self.cap or settings.LIANXIN["COUNT_CAP"]

    @cached_property
    def count(self) -> int:
        cap = self._cap()
        object_list = self.object_list
        if hasattr(object_list, "order_by"):
            return object_list.order_by()[: cap + 1].count()
        return min(len(object_list), cap + 1)

    @property
    def count_capped(self) -> bool:
        return self.count > self._cap()

    @property
    def display_count(self) -> str:
        cap = self._cap()
        return f"{cap:,}+" if self.count_capped else f"{self.count:,}"


class KeysetPage:
    """One page of a keyset ("seek") paginated list: what the template needs."""

    def __init__(self, object_list, *, paginator, has_next, has_previous, first, last):
        self.object_list = object_list
        self.paginator = paginator
        self.has_next_page = has_next
        self.has_previous_page = has_previous
        self.next_cursor = paginator.cursor_of(last) if has_next and last is not None else ""
        self.previous_cursor = (
            paginator.cursor_of(first) if has_previous and first is not None else ""
        )

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def __bool__(self):  # an empty page is still a page ("0 results", a way back)
        return True

    def has_next(self) -> bool:
        return self.has_next_page

    def has_previous(self) -> bool:
        return self.has_previous_page

    def has_other_pages(self) -> bool:
        return self.has_next_page or self.has_previous_page


class KeysetPaginator:
    """Pages through a list sorted on ``(time DESC, id DESC)`` by remembering
    where the last page ended (``?after=``) or the next one began
    (``?before=``), never by an OFFSET: page 200 costs what page 1 costs (an
    index seek), where ``OFFSET 10000`` reads and drops ten thousand rows.

    The cursor is ``<ISO time>_<id>`` of the boundary row, so a bookmarked
    page stays valid while new rows arrive. ``count`` is capped as in
    ``CappedPaginator``.
    """

    def __init__(self, queryset, per_page: int, *, time_field: str):
        self.queryset = queryset
        self.per_page = per_page
        self.time_field = time_field
        self._counter = CappedPaginator(queryset, per_page)

    @property
    def count(self) -> int:
        return self._counter.count

    @property
    def count_capped(self) -> bool:
        return self._counter.count_capped

    @property
    def display_count(self) -> str:
        return self._counter.display_count

    def cursor_of(self, obj) -> str:
        return f"{getattr(obj, self.time_field).isoformat()}_{obj.pk}"

    def _parse(self, cursor: str):
        import datetime

        try:
            stamp, pk = cursor.rsplit("_", 1)
            return datetime.datetime.fromisoformat(stamp), int(pk)
        except (ValueError, TypeError):
            return None

    def page(self, *, after: str = "", before: str = "") -> KeysetPage:
        from django.db.models import Q

        t = self.time_field
        qs = self.queryset
        boundary = self._parse(after) if after else self._parse(before) if before else None
        if boundary and after:
            stamp, pk = boundary
            qs = qs.filter(Q(**{f"{t}__lt": stamp}) | Q(**{t: stamp, "pk__lt": pk}))
        elif boundary and before:
            stamp, pk = boundary
            qs = qs.filter(Q(**{f"{t}__gt": stamp}) | Q(**{t: stamp, "pk__gt": pk}))
        going_back = bool(boundary and before)
        order = (t, "pk") if going_back else (f"-{t}", "-pk")
        rows = list(qs.order_by(*order)[: self.per_page + 1])
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if going_back:
            rows.reverse()
            has_next, has_previous = True, more
        else:
            has_next, has_previous = more, bool(boundary)
        return KeysetPage(
            rows,
            paginator=self,
            has_next=has_next,
            has_previous=has_previous,
            first=rows[0] if rows else None,
            last=rows[-1] if rows else None,
        )


class KeysetPaginationMixin:
    """For a ListView/FilterView sorted newest first on ``keyset_time_field``:
    ``?after=``/``?before=`` cursors instead of ``?page=``."""

    keyset_time_field = "created_at"

    def paginate_queryset(self, queryset, page_size):
        paginator = KeysetPaginator(queryset, page_size, time_field=self.keyset_time_field)
        page = paginator.page(
            after=self.request.GET.get("after", ""), before=self.request.GET.get("before", "")
        )
        return paginator, page, page.object_list, page.has_other_pages()
