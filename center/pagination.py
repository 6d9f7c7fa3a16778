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
