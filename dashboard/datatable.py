"""The table every list panel shares (issue 20): sortable columns, paging, row checkboxes and
bulk actions. Sorting is a server-side ORDER BY through a whitelist: each sortable column names
the model fields it orders by, and an unknown `sort` key falls back to the table's default (never
an error). The page size is the user's own setting (dashboard.preferences).

A view builds `Table(request, rows, columns, default="name")` and hands it to the template as
`table`; templates render its header with `dashboard/table/head.html`, its pager with
`dashboard/table/pager.html` and its bulk bar with `dashboard/table/bulk.html`."""
from dataclasses import dataclass, field
from operator import attrgetter

from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.utils.http import urlencode

from .preferences import page_size_of

SORT, DIRECTION, PAGE = "sort", "dir", "page"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    order: tuple[str, ...] = ()  # model fields (or attributes, for a list) the column sorts by; () = not sortable
    css: str = ""

    @property
    def sortable(self) -> bool:
        return bool(self.order)


@dataclass
class Header:
    column: Column
    aria_sort: str  # "ascending" | "descending" | "none" (sortable), "" (not sortable)
    url: str = ""
    next_label: str = ""


@dataclass
class Table:
    """One panel's table for this request: the sort in force, the page of rows, the links."""
    request: object
    rows: object  # a QuerySet, or a list of objects (sorted in Python by the same attributes)
    columns: list[Column]
    default: str  # the default sort key; "-name" for descending
    name: str = "rows"  # the table's id prefix (several tables on one page keep their own params)
    prefix: str = ""  # query parameter prefix: "" for the page's main table
    page_size: int | None = None
    page: object = field(init=False)
    sort: str = field(init=False)
    descending: bool = field(init=False)

    def __post_init__(self):
        params = self.request.GET
        columns = {c.key: c for c in self.columns if c.sortable}
        default_key = self.default.lstrip("-")
        key = params.get(self.prefix + SORT, "")
        if key in columns:
            self.sort, self.descending = key, params.get(self.prefix + DIRECTION) == "desc"
        else:  # an unknown or missing key: the table's own order, never an error
            self.sort, self.descending = default_key, self.default.startswith("-")
        ordered = self._ordered(columns[self.sort].order)
        size = self.page_size or page_size_of(self.request)
        self.page = Paginator(ordered, size).get_page(params.get(self.prefix + PAGE))

    def _ordered(self, fields: tuple[str, ...]):
        if isinstance(self.rows, QuerySet):
            terms = [F(f).desc(nulls_last=True) if self.descending else F(f).asc(nulls_first=True) for f in fields]
            return self.rows.order_by(*terms, "-pk" if self.descending else "pk")
        getter = attrgetter(*fields)

        def sort_key(obj):
            value = getter(obj)
            values = value if len(fields) > 1 else (value,)
            # None sorts first; strings without case, as PostgreSQL's collation roughly does
            return tuple((v is not None, v.lower() if isinstance(v, str) else v) for v in values)

        return sorted(self.rows, key=sort_key, reverse=self.descending)

    @property
    def object_list(self):
        return self.page.object_list

    @property
    def is_default_order(self) -> bool:
        return self.sort == self.default.lstrip("-") and self.descending == self.default.startswith("-")

    def url(self, **changes) -> str:
        """This page's query string with `changes` (keys without the prefix; None drops one)."""
        params = self.request.GET.copy()
        for key, value in changes.items():
            name = self.prefix + key
            if value is None:
                params.pop(name, None)
            else:
                params[name] = str(value)
        return "?" + params.urlencode() if params else "?"

    @property
    def headers(self) -> list[Header]:
        out = []
        for column in self.columns:
            if not column.sortable:
                out.append(Header(column, ""))
                continue
            current = column.key == self.sort
            aria = ("descending" if self.descending else "ascending") if current else "none"
            to_desc = current and not self.descending
            out.append(Header(column, aria, self.url(sort=column.key, dir="desc" if to_desc else "asc", page=None),
                              "descending" if to_desc else "ascending"))
        return out

    @property
    def sortable_columns(self) -> list[Column]:
        return [c for c in self.columns if c.sortable]

    @property
    def previous_url(self) -> str:
        return self.url(page=self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(page=self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def hidden_params(self) -> list[tuple[str, str]]:
        """The query's other parameters, for a form (the narrow screens' sort form) to carry along."""
        own = {self.prefix + SORT, self.prefix + DIRECTION, self.prefix + PAGE}
        return [(k, v) for k, values in self.request.GET.lists() if k not in own for v in values]

    @property
    def query(self) -> str:
        """The sort and page in force, for a poller to ask for the same rows."""
        return urlencode({self.prefix + SORT: self.sort, self.prefix + DIRECTION: "desc" if self.descending else "asc",
                          self.prefix + PAGE: self.page.number})
