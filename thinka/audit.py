"""What a reader can derive about hidden site values: a reader model and an audit engine (pure functions).

A *group* is one published thing about one item: a Schaubild item (categories = scale codes), an item-table row
(categories = {top, rest}) or a multiple-response item (options, a 0/1 per respondent). The reader knows

- the overall row exactly (counts and N: the CSVs publish counts; whole percentages of small N pin them anyway),
- every visible site's counts and N, and that sites marked "no answers" / "not applicable" have none,
- for each hidden site an interval for its n: primary ⇒ 1 … threshold−1, secondary ⇒ ≥ threshold, the exact n
  where the rules show it, capped by the returned questionnaires the report publishes for the site.

So the hidden total R = N − Σ visible n and the hidden column totals h_c = overall_c − Σ visible_c are known.
For a 2-way table with row sums r and column sums h the exact cell bounds are the Fréchet bounds
x_ic ∈ [max(0, r_i − (R − h_c)), min(r_i, h_c)]; they depend on r_i alone, and the values r_i can take given the
other sites' intervals and Σ r = R form the integer interval [max(lo_i, R − Σ_j≠i hi_j), min(hi_i, R − Σ_j≠i lo_j)],
so the union over that interval is exact — no enumeration of vectors is needed. Merging the top codes into one
column gives the top share; the extreme means fill the site's r answers greedily from the lowest / highest codes.
Multiple response has no fixed row sums: x_io ∈ [max(0, h_o − Σ_j≠i r_j), min(r_i, h_o)].

A hidden quantity is *derivable* if its bounds collapse to one value and hiding every site with data (each with
its mark and cap) would not pin it too: what the overall row, the marks and the returned questionnaires imply
alone (e.g. 100 % agreement overall) no suppression can protect; it is residual risk, not a finding. Zero cells (a count or share pinned at 0) count only when the rules
protect zeros; a share pinned at 100 %, a pinned positive count, top share or mean always count; a pinned n counts
unless the rules show exact n.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

DISTRIBUTION, TOP, MENTIONS = "distribution", "top", "mentions"
TOP_CODE, REST_CODE = "top", "rest"
HIDDEN = ("primary", "secondary")


@dataclass(frozen=True)
class Rules:
    """The part of codebook.DisclosureRules the engine needs (duck-typed: any object with these attributes)."""

    threshold: int = 5
    protect_zeros: bool = True
    exact_n: bool = False


@dataclass(frozen=True)
class SiteView:
    """One site of a group as the reader sees it.

    reason: "" (shown), "primary", "secondary", "no_answers", "not_applicable".
    n / counts: known for shown sites (counts by category); for hidden sites n only when exact n is published.
    cap: the most answers the site can have (published returned questionnaires), None if unknown.
    """

    site: str
    reason: str
    n: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    cap: int | None = None

    @property
    def hidden(self) -> bool:
        return self.reason in HIDDEN


@dataclass(frozen=True)
class Group:
    """One published item: overall counts by category, overall N and the sites.

    kind DISTRIBUTION: categories = codes, `values` = numeric code values if a mean is published, `top` = codes of
    the top share if one is published. kind TOP: categories (TOP_CODE, REST_CODE). kind MENTIONS: options; total_n
    is the number of mentions (the N printed), site n the number of mentions at the site.
    """

    item: str
    kind: str
    categories: tuple[str, ...]
    total: Mapping[str, int]
    total_n: int
    sites: tuple[SiteView, ...]
    top: tuple[str, ...] = ()
    values: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Finding:
    """One derivable hidden value: what (n, count, share, top, mean), the category, the value and how."""

    item: str
    site: str
    what: str
    category: str
    value: float
    how: str


# ----------------------------------------------------------------------------------------------------------------
# the reader's knowledge of hidden n


def n_interval(view: SiteView, rules) -> tuple[int, int]:
    """The n a hidden site can have: reason and threshold, exact n if published, the returned-questionnaire cap."""
    if view.n is not None:
        return view.n, view.n
    lo, hi = (1, rules.threshold - 1) if view.reason == "primary" else (rules.threshold, 10**9)
    if view.cap is not None:
        hi = min(hi, view.cap)
    return lo, hi


def feasible_n(intervals: Sequence[tuple[int, int]], total: int | None) -> list[tuple[int, int]]:
    """Per site, the n it can take given every interval and (if known) the sum `total`; exact for integers."""
    if total is None:
        return list(intervals)
    lo_sum, hi_sum = sum(lo for lo, _ in intervals), sum(hi for _, hi in intervals)
    return [(max(lo, total - (hi_sum - hi)), min(hi, total - (lo_sum - lo))) for lo, hi in intervals]


# ----------------------------------------------------------------------------------------------------------------
# bounds


def _frechet(r: int, rest_total: int, h: int) -> tuple[int, int]:
    """Bounds of one cell of a row with sum r when the column sum is h and all hidden rows sum to rest_total + r."""
    return max(0, r - (rest_total - h)), min(r, h)


def _extreme_sum(r: int, columns: Sequence[tuple[float, int]]) -> float:
    """Σ value·x when r answers fill the columns (value, capacity) in the given order."""
    total, left = 0.0, r
    for value, capacity in columns:
        take = min(left, capacity)
        total, left = total + value * take, left - take
    return total


def _union(bounds: dict, key, lo, hi) -> None:
    old = bounds.get(key)
    bounds[key] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))


def _table_bounds(group: Group, h: Mapping[str, int], big_r: int, r_range: tuple[int, int]) -> dict:
    """Bounds of every published quantity of one hidden row whose n ranges over r_range (2-way table)."""
    out: dict = {}
    for r in range(r_range[0], r_range[1] + 1):
        _union(out, ("n", ""), r, r)
        for c in group.categories:
            lo, hi = _frechet(r, big_r, h[c])
            _union(out, ("count", c), lo, hi)
            if r:
                _union(out, ("share", c), 100.0 * lo / r, 100.0 * hi / r)
        if group.top and r:
            h_top = sum(h[c] for c in group.top)
            lo, hi = _frechet(r, big_r, h_top)
            _union(out, ("top", ""), 100.0 * lo / r, 100.0 * hi / r)
        if group.values and r:
            columns = sorted((group.values[c], h[c]) for c in group.categories)
            low, high = _extreme_sum(r, columns), _extreme_sum(r, columns[::-1])
            _union(out, ("mean", ""), round(low / r, 9), round(high / r, 9))
    if group.kind == TOP:  # an item table publishes only the top share and n
        out = {k: v for k, v in out.items() if k[0] in ("n",) or k == ("share", TOP_CODE)}
    return out


def _mention_bounds(group: Group, h: Mapping[str, int], i: int, ranges: Sequence[tuple[int, int]], hidden_m: int) -> dict:
    """Bounds of one hidden site's option counts and mentions total (no fixed row sums: 0/1 per respondent)."""
    lo_i, hi_i = ranges[i]
    others_hi = sum(hi for j, (_, hi) in enumerate(ranges) if j != i)
    out: dict = {}
    for o in group.categories:
        out[("count", o)] = (max(0, h[o] - others_hi), min(hi_i, h[o]))
    k = len(group.categories)
    others_lo = sum(lo for j, (lo, _) in enumerate(ranges) if j != i)
    m_lo = max(sum(lo for lo, _ in out.values()), hidden_m - others_hi * k, lo_i)
    m_hi = min(sum(hi for _, hi in out.values()), hidden_m - others_lo, hi_i * k)
    out[("n", "")] = (m_lo, m_hi)
    # % of mentions: 100 when no other option can have a hidden mention at the site, 0 when this one cannot;
    # otherwise left open (a hidden site has at least one mention, so the share is defined).
    for o in group.categories:
        others_zero = all(out[("count", p)][1] == 0 for p in group.categories if p != o)
        out[("share", o)] = (100.0, 100.0) if others_zero else (0.0, 0.0) if out[("count", o)][1] == 0 else (0.0, 100.0)
    return out


def hidden_bounds(group: Group, rules) -> dict[str, dict]:
    """{hidden site: {(what, category): (lo, hi)}} — what the reader can bound for every hidden site."""
    shown = [v for v in group.sites if not v.hidden]
    hidden = [v for v in group.sites if v.hidden]
    if not hidden:
        return {}
    h = {c: group.total.get(c, 0) - sum(v.counts.get(c, 0) for v in shown) for c in group.categories}
    big_r = group.total_n - sum(v.n or 0 for v in shown)
    intervals = [n_interval(v, rules) for v in hidden]
    if group.kind == MENTIONS:
        # respondents per site are not published, only mentions: bound respondents by the n intervals
        ranges = intervals
        return {v.site: _mention_bounds(group, h, i, ranges, big_r) for i, v in enumerate(hidden)}
    ranges = feasible_n(intervals, big_r)
    return {v.site: _table_bounds(group, h, big_r, ranges[i]) for i, v in enumerate(hidden) if ranges[i][0] <= ranges[i][1]}


def _baseline(group: Group, rules) -> Group:
    """The same group with every site that has data hidden, each with the mark it would carry (primary below the
    threshold, else secondary) and its cap: what no further suppression can take away from the reader — the
    overall row, the marks and the returned questionnaires. Sites known to have no answers stay known."""
    def hide(v: SiteView) -> SiteView:
        if v.reason in ("no_answers", "not_applicable") or v.hidden:
            return v
        reason = "primary" if (v.n or 0) < rules.threshold else "secondary"
        return SiteView(v.site, reason, n=v.n if rules.exact_n else None, cap=v.cap)

    return replace(group, sites=tuple(hide(v) for v in group.sites))


def _counts(what: str, value: float, rules) -> bool:
    if what == "n":
        return not rules.exact_n
    if value == 0 and what in ("count", "share", "top"):
        return bool(rules.protect_zeros)
    return True


def _how(group: Group, what: str, category: str, value: float, hidden_total: int) -> str:
    """Why the reader can pin the value, in words."""
    hidden = sum(1 for v in group.sites if v.hidden)
    if hidden == 1:
        return f"the only hidden site: overall minus the shown sites ({hidden_total} answers)"
    if what == "n":
        return f"the {hidden_total} hidden answers and the other hidden sites' limits (marks, returned questionnaires)"
    if what in ("share", "count") and value == 0:
        return f"none of the {hidden_total} hidden answers in category {category}"
    if what == "share" and value == 100:
        return f"all {hidden_total} hidden answers in category {category}"
    return f"the {hidden_total} hidden answers leave one possible value"


def derivable(group: Group, rules) -> list[Finding]:
    """Every hidden value of `group` the reader can pin down, except what the overall row alone implies."""
    bounds = hidden_bounds(group, rules)
    if not bounds:
        return []
    base = hidden_bounds(_baseline(group, rules), rules)
    hidden_total = group.total_n - sum(v.n or 0 for v in group.sites if not v.hidden)
    found = []
    for site, quantities in bounds.items():
        for (what, category), (lo, hi) in quantities.items():
            if lo != hi or not _counts(what, lo, rules):
                continue
            if base.get(site, {}).get((what, category)) == (lo, hi):
                continue
            found.append(Finding(group.item, site, what, category, float(lo), _how(group, what, category, lo, hidden_total)))
    return found


# ----------------------------------------------------------------------------------------------------------------
# building groups


def reader_view(site: str, reason: str, n: int | None, counts: Mapping[str, int], cap: int | None, rules) -> SiteView:
    """A SiteView of what is published: hidden sites keep only their reason (and n where exact n is shown)."""
    if reason in HIDDEN:
        return SiteView(site, reason, n=n if rules.exact_n else None, cap=cap)
    if reason in ("no_answers", "not_applicable"):
        return SiteView(site, reason, n=0)
    return SiteView(site, reason, n=n, counts=dict(counts))


def returned_cap(returned: int | None, rules) -> int | None:
    """What the published returned questionnaires tell about a site's n: exact at or above the threshold (or when
    exact n is shown), otherwise at most threshold − 1."""
    if returned is None:
        return None
    return returned if rules.exact_n or returned >= rules.threshold else rules.threshold - 1


def format_findings(findings: Sequence[Finding]) -> list[str]:
    """One line per finding: site, item, what, value, how."""
    lines = []
    for f in findings:
        what = f"{f.what}[{f.category}]" if f.category else f.what
        unit = " %" if f.what in ("share", "top") else ""
        lines.append(f"{f.site}\t{f.item}\t{what} = {f.value:g}{unit}\t{f.how}")
    return lines


# ----------------------------------------------------------------------------------------------------------------
# groups from the published CSVs (frames as thinka.publish_csv.read_published returns them)


@dataclass(frozen=True)
class ItemInfo:
    """What the audit takes from the codebook: the instrument (for the returned-questionnaire caps) and whether
    the item is multiple response. Everything else comes from the published files."""

    instrument: str
    multiple: bool = False


def _text(value) -> str:
    return "" if value is None or value != value else str(value)


def _int_or_none(value) -> int | None:
    return None if value is None or value != value else int(round(float(value)))


def published_caps(responses, rules) -> dict[tuple[str, str], int | None]:
    """{(instrument, site): most answers the site can have} from ruecklauf.csv (hidden n: below the threshold)."""
    caps: dict[tuple[str, str], int | None] = {}
    for row in responses.to_dict("records"):
        n, reason = _int_or_none(row["n"]), _text(row["reason"])
        caps[(str(row["instrument"]), str(row["site"]))] = (
            n if n is not None else rules.threshold - 1 if reason in HIDDEN else 0 if reason == "not_applicable" else None
        )
    return caps


def _published_site(row: Mapping, counts: Mapping[str, int], cap: int | None) -> SiteView:
    reason = _text(row["reason"])
    n = _int_or_none(row["valid_n"])
    if reason in HIDDEN:
        return SiteView(str(row["site"]), reason, n=n, cap=cap)
    if reason:
        return SiteView(str(row["site"]), reason, n=0)
    return SiteView(str(row["site"]), "", n=n or 0, counts=dict(counts))


def _chart_group(item: str, rows, info: ItemInfo, top_labels: str | None, caps) -> Group:
    codes = [str(c) for c in dict.fromkeys(rows.sort_values("order")["code"])]
    labels = dict(zip(rows["code"].astype(str), rows["category"].astype(str), strict=True))
    counts: dict[str, dict[str, int]] = {}
    for site, part in rows.groupby(rows["site"].astype(str), sort=False):
        counts[site] = {str(c): _int_or_none(v) or 0 for c, v in zip(part["code"], part["count"], strict=True)}
    first = rows.drop_duplicates("site").to_dict("records")
    total = next(r for r in first if str(r["site"]) == ALL)
    sites = tuple(
        _published_site(r, counts.get(str(r["site"]), {}), caps.get((info.instrument, str(r["site"]))))
        for r in first if str(r["site"]) != ALL
    )
    is_grade = rows.loc[rows["site"].astype(str) == ALL, "mean"].notna().any()
    top = tuple(c for c in codes if top_labels and labels[c] in top_labels.split(" / "))
    return Group(item, MENTIONS if info.multiple else DISTRIBUTION, tuple(codes), counts[ALL],
                 _int_or_none(total["valid_n"]) or 0, sites, top,
                 {c: float(c) for c in codes} if is_grade and not info.multiple else None)


def _top_counts(row: Mapping) -> dict[str, int]:
    n, top = _int_or_none(row["valid_n"]) or 0, row["top"]
    k = 0 if top is None or top != top else int(round(float(top) * n / 100))
    return {TOP_CODE: k, REST_CODE: n - k}


def _table_group(item: str, rows, info: ItemInfo, caps) -> Group:
    first = rows.to_dict("records")
    total = next(r for r in first if str(r["site"]) == ALL)
    sites = tuple(
        _published_site(r, _top_counts(r), caps.get((info.instrument, str(r["site"]))))
        for r in first if str(r["site"]) != ALL
    )
    return Group(item, TOP, (TOP_CODE, REST_CODE), _top_counts(total), _int_or_none(total["valid_n"]) or 0, sites)


ALL = "all"  # the overall row's site code in the published files (thinka.ALL_SITES)


def published_groups(published: Mapping, items: Mapping[str, ItemInfo], rules) -> list[Group]:
    """One group per published item: the chart's distribution (with the item table's top share where both are
    published) or the item-table row alone."""
    charts, tables = published["charts"], published["tables"]
    caps = published_caps(published["responses"], rules)
    top_labels = {str(i): _text(t) for i, t in zip(tables.get("item", []), tables.get("top_labels", []), strict=True)}
    groups = []
    for item in dict.fromkeys(charts["item"].astype(str)):
        rows = charts[charts["item"].astype(str) == item]
        groups.append(_chart_group(item, rows, items.get(item, ItemInfo("")), top_labels.get(item), caps))
    charted = set(charts["item"].astype(str))
    for item in dict.fromkeys(tables["item"].astype(str)):
        if item not in charted:
            rows = tables[tables["item"].astype(str) == item]
            groups.append(_table_group(item, rows, items.get(item, ItemInfo("")), caps))
    return groups


def audit_published(published: Mapping, items: Mapping[str, ItemInfo], rules) -> list[Finding]:
    """Every derivable hidden value in the published files."""
    return [f for group in published_groups(published, items, rules) for f in derivable(group, rules)]
