"""A claim as CSV (UTF-8 with a BOM, so Excel reads Chinese), XLSX and printable HTML.

Headings are bilingual: the finance office reads Chinese, the code and tests English.
"""

from __future__ import annotations

import csv
import html
import io
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from facility_app.settlement.claims import Claim, ClaimLine
from facility_app.settlement.rules import units_text

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "html")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}

HEADINGS = [
    "类型 Kind",
    "编号 Child id",
    "姓名 Name",
    "班级 Class",
    "在园天数 Days enrolled",
    "服务天数 Service days",
    "出勤天数 Days attended",
    "折算天数 Attended units",
    "标准 Rate",
    "规则 Rule applied",
    "金额 Amount",
    "所属月份 Adjusts month",
    "原因 Reason",
]
GRADES = {
    "demonstration": "示范",
    "level1": "一级",
    "level2": "二级",
    "level3": "三级",
    "ungraded": "未评级",
}


def filename(claim: Claim, fmt: str) -> str:
    """The download's file name."""
    return f"settlement-{claim.month}.{fmt}"


def _row(line: ClaimLine, *, names: bool) -> list[Any]:
    return [
        "调整 adjustment" if line.adjusts_month else "申报 claim",
        line.pseudonym,
        line.name if names else "",
        line.class_name,
        line.days_enrolled,
        line.service_days,
        line.days_attended,
        units_text(line.units),
        line.rate,
        line.rule_text,
        line.amount,
        line.adjusts_month or "",
        line.reason,
    ]


def rows(claim: Claim, *, names: bool = True) -> Iterator[list[Any]]:
    """Every line, adjustments after the month's lines, then the totals."""
    for line in [*claim.lines, *claim.adjustments]:
        yield _row(line, names=names)
    for t in claim.class_totals():
        yield ["班级合计 class total", "", "", t.class_name, t.children, *[""] * 5, t.amount]
    yield ["调整合计 adjustments", *[""] * 9, claim.adjustment_total]
    yield ["机构合计 facility total", "", "", "", len(claim.lines), *[""] * 5, claim.total]


def _title(claim: Claim) -> list[str]:
    d = claim.facility_details
    state = "已结算 settled" if claim.settled else "草稿 draft"
    return [f"{d['name']} {claim.month} 托育补贴结算 subsidy claim ({state})"]


def to_csv(claim: Claim, *, names: bool = True) -> bytes:
    """The claim as CSV bytes, UTF-8 with a byte-order mark."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(_title(claim))
    writer.writerow(HEADINGS)
    for row in rows(claim, names=names):
        writer.writerow(["" if v is None else str(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(claim: Claim, *, names: bool = True) -> bytes:
    """The claim as an XLSX workbook; amounts are numbers formatted to the fen."""
    from openpyxl import Workbook

    # Write-only mode streams rows: a 200-child month stays well inside the time budget.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(claim.month)
    sheet.append(_title(claim))
    sheet.append(HEADINGS)
    for row in rows(claim, names=names):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_html(claim: Claim, *, names: bool = True) -> bytes:
    """A printable page with the facility's details and a signature line."""
    d = claim.facility_details
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADINGS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>"
        for row in rows(claim, names=names)
    )
    state = "已结算 settled" if claim.settled else "草稿，未结算 draft, not settled"
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{e(d["name"])} {claim.month}</title>
<style>
body{{font-family:sans-serif;margin:1.5cm}} table{{border-collapse:collapse;width:100%}}
th,td{{border:1px solid #444;padding:2px 4px;font-size:10pt}} .sign{{margin-top:2cm}}
.sign span{{display:inline-block;width:6cm;border-bottom:1px solid #000;margin:0 1cm}}
@media print{{@page{{size:A4 landscape}}}}
</style></head><body>
<h1>托育机构补贴结算单 Subsidy claim {claim.month}</h1>
<p>{e(d["name"])} · 登记号 {e(d["registration_no"])} · 备案号 {e(d["filing_no"])}
 · 等级 {e(GRADES.get(d["grade"], d["grade"]))} · 普惠 {"是" if d["puhui_certified"] else "否"}
 · {e(d.get("address") or "")}</p>
<p>{e(state)} · 服务天数 service days {claim.service_days} · 幼儿 children {len(claim.lines)}
 · 合计 total {claim.total} 元</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<p class="sign">机构负责人签字 Director<span></span> 日期 Date<span></span></p>
<p class="sign">经办人 Prepared by<span></span> 盖章 Seal<span></span></p>
</body></html>"""
    return page.encode("utf-8")


def export(claim: Claim, fmt: str, *, names: bool = True) -> bytes:
    """The claim in one of :data:`FORMATS`."""
    if fmt == "csv":
        return to_csv(claim, names=names)
    if fmt == "xlsx":
        return to_xlsx(claim, names=names)
    if fmt == "html":
        return to_html(claim, names=names)
    raise ValueError(f"unknown export format {fmt!r}")
