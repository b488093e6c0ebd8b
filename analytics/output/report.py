"""The situation report (情况报告) of one round and area, written from the data.

The structure follows the field report in ../shared/seed/report-2017.txt (an official's
report on 诗礼乡's 2017 dynamic management): title and date, scope, then

- 一、工作开展情况: analysis meetings (场, 人次; township- and village-level), their phases
  with date spans, households surveyed (户, 人) and the survey dates;
- 二、动态管理结果: 拟退出 / 返贫 / 新增 (and 剔除) households and persons;
- 三、核查发现: 漏评, 返贫, 错评 and 错评率, 错退 and 错退率, 漏评率, 综合贫困发生率, 群众认可度;
- 四、易地扶贫搬迁: concentrated sites, relocated households, those over the housing
  standard and the remedies recorded;
- 五、需要关注的村和问题: villages above a rate ceiling (or below the approval floor), and
  counts of anomalies by rule and by village when the caller passes them;
- 六、各村主要指标: one row per village.

Every figure comes from ``queries.metrics_frame`` and the breakdowns; the limits come from
``Store.settings()``. A section with nothing to report says so in one line. No name and
no ID number is ever written: anomalies are counted, never listed.

``build_report`` returns a ``Report`` (headings, paragraphs and display-ready tables);
``to_markdown`` and ``to_docx`` render it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.domain.labels import EMPTY, fmt_rate, label, md_escape
from analytics.figures import coverage, metrics, queries
from analytics.figures.limits import is_beyond
from analytics.store.database import Store

NO_VILLAGE = "（乡级）"
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
_NUMERALS = "一二三四五六七八九十"


# ------------------------------------------------------------------------ the model
@dataclass
class Table:
    """A display-ready table: Chinese column headers, every cell already text.

    Parameters
    ----------
    caption : the line shown above the table.
    frame : the rows; columns are the Chinese headers.
    """

    caption: str
    frame: pd.DataFrame


@dataclass
class Section:
    """One numbered part of the report: a heading, then paragraphs and tables in order.

    Parameters
    ----------
    heading : e.g. "一、工作开展情况".
    blocks : paragraphs (str) and tables (``Table``) in reading order.
    """

    heading: str
    blocks: list[str | Table] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        """The paragraphs, without the tables."""
        return [b for b in self.blocks if isinstance(b, str)]

    @property
    def tables(self) -> list[Table]:
        """The tables, without the paragraphs."""
        return [b for b in self.blocks if isinstance(b, Table)]


@dataclass
class Report:
    """A situation report, ready to render.

    Parameters
    ----------
    title : e.g. "诗礼乡2017年精准核查情况报告".
    sections : the numbered sections in order.
    date_line : the line under the title (the date the report was generated).
    preamble : scope lines between the date and the first section.
    round_name : the round reported on.
    townships, villages : the area (villages empty = every village of the townships).
    generated : the date the report was generated.
    totals : the area's metrics (``metrics.METRIC_KEYS``) as one record.
    """

    title: str
    sections: list[Section]
    date_line: str = ""
    preamble: list[str] = field(default_factory=list)
    round_name: str = ""
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    generated: dt.date | None = None
    totals: dict[str, object] = field(default_factory=dict)

    def section(self, prefix: str) -> Section:
        """The section whose heading starts with (or contains) ``prefix``.

        Raises
        ------
        KeyError
            When no heading matches.
        """
        for s in self.sections:
            if s.heading.startswith(prefix) or prefix in s.heading:
                return s
        raise KeyError(prefix)

    def text(self) -> str:
        """Every line of prose (title, date, preamble and paragraphs), one per line."""
        lines = [self.title, self.date_line, *self.preamble]
        for s in self.sections:
            lines.append(s.heading)
            lines.extend(s.paragraphs)
        return "\n".join(x for x in lines if x)


# ------------------------------------------------------------------------ formatting
def _int(value: Any) -> int:
    if value is None:
        return 0
    try:
        if pd.isna(value):
            return 0
    except (TypeError, ValueError):
        pass
    return int(value)


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _measured(d: _Data, *inputs: str) -> bool:
    """Whether the area's files measured every one of ``inputs`` (not MISSING)."""
    return all(d.totals.get(f"coverage_{i}") != coverage.MISSING for i in inputs)


def _surveyed(d: _Data) -> bool:
    """Whether the area has surveyed households (the findings and the dynamics need them)."""
    return _measured(d, "households") and bool(_int(d.totals.get("households_total")))


def _partly(d: _Data, *inputs: str) -> str:
    """A clause after a figure some of whose files lacked an input ("" when none did)."""
    found = [i for i in inputs if d.totals.get(f"coverage_{i}") == coverage.PARTIAL]
    if not found:
        return ""
    return "（" + "；".join(label(f"why_partial_{i}", "zh") for i in found) + "）"


def _hp(households: object, persons: object) -> str:
    return f"{_int(households)}户{_int(persons)}人"


def _pair(households: object, persons: object) -> str:
    if _missing(households) or _missing(persons):
        return EMPTY
    return f"{_int(households)}/{_int(persons)}"


def _date(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(ts) else pd.Timestamp(ts)


def fmt_date(value: object, *, year: bool = True) -> str:
    """A date as "2017年7月6日" (or "7月6日" without the year)."""
    ts = _date(value)
    if ts is None:
        return ""
    md = f"{ts.month}月{ts.day}日"
    return f"{ts.year}年{md}" if year else md


def fmt_span(start: object, end: object, *, year: bool = True) -> str:
    """A date span as the seed writes it: "2017年7月12日至13日", "6月28日至7月5日"."""
    a, b = _date(start), _date(end)
    if a is None or b is None:
        return fmt_date(a if a is not None else b, year=year)
    if a > b:
        a, b = b, a
    first = fmt_date(a, year=year)
    if a == b:
        return first
    if a.year != b.year:
        return f"{fmt_date(a)}至{fmt_date(b)}"
    if a.month == b.month:
        return f"{first}至{b.day}日"
    return f"{first}至{fmt_date(b, year=False)}"


def _names(items: Sequence[str], unit: str, limit: int = 3) -> str:
    """Names joined with "、", or "三合村等5个村" beyond ``limit`` names."""
    items = list(items)
    if len(items) <= limit:
        return "、".join(items)
    return f"{items[0]}等{len(items)}个{unit}"


def _ordinal(n: int) -> str:
    return _NUMERALS[n - 1] if 1 <= n <= len(_NUMERALS) else str(n)


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


# ------------------------------------------------------------------------ building
@dataclass
class _Data:
    """Everything one report reads, fetched once."""

    round_name: str
    townships: tuple[str, ...]
    villages: tuple[str, ...]
    totals: dict[str, object]
    per_village: pd.DataFrame
    meetings: pd.DataFrame
    survey: pd.DataFrame
    relocation: pd.DataFrame
    village_table: pd.DataFrame
    ceilings: dict[str, float]
    approval_floor: float
    area_standard: float
    year: int | None


def _fetch(store: Store, round_name: str, townships, villages) -> _Data:
    settings = store.settings()
    standard = settings.area_standard
    where = {"townships": townships, "villages": villages}
    county = queries.metrics_frame(store, round_name, "county", area_standard=standard, **where)
    per_village = queries.metrics_frame(
        store, round_name, "village", area_standard=standard, **where
    )
    if len(county):
        totals = county.iloc[0].to_dict()
    else:
        totals = {k: None for k in metrics.METRIC_KEYS}
        totals |= {c: coverage.MISSING for c in coverage.COLUMNS}
    filters = metrics.Filters(round_name, tuple(townships), tuple(villages))
    meetings = queries.meetings(store, filters)
    survey = queries.survey_progress(store, filters)
    relocation = queries.relocation_households(store, filters, standard)
    # The townships that have any row in the area (the title and scope name them).
    found = sorted(
        {
            t
            for frame in (per_village, meetings, survey, relocation)
            if len(frame)
            for t in frame["township"].dropna()
        }
    )
    return _Data(
        round_name=round_name,
        townships=tuple(found) or tuple(townships),
        villages=tuple(villages),
        totals=totals,
        per_village=per_village,
        meetings=meetings,
        survey=survey,
        relocation=relocation,
        village_table=queries.village_table(store, filters),
        ceilings=dict(settings.rate_ceilings),
        approval_floor=settings.approval_floor,
        area_standard=standard,
        year=queries.round_year(store, round_name),
    )


def _area_name(d: _Data) -> str:
    townships = _names(d.townships, "乡镇")
    if not d.villages:
        return townships
    villages = _names(d.villages, "村")
    return f"{townships}{villages}" if len(d.townships) == 1 else villages


def _title(d: _Data) -> str:
    name = d.round_name
    if d.year is not None and not re.search(r"(19|20)\d{2}", name):
        name = f"{d.year}年{name}"
    suffix = "" if name.endswith(("情况报告", "报告")) else "情况报告"
    return f"{_area_name(d)}{name}{suffix}"


def _dates(d: _Data) -> list[pd.Timestamp]:
    out: list[pd.Timestamp] = []
    for frame, col in ((d.meetings, "meeting_date"), (d.survey, "survey_date")):
        if len(frame):
            out.extend(x for x in (_date(v) for v in frame[col]) if x is not None)
    return out


def _present_villages(d: _Data) -> list[str]:
    if not len(d.per_village):
        return []
    return list(_dedupe(d.per_village["village"].dropna()))


def _preamble(d: _Data) -> list[str]:
    present = _present_villages(d)
    if d.villages:
        area = f"{'、'.join(d.townships)}{'、'.join(d.villages)}" if d.townships else ""
        area = area or "、".join(d.villages)
        missing = [v for v in d.villages if v not in present]
        if missing:
            area += f"（其中{'、'.join(missing)}本批次无数据）"
    else:
        area = "、".join(d.townships) or "（无）"
        if present:
            area += f"（{len(present)}个行政村"
            vt = d.village_table
            known = vt["is_poor_village"].dropna().astype(bool) if len(vt) else pd.Series()
            if len(known):
                poor = int(known.sum())
                area += f"，其中贫困村{poor}个、非贫困村{len(known) - poor}个"
            area += "）"
    lines = [f"范围：{area}", f"批次：{d.round_name}"]
    dates = _dates(d)
    if dates:
        lines.append(f"调查及会议日期：{fmt_span(min(dates), max(dates))}")
    else:
        lines.append("调查及会议日期：本批次未记录日期")
    return lines


def _work_section(d: _Data) -> Section:
    s = Section("一、工作开展情况")
    t = d.totals
    m = d.meetings
    if len(m):
        m = m.assign(meeting_date=pd.to_datetime(m["meeting_date"], errors="coerce"))
        n, people = int(m["meetings"].sum()), _int(m["attendance"].sum())
        town = m[m["village"].isna()]
        village = m[m["village"].notna()]
        group = village[village["group"].notna()]
        levels = "乡村两级" if len(town) and len(village) else ("乡级" if len(town) else "各村")
        text = f"{levels}共召开贫情分析会议{n}场{people}人次"
        parts = []
        if len(town):
            t_n, t_p = int(town["meetings"].sum()), _int(town["attendance"].sum())
            parts.append(f"乡级会议{t_n}场{t_p}人次")
        if len(village):
            v_text = f"村级会议{int(village['meetings'].sum())}场"
            v_text += f"{_int(village['attendance'].sum())}人次"
            if len(group):
                v_text += f"（其中村民小组会议{int(group['meetings'].sum())}场"
                v_text += f"{_int(group['attendance'].sum())}人次）"
            parts.append(v_text)
        if len(town) and len(village):
            text += "，其中" + "，".join(parts)
        dated = m["meeting_date"].dropna()
        if len(dated):
            text += f"；会议日期为{fmt_span(dated.min(), dated.max())}"
        s.blocks.append(text + _partly(d, "meetings") + "。")
        s.blocks.extend(_phase_lines(m))
    elif not _measured(d, "meetings"):
        s.blocks.append(label("why_missing_meetings") + "。")
    else:
        s.blocks.append("本批次未录入贫情分析会议记录。")
    households, persons = t.get("households_total"), t.get("persons_total")
    if _measured(d, "households") and not _missing(households) and _int(households):
        text = f"工作队入户调查{_hp(households, persons)}"
        sv = d.survey
        dates = pd.to_datetime(sv["survey_date"], errors="coerce") if len(sv) else pd.Series()
        if len(sv) and dates.notna().any():
            text += f"，调查日期为{fmt_span(dates.min(), dates.max())}"
            undated = int(sv.loc[dates.isna(), "households"].sum())
            if undated:
                text += f"（另有{undated}户未记录调查日期）"
        s.blocks.append(text + _partly(d, "households") + "。")
    else:
        s.blocks.append("本批次无入户调查数据。")
    return s


def _phase_lines(m: pd.DataFrame) -> list[str]:
    """Sentences on the phases: "第一阶段贫情分析（6月28日至7月5日）召开会议73场847人次；…"."""
    if m["phase"].isna().all():
        return []
    phases = (
        m.assign(phase=m["phase"].fillna(""))
        .groupby("phase", dropna=False)
        .agg(
            first=("meeting_date", "min"),
            last=("meeting_date", "max"),
            meetings=("meetings", "sum"),
            attendance=("attendance", "sum"),
        )
        .reset_index()
        .sort_values(["first", "phase"], na_position="last")
    )
    parts, k = [], 0
    for row in phases.itertuples(index=False):
        span = fmt_span(row.first, row.last, year=False)
        span = f"（{span}）" if span else ""
        counts = f"召开会议{int(row.meetings)}场{_int(row.attendance)}人次"
        if row.phase:
            k += 1
            parts.append(f"第{_ordinal(k)}阶段{row.phase}{span}{counts}")
        else:
            parts.append(f"未注明阶段的会议{span}{int(row.meetings)}场{_int(row.attendance)}人次")
    starts = [
        f"{fmt_date(r.first, year=False)}起开展第{_ordinal(i + 1)}阶段{r.phase}工作"
        for i, r in enumerate(r for r in phases.itertuples(index=False) if r.phase)
        if _date(r.first) is not None
    ]
    lines = []
    if starts:
        lines.append("，".join(starts) + "。")
    lines.append("分阶段看，" + "；".join(parts) + "。")
    return lines


def _dynamics_section(d: _Data) -> Section:
    s = Section("二、动态管理结果")
    t = d.totals
    if not _surveyed(d):
        s.blocks.append("本批次无入户调查数据，无动态管理结果。")
        return s
    s.blocks.append(
        f"调查前建档立卡户{_hp(t['registered_households'], t['registered_persons'])}"
        f"（其中未脱贫{_hp(t['remaining_poor_households'], t['remaining_poor_persons'])}，"
        f"已脱贫{_hp(t['exited_households'], t['exited_persons'])}），"
        f"非建档立卡户{_hp(t['nonregistered_households'], t['nonregistered_persons'])}。"
    )
    families = ("exit_proposed", "relapse", "new", "removed")
    if not _measured(d, "adjustment"):
        s.blocks.append("本批次文件没有“动态管理结果”列，无动态调整数据。")
        return s
    if not any(_int(t.get(f"{f}_households")) for f in families):
        s.blocks.append("本批次未记录动态管理调整结果（拟退出、返贫、新增、剔除）。")
        return s
    parts = [
        f"拟退出{_hp(t['exit_proposed_households'], t['exit_proposed_persons'])}",
        f"返贫{_hp(t['relapse_households'], t['relapse_persons'])}",
        f"新增{_hp(t['new_households'], t['new_persons'])}",
    ]
    if _int(t.get("removed_households")):
        parts.append(f"剔除{_hp(t['removed_households'], t['removed_persons'])}")
    s.blocks.append("经贫情分析、入户调查，" + "，".join(parts) + _partly(d, "adjustment") + "。")
    return s


def _rate_text(d: _Data, key: str, value: Any) -> str:
    """A rate as "错评率5.23%", plus "（高于2.00%的限值）" when above its ceiling."""
    text = f"{label(key)}{fmt_rate(value)}"
    ceiling = d.ceilings.get(key)
    if is_beyond(value, ceiling, floor=False):
        text += f"（高于{fmt_rate(ceiling)}的限值）"
    return text


def _findings_section(d: _Data) -> Section:
    s = Section("三、核查发现")
    t = d.totals
    if not _surveyed(d):
        s.blocks.append("本批次无入户调查数据，无核查结论。")
        return s
    rates = []
    if not _measured(d, "verification"):
        s.blocks.append(
            "本批次未核查：文件中没有“核查结论”列（或该列全部为空），无错评、漏评、错退结论。"
        )
    else:
        parts = [
            f"漏评户{_hp(t['exclusion_error_households'], t['exclusion_error_persons'])}",
        ]
        if _measured(d, "adjustment") and _int(t.get("relapse_households")):
            parts.append(f"返贫{_hp(t['relapse_households'], t['relapse_persons'])}")
        parts += [
            f"错评户{_hp(t['inclusion_error_households'], t['inclusion_error_persons'])}",
            _rate_text(d, "inclusion_error_rate", t.get("inclusion_error_rate")),
            f"错退户{_hp(t['wrongful_exit_households'], t['wrongful_exit_persons'])}",
            _rate_text(d, "wrongful_exit_rate", t.get("wrongful_exit_rate")),
        ]
        s.blocks.append("共核查出" + "，".join(parts) + _partly(d, "verification") + "。")
        rates.append(_rate_text(d, "exclusion_error_rate", t.get("exclusion_error_rate")))
    comprehensive = t.get("comprehensive_poverty_rate")
    if not _missing(comprehensive):
        text = _rate_text(d, "comprehensive_poverty_rate", comprehensive)
        text += f"（乡村人口{_int(t.get('rural_population'))}人"
        if _partly(d, "verification"):
            text += "；" + label("why_partial_comprehensive", "zh")
        rates.append(text + "）")
    answered = t.get("approval_answered")
    if _measured(d, "approval") and not _missing(answered) and _int(answered):
        approval = f"群众认可度{fmt_rate(t.get('approval_rate'))}"
        approval += f"（{_int(t.get('approval_yes'))}/{_int(answered)}户认可"
        rate = t.get("approval_rate")
        if is_beyond(rate, d.approval_floor, floor=True):
            approval += f"，低于{fmt_rate(d.approval_floor)}的要求"
        rates.append(approval + "）" + _partly(d, "approval"))
    if rates:
        s.blocks.append("，".join(rates) + "。")
    return s


def _relocation_section(d: _Data) -> Section:
    s = Section("四、易地扶贫搬迁")
    t = d.totals
    r = d.relocation
    if not _measured(d, "relocation") or _missing(t.get("relocated_households")):
        s.blocks.append(label("why_missing_relocation") + "。")
        return s
    if not _int(t.get("relocated_households")) and not len(r):
        s.blocks.append("本批次易地扶贫搬迁表中没有所选范围内的搬迁户。")
        return s
    text = ""
    if _measured(d, "relocation_site") and not _missing(t.get("relocation_sites")):
        text = f"易地扶贫搬迁集中安置点{_int(t.get('relocation_sites'))}个"
        concentrated = r[r["concentrated"].fillna(False).astype(bool)]
        names = _dedupe(concentrated["site"].astype(str)) if len(concentrated) else ()
        if names:
            text += f"（{_names(names, '安置点')}）"
        text += _partly(d, "relocation_site") + "，"
    text += f"搬迁安置{_hp(t['relocated_households'], t['relocated_persons'])}"
    text += _partly(d, "relocation")
    scattered = r[r["dispersed"].fillna(False).astype(bool)]
    if len(scattered):
        text += f"，其中分散安置{_hp(len(scattered), scattered['persons'].sum())}"
    std = f"{d.area_standard:g}"
    over_h = _int(t.get("relocation_over_standard_households"))
    if not over_h:
        s.blocks.append(text + f"；新建住房面积均未超过每人{std}平方米的标准。")
        return s
    text += f"；按每人{std}平方米的标准，新建住房面积超标"
    text += f"{_hp(over_h, t.get('relocation_over_standard_persons'))}。"
    s.blocks.append(text)
    over = r[r["over_standard"].fillna(False).astype(bool)]
    remedies = over["remedy"].fillna("").astype(str).str.strip()
    counts = remedies[remedies != ""].value_counts()
    pending = int((remedies == "").sum())
    parts = [f"{name}{int(n)}户" for name, n in counts.items()]
    if parts:
        line = "超标户的整改措施：" + "，".join(parts)
        line += f"；尚未落实整改措施{pending}户。" if pending else "；超标户均已落实整改措施。"
    else:
        line = f"超标{over_h}户均未记录整改措施。"
    s.blocks.append(line)
    return s


def _village_label(row: pd.Series, multi: bool) -> str:
    village = row["village"] if isinstance(row["village"], str) else NO_VILLAGE
    return f"{row['township']}{village}" if multi else village


def _exceedances(d: _Data) -> pd.DataFrame:
    multi = len(d.townships) > 1
    rows = []
    for _, row in d.per_village.iterrows():
        if not isinstance(row["village"], str):
            continue
        for key, ceiling in d.ceilings.items():
            value = row.get(key)
            if is_beyond(value, ceiling, floor=False):
                rows.append((_village_label(row, multi), key, value, f"≤{fmt_rate(ceiling)}"))
        value = row.get("approval_rate")
        if is_beyond(value, d.approval_floor, floor=True):
            floor = f"≥{fmt_rate(d.approval_floor)}"
            rows.append((_village_label(row, multi), "approval_rate", value, floor))
    return pd.DataFrame(
        [{"行政村": v, "指标": label(k), "数值": fmt_rate(x), "限值": c} for v, k, x, c in rows],
        columns=["行政村", "指标", "数值", "限值"],
    )


def _attention_section(d: _Data, anomalies: pd.DataFrame | None) -> Section:
    s = Section("五、需要关注的村和问题")
    pv = d.per_village
    limits = {**d.ceilings, "approval_rate": d.approval_floor}
    # only the rates some village has a figure of are judged; the others are named
    judged = {k: v for k, v in limits.items() if len(pv) and k in pv and pv[k].notna().any()}
    unjudged = [label(k) for k in limits if k not in judged]
    standards = [
        f"{label(k)}{'不低于' if k == 'approval_rate' else '不高于'}{fmt_rate(v)}"
        for k, v in judged.items()
    ]
    head = "（一）指标超限的村。"
    if not len(pv):
        s.blocks.append(head + "本批次无分村数据。")
    elif not judged:
        s.blocks.append(head + f"本批次没有{'、'.join(unjudged)}的数据，无法判断是否超限。")
    else:
        head += "按" + "、".join(standards) + "的要求，"
        table = _exceedances(d)
        if len(table):
            names = _dedupe(table["行政村"])
            s.blocks.append(head + f"共有{len(names)}个村的指标超限：{'、'.join(names)}。")
            s.blocks.append(Table("指标超限的村", table))
        else:
            s.blocks.append(head + "各村各项指标均未超限。")
        if unjudged:
            s.blocks.append(f"本批次没有{'、'.join(unjudged)}的数据，未作判断。")
    if anomalies is not None:
        s.blocks.extend(_anomaly_blocks(d, anomalies))
    return s


def _anomaly_blocks(d: _Data, anomalies: pd.DataFrame) -> list[str | Table]:
    """Counts by rule and by village: never a name, an ID number or a message."""
    a = anomalies
    if d.villages and "village" in a:
        a = a[a["village"].isin(d.villages)]
    if d.townships and "township" in a and len(d.townships):
        a = a[a["township"].isin(d.townships) | a["township"].isna()]
    head = "（二）数据异常。"
    if not len(a):
        return [head + "按异常规则检查，未发现疑似问题数据。"]
    a = a.copy()
    for col in ("rule", "name", "severity", "township", "village", "household_id"):
        if col not in a:
            a[col] = None
    a["name"] = a["name"].fillna(a["rule"]).fillna("（未命名规则）").astype(str)
    a["severity"] = a["severity"].map(lambda v: label(v) if v else "")
    households = a["household_id"].dropna().nunique()
    text = f"{head}按异常规则检查，发现疑似问题{len(a)}条"
    if households:
        text += f"，涉及{households}户"
    blocks: list[str | Table] = [text + "，需逐条核实整改。"]
    by_rule = (
        a.groupby(["name", "severity"], dropna=False, sort=False)
        .agg(n=("name", "size"), hh=("household_id", "nunique"), v=("village", "nunique"))
        .reset_index()
        .sort_values(["n", "name"], ascending=[False, True])
    )
    blocks.append(
        Table(
            "疑似问题（按规则）",
            pd.DataFrame(
                {
                    "规则": by_rule["name"],
                    "严重程度": by_rule["severity"].fillna(""),
                    "条数": by_rule["n"].astype(int).astype(str),
                    "涉及户数": by_rule["hh"].astype(int).astype(str),
                    "涉及村数": by_rule["v"].astype(int).astype(str),
                }
            ).reset_index(drop=True),
        )
    )
    multi = a["township"].dropna().nunique() > 1
    place = a["village"].where(a["village"].notna(), NO_VILLAGE).astype(str)
    if multi:
        place = a["township"].fillna("").astype(str) + place
    by_village = (
        a.assign(place=place)
        .groupby("place", sort=False)
        .agg(n=("place", "size"), hh=("household_id", "nunique"), rules=("name", "nunique"))
        .reset_index()
        .sort_values(["n", "place"], ascending=[False, True])
    )
    blocks.append(
        Table(
            "疑似问题（按村）",
            pd.DataFrame(
                {
                    "行政村": by_village["place"],
                    "条数": by_village["n"].astype(int).astype(str),
                    "涉及户数": by_village["hh"].astype(int).astype(str),
                    "涉及规则数": by_village["rules"].astype(int).astype(str),
                }
            ).reset_index(drop=True),
        )
    )
    return blocks


VILLAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("调查(户/人)", "total"),
    ("建档立卡(户/人)", "registered"),
    ("新增(户/人)", "new"),
    ("返贫(户/人)", "relapse"),
    ("拟退出(户/人)", "exit_proposed"),
    ("错评(户/人)", "inclusion_error"),
    ("错评率", "inclusion_error_rate"),
    ("漏评(户/人)", "exclusion_error"),
    ("漏评率", "exclusion_error_rate"),
    ("错退(户/人)", "wrongful_exit"),
    ("错退率", "wrongful_exit_rate"),
)


def _village_row(label: str, row: dict) -> dict[str, str]:
    out = {"行政村": label}
    for header, key in VILLAGE_COLUMNS:
        if key.endswith("_rate"):
            out[header] = fmt_rate(row.get(key))
        elif key == "total":
            out[header] = _pair(row.get("households_total"), row.get("persons_total"))
        else:
            out[header] = _pair(row.get(f"{key}_households"), row.get(f"{key}_persons"))
    return out


def _village_section(d: _Data) -> Section:
    s = Section("六、各村主要指标")
    pv = d.per_village
    if not len(pv) or not _int(pv["households_total"].sum()):
        s.blocks.append("本批次无分村调查数据。")
        return s
    multi = len(d.townships) > 1
    rows = [
        _village_row(_village_label(r, multi), r.to_dict())
        for _, r in pv.iterrows()
        if _int(r["households_total"])
    ]
    if len(rows) > 1:
        rows.append(_village_row("合计", d.totals))
    s.blocks.append("各村调查户数、动态管理结果和核查发现如下（户/人，比率按人口计算）。")
    s.blocks.append(Table("各村主要指标", pd.DataFrame(rows)))
    return s


def build_report(
    store: Store,
    round_name: str | None = None,
    villages: Sequence[str] = (),
    anomalies: pd.DataFrame | None = None,
    *,
    townships: Sequence[str] = (),
    today: dt.date | None = None,
) -> Report:
    """The situation report (情况报告) of one round and area, every figure from the data.

    Parameters
    ----------
    store : the database.
    round_name : the round; None for the latest (``store.latest_round()``).
    villages : the villages to report on; empty for every village.
    anomalies : optional rule hits (columns level, township, village, household_id, rule,
        name, name_en, severity, message); summarised as counts per rule and per village,
        restricted to the selected villages. Names, ID numbers and messages are never
        printed.
    townships : optional townships to report on; empty for all.
    today : the report date (defaults to today's date).

    Returns
    -------
    Report : title, date line, scope and the six sections.

    Raises
    ------
    KeyError
        When ``round_name`` is not a round of the database, or the database has no round.
    """
    if round_name is None:
        round_name = store.latest_round()
        if round_name is None:
            raise KeyError("数据库中还没有任何批次 / the database holds no round")
    elif round_name not in store.round_names():
        raise KeyError(round_name)
    villages = _dedupe(villages)
    townships = _dedupe(townships)
    d = _fetch(store, round_name, townships, villages)
    generated = today or dt.date.today()
    return Report(
        title=_title(d),
        date_line=f"（报告生成日期：{fmt_date(generated)}）",
        preamble=_preamble(d),
        sections=[
            _work_section(d),
            _dynamics_section(d),
            _findings_section(d),
            _relocation_section(d),
            _attention_section(d, anomalies),
            _village_section(d),
        ],
        round_name=round_name,
        townships=d.townships,
        villages=villages,
        generated=generated,
        totals=d.totals,
    )


# ------------------------------------------------------------------------ rendering
def _md_cell(value: object) -> str:
    return md_escape(value)


def _md_table(table: Table) -> str:
    f = table.frame
    lines = [f"**{md_escape(table.caption)}**", ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in f.columns) + " |")
    lines.append("| " + " | ".join("---" for _ in f.columns) + " |")
    for row in f.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines)


def to_markdown(report: Report) -> str:
    """The report as Markdown: "#" title, "##" sections, pipe tables with a bold caption.
    Every text is escaped (``labels.md_escape``): a village or round name shows as written,
    never as a link or an image."""
    parts = [f"# {md_escape(report.title)}"]
    if report.date_line:
        parts.append(md_escape(report.date_line))
    parts.extend(md_escape(line) for line in report.preamble)
    for s in report.sections:
        parts.append(f"## {md_escape(s.heading)}")
        for block in s.blocks:
            parts.append(_md_table(block) if isinstance(block, Table) else md_escape(block))
    return "\n\n".join(parts) + "\n"


def _set_font(style, name: str) -> None:
    """Sets a style's Latin and East Asian font (w:eastAsia), dropping theme fonts."""
    from docx.oxml.ns import qn

    style.font.name = name
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:eastAsia"), name)


def to_docx(report: Report) -> bytes:
    """The report as a Word document (.docx bytes).

    The title, section headings (Heading 1), paragraphs and tables ("Table Grid", bold
    Chinese header row); body text in 宋体 and headings in 黑体, set as East Asian fonts
    (w:eastAsia) so that Word shows the Chinese text in them.
    """
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = report.title
    _set_font(doc.styles["Normal"], BODY_FONT)
    doc.styles["Normal"].font.size = Pt(11)
    for name in ("Title", "Heading 1"):
        _set_font(doc.styles[name], HEADING_FONT)
        doc.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    title = doc.add_heading(report.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if report.date_line:
        date = doc.add_paragraph(report.date_line)
        date.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in report.preamble:
        doc.add_paragraph(line)
    for s in report.sections:
        doc.add_heading(s.heading, level=1)
        for block in s.blocks:
            if isinstance(block, Table):
                _docx_table(doc, block)
            else:
                doc.add_paragraph(block)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_table(doc, table: Table) -> None:
    from docx.shared import Pt

    caption = doc.add_paragraph()
    caption.add_run(table.caption).bold = True
    f = table.frame
    grid = doc.add_table(rows=len(f) + 1, cols=len(f.columns))
    grid.style = doc.styles["Table Grid"]
    for j, header in enumerate(f.columns):
        cell = grid.cell(0, j)
        cell.text = str(header)
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(9)
    for i, row in enumerate(f.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            cell = grid.cell(i, j)
            cell.text = str(value)
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(9)
