"""Pages of long lists: the page's ids first, then its rows.

A list of dossiers shows each row with its affiliate, kind, collectivity and assignee. Asked as one
query (``select_related`` then ``LIMIT 25``), PostgreSQL may join every row of those tables before
keeping 25 (a sequential scan of a million affiliates for the CMR's queue). Here the page's ids come
from the list's own query stripped of those joins (sorted and filtered as the list is: a join the
order or a filter needs stays), then the 25 rows with everything the list shows, by id.
"""

from django.core.paginator import Paginator


class IdsFirstPaginator(Paginator):
    """A ``Paginator`` over a queryset that reads a page as its ids, then its rows (two queries)."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        qs = self.object_list
        ids = list(qs.select_related(None).prefetch_related(None).values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in qs.order_by().filter(pk__in=ids)} if ids else {}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)
