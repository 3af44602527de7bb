"""The table every list panel shares (issue 20): sortable columns, paging, row checkboxes and
bulk actions. Sorting is a server-side ORDER BY through a whitelist: each sortable column names
the model fields it orders by, and an unknown `sort` key falls back to the table's default (never
an error). The page size is the user's own setting (dashboard.preferences).

A view builds `Table(request, rows, columns, default="name")` and hands it to the template as
`table`; templates render its header with `dashboard/table/head.html`, its pager with
`dashboard/table/pager.html` and its bulk bar with `dashboard/table/bulk.html`."""
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import F

from .preferences import page_size_of

SORT, DIRECTION, PAGE = "sort", "dir", "page"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    order: tuple[str, ...] = ()  # the model fields (or annotations) the column sorts by; () = not sortable
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
    rows: object  # a QuerySet
    columns: list[Column]
    default: str  # the default sort key; "-name" for descending
    name: str = "rows"  # the table's id prefix (several tables on one page keep their own params)
    prefix: str = ""  # query parameter prefix: "" for the page's main table
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
        self.page = Paginator(ordered, page_size_of(self.request)).get_page(params.get(self.prefix + PAGE))

    def _ordered(self, fields: tuple[str, ...]):
        terms = [F(f).desc(nulls_last=True) if self.descending else F(f).asc(nulls_first=True) for f in fields]
        return self.rows.order_by(*terms, "-pk" if self.descending else "pk")  # the pk: a stable order for pages

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
