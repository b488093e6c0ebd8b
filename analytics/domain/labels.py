"""Every label on screen and in exports, in Simplified Chinese and English: one table."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from analytics.domain import schema

LABELS: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("贫困对象动态管理分析", "Poverty-target dynamic management"),
    "language": ("语言 / Language", "语言 / Language"),
    "page_overview": ("总览", "Overview"),
    "page_data": ("数据导入", "Data"),
    "demo_banner": (
        "当前显示的是演示数据（诗礼乡，2017 年情况报告）。"
        "导入本乡镇数据后可在“数据导入”页删除演示批次。",
        "Showing demo data (Shili township, the 2017 report). After importing your own data, "
        "delete the demo batches on the Data page.",
    ),
    "empty_db": (
        "数据库中还没有数据，请在“数据导入”页上传户信息表。",
        "The database is empty: upload a household workbook on the Data page.",
    ),
    "db_error": ("数据库不可用：", "The database is not available: "),
    # filters
    "round": ("批次", "Round"),
    "round_is_latest": ("这是最新批次。", "This is the latest round."),
    "year_picture": ("{y}年全年概况（未选批次）", "{y} at a glance (no round chosen)"),
    "year_picture_help": (
        "未选批次时，总览的每个数字取自本年度测量它的最新批次（共 {n} 个批次），并注明批次。",
        "With no round chosen, each overview figure comes from the year's latest round that "
        "measured it ({n} rounds), and names it.",
    ),
    "no_compare_round": (
        "没有与所选范围有共同单位的其他批次，无法对比。",
        "No other round shares a unit with the chosen area: nothing to compare.",
    ),
    "showing_round": (
        "未选批次：显示本年含{what}数据的最新批次“{r}”。",
        "No round chosen: showing '{r}', the year's latest round with {what}.",
    ),
    "round_lacks": ("批次“{r}”没有{what}数据。", "Round '{r}' holds no {what}."),
    "year_lacks": ("{y}年的批次都没有{what}数据。", "No round of {y} holds {what}."),
    "rounds_that_have": ("有{what}数据的批次（点击选择）：", "Rounds with {what} (click one):"),
    "partial_mark": ("（不完整）", " (partial)"),
    "notes": ("说明", "Notes"),
    "per_township": ("各乡镇指标", "Metrics per township"),
    "more_columns": ("更多指标列", "More columns"),
    "only_in_round": (
        "只有“{r}”有的单位（未对比）：{u}",
        "Units only '{r}' holds (not compared): {u}",
    ),
    "report_needs_round": (
        "请在左侧选择一个批次，生成该批次的情况报告。",
        "Choose a round on the left to write its situation report.",
    ),
    "tile_from_round": ("来自批次“{r}”", "from round '{r}'"),
    "tiles_from": ("来自“{r}”：{names}", "from '{r}': {names}"),
    "partial_footnote": (
        "* 不完整：部分文件或乡镇没有相应的列或表，悬停可看原因。",
        "* partial: some files or townships lack the column or table; hover for why.",
    ),
    "why_missing_households": (
        "本批次未导入户信息（无此表或各行均未通过校验）",
        "no household rows in this round (no such table, or none passed the checks)",
    ),
    "why_missing_adjustment": (
        "本批次文件没有“动态管理结果”列（或全部为空）",
        "this round's files have no adjustment column (or left it blank)",
    ),
    "why_missing_verification": (
        "本批次未核查：文件没有“核查结论”列（或全部为空）",
        "not checked in this round: no finding column (or left blank)",
    ),
    "why_missing_approval": (
        "本批次文件没有“是否认可”列（或全部为空）",
        "this round's files have no approval column (or left it blank)",
    ),
    "why_missing_meetings": (
        "本批次未导入会议记录（无此表或各行均未通过校验）",
        "no meeting rows in this round (no such table, or none passed the checks)",
    ),
    "why_missing_relocation": (
        "本批次未导入易地扶贫搬迁数据（无此表或各行均未通过校验）",
        "no relocation rows in this round (no such table, or none passed the checks)",
    ),
    "why_missing_relocation_site": (
        "易地扶贫搬迁表没有“安置点”列",
        "the relocation table has no site column",
    ),
    "why_partial_households": (
        "部分乡镇没有户信息表，合计不完整",
        "some townships have no household table: the total is partial",
    ),
    "why_partial_adjustment": (
        "部分文件没有“动态管理结果”列，数字不完整",
        "some files have no adjustment column: the figure is partial",
    ),
    "why_partial_verification": (
        "部分文件未核查（没有“核查结论”列），数字不完整",
        "some files were not checked (no finding column): the figure is partial",
    ),
    "why_partial_approval": (
        "部分文件没有“是否认可”列，数字不完整",
        "some files have no approval column: the figure is partial",
    ),
    "why_partial_meetings": (
        "部分乡镇没有贫情分析会议表，合计不完整",
        "some townships have no meeting table: the total is partial",
    ),
    "why_partial_relocation": (
        "部分乡镇没有易地扶贫搬迁表，合计不完整",
        "some townships have no relocation table: the total is partial",
    ),
    "why_partial_relocation_site": (
        "部分易地扶贫搬迁表没有“安置点”列，数字不完整",
        "some relocation tables have no site column: the figure is partial",
    ),
    "why_partial_comprehensive": (
        "部分文件没有核查结论：漏评、错退不全",
        "some files hold no findings: exclusion errors and wrongful exits are incomplete",
    ),
    "input_households": ("户信息", "household data"),
    "input_adjustment": ("动态管理结果", "adjustments"),
    "input_verification": ("核查结论", "verification findings"),
    "input_approval": ("群众认可度", "approval answers"),
    "input_meetings": ("贫情分析会议", "meetings"),
    "input_relocation": ("易地扶贫搬迁", "relocation"),
    "input_relocation_site": ("安置点", "resettlement sites"),
    "village_filter": ("行政村", "Village"),
    "all": ("全部", "All"),
    "pick_columns": ("选择要加入表格的指标", "Choose figures to add to the table"),
    # overview
    "headline": ("全乡（镇）概况", "Headline figures"),
    "per_village": ("各行政村指标", "Metrics per village"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_xlsx": ("下载 Excel", "Download Excel"),
    "threshold_over": ("高于阈值 {t}", "above {t}"),
    "threshold_ok": ("未超阈值 {t}", "within {t}"),
    "floor_ok": ("不低于 {t}", "at least {t}"),
    "floor_under": ("低于下限 {t}", "below {t}"),
    "no_findings": ("本批次未记录核查结论", "no finding recorded in this round"),
    "no_findings_page": (
        "本批次没有记录任何错评、漏评或错退结论，下列比率为 0 并不说明识别准确。",
        "This round records no inclusion, exclusion or wrongful-exit finding: its 0% rates "
        "do not show accuracy.",
    ),
    "no_meetings_round": ("本批次没有贫情分析会议记录。", "This round records no meeting."),
    "bad_link_round": (
        "链接中的批次“{r}”不存在，已显示最新批次。",
        "The link's round '{r}' does not exist; showing the latest round.",
    ),
    "no_action": ("（选择操作）", "(choose an action)"),
    "households_unit": ("户", "hh"),
    "households_unit_long": ("户数", "Households"),
    "persons_unit_long": ("人数", "Persons"),
    "persons_unit": ("人", "ppl"),
    "sessions_unit": ("场", "sessions"),
    "attendance_unit": ("人次", "attendances"),
    # upload
    "upload": ("上传数据", "Upload data"),
    "upload_help": (
        "支持 .xlsx .xlsm .xls .csv（UTF-8 或 GB18030）；"
        "可一次上传多个文件，每个文件作为一个导入批次。",
        "Accepts .xlsx .xlsm .xls .csv (UTF-8 or GB18030); several files at once, each one "
        "becomes its own batch.",
    ),
    "files": ("选择文件", "Choose files"),
    "round_pick": ("导入到批次", "Import into round"),
    "round_new": ("新批次名称（如 2018年动态管理）", "New round name (e.g. 2018年动态管理)"),
    "round_new_option": ("＋ 新建批次", "+ New round"),
    "township_input": (
        "乡镇（表中没有乡镇列时使用；留空则取标题、其他工作表或文件名中的乡镇名）",
        "Township (for sheets without a township column; empty: from the title, another "
        "sheet or the file name)",
    ),
    "township_found": (
        "{file} · {sheet}：乡镇“{township}”（来源：{source}）",
        "{file} · {sheet}: township '{township}' (from the {source})",
    ),
    "township_not_found": (
        "{file} · {sheet}：未能确定乡镇（{source}），请在上方填写",
        "{file} · {sheet}: no township found ({source}); enter one above",
    ),
    "data_date": ("数据日期", "Data as of"),
    "data_date_source": ("数据日期来源", "Data date from"),
    "data_date_input": (
        "数据日期（留空则取文件标题或文件名中的日期，再无则取最晚调查日期）",
        "Data as of (empty: the date in the title or file name, else the latest survey date)",
    ),
    "data_date_found": (
        "{file}：数据日期 {day}（来源：{source}）",
        "{file}: data as of {day} (from the {source})",
    ),
    "data_date_not_found": (
        "{file}：文件未写明数据日期，导入时取最晚调查或会议日期（或在上方填写）",
        "{file}: the file gives no data date; the latest survey or meeting date is taken at "
        "import (or enter one above)",
    ),
    "allow_partial": ("仅导入有效行（错误行隔离保存）", "Load valid rows only (quarantine errors)"),
    "replace": ("替换本批次中已有的同一批数据", "Replace the batch that already holds these rows"),
    "import": ("导入", "Import"),
    "importing": ("正在导入…", "Importing…"),
    "inspect_title": ("文件检查结果", "What the files hold"),
    "sheet": ("工作表", "Sheet"),
    "table": ("识别为", "Recognised as"),
    "header_rows": ("表头行", "Header rows"),
    "township_source": ("乡镇来源", "Township from"),
    "rows_valid": ("有效行", "Valid rows"),
    "rows_rejected": ("错误行", "Rejected rows"),
    "rows_skipped": ("跳过行", "Skipped rows"),
    "unused_columns": ("未使用的列", "Columns not used"),
    "proposals_title": ("未识别的列", "Columns not recognised"),
    "proposals_help": (
        "下列列名没有被识别，右侧是它们最可能对应的字段。勾选确认后，本单位以后导入的文件都按此读取"
        "（记入审计日志，可在下方“列名写法”中删除）。",
        "These headers were not recognised; beside each, the field it most likely means. "
        "Tick to confirm: every later import of this office reads it so (audited; removable "
        "under 'Header spellings' below).",
    ),
    "proposal": ("将{tb}中的“{h}”读作“{f}”", "Read '{h}' in {tb} as '{f}'"),
    "confirm_proposals": ("确认所选对应并重新检查", "Confirm the ticked ones and check again"),
    "spellings_title": ("本单位确认的列名写法", "Header spellings confirmed for this office"),
    "spelling_remove": ("删除写法", "Remove spelling"),
    "spelling_removed": ("已删除写法“{s}”。", "Spelling '{s}' removed."),
    "created_by": ("确认人", "Confirmed by"),
    "no_column_hint": (
        "（表中的“{h}”列可能就是“{f}”：管理员可在导入时确认这一对应）",
        " (the sheet's column '{h}' may be '{f}': an administrator can confirm it at upload)",
    ),
    "not_recognised": ("未识别", "not recognised"),
    "row_report": ("行报告", "Row report"),
    "no_problems": ("没有发现问题。", "No problems found."),
    "download_report": ("下载行报告（Excel）", "Download the row report (Excel)"),
    "need_round": ("请填写批次名称。", "Enter a round name."),
    "status_loaded": ("已导入", "Loaded"),
    "status_partial": ("部分导入", "Partly loaded"),
    "status_refused": ("未导入", "Refused"),
    "status_unreadable": ("无法读取", "Unreadable"),
    "status_inspected": ("待导入", "Ready"),
    # audit log details
    "visitor": ("访客（未登录）", "visitor (not signed in)"),
    "client": ("来源", "Client"),
    "client_local": ("本机", "this computer"),
    "title": ("标题", "Title"),
    # data page
    "batches": ("导入批次", "Batches"),
    "delete_batch": ("删除批次", "Delete batch"),
    "delete_pick": ("选择要删除的批次", "Batch to delete"),
    "deleted": ("已删除批次 {b}。", "Batch {b} deleted."),
    "delete_demo": ("删除全部演示批次", "Delete all demo batches"),
    "quarantine": ("隔离的错误行", "Quarantined rows"),
    "rounds": ("批次顺序（最后一个为最新）", "Round order (the last is the latest)"),
    "nothing": ("暂无", "None"),
    # table kinds and sources
    "households": ("户信息", "Households"),
    "meetings": ("贫情分析会议", "Meetings"),
    "relocation": ("易地扶贫搬迁", "Relocation"),
    "villages": ("村基本情况", "Villages"),
    "members": ("家庭成员", "Members"),
    "age": ("年龄（岁）", "Age (years)"),
    "members_title": ("家庭成员", "Household members"),
    "members_as_of": (
        "年龄按本批次数据日期 {day} 计算",
        "Ages at the round's data date, {day}",
    ),
    "members_no_date": (
        "本批次没有数据日期，无法计算年龄",
        "The round has no data date: ages cannot be computed",
    ),
    "no_members": (
        "本批次没有该户的家庭成员数据（按户导入的表只有家庭人口数）",
        "No member rows for this household in this round (a household-level sheet gives "
        "only the household size)",
    ),
    # where a sheet's township came from (results.ParsedTable.township_source)
    "source_column": ("表中乡镇列", "township column"),
    "source_upload": ("上传时指定", "given at upload"),
    "source_title": ("标题", "title"),
    "source_none": ("无", "none"),
    "source_sheet_title": ("另一工作表的标题", "another sheet's title"),
    "source_sheet_column": ("另一工作表的乡镇列", "another sheet's township column"),
    "source_file_name": ("文件名", "file name"),
    "source_workbook": ("工作簿中其他表和文件名", "the rest of the workbook"),
    "source_unclear": ("来源不一致", "sources disagree"),
    "source_survey_date": ("最晚调查或会议日期", "latest survey or meeting date"),
    # units
    "province": ("省", "Province"),
    "county": ("县", "County"),
    "counties": ("县", "County"),  # the level of one unit per county (metrics.LEVELS)
    "township": ("乡镇", "Township"),
    "village": ("行政村", "Village"),
    "group": ("村民小组", "Group"),
    # metrics
    "households_total": ("调查户数", "Households surveyed"),
    "persons_total": ("调查人数", "Persons surveyed"),
    "registered_households": ("建档立卡户", "Registered households"),
    "registered_persons": ("建档立卡人数", "Registered persons"),
    "remaining_poor_households": ("未脱贫户", "Remaining poor households"),
    "remaining_poor_persons": ("未脱贫人数", "Remaining poor persons"),
    "exited_households": ("已脱贫户", "Exited households"),
    "exited_persons": ("已脱贫人数", "Exited persons"),
    "nonregistered_households": ("非建档立卡户", "Non-registered households"),
    "nonregistered_persons": ("非建档立卡人数", "Non-registered persons"),
    "new_households": ("新增户", "New households"),
    "new_persons": ("新增人数", "New persons"),
    "relapse_households": ("返贫户", "Relapse households"),
    "relapse_persons": ("返贫人数", "Relapse persons"),
    "exit_proposed_households": ("拟退出户", "Exit-proposed households"),
    "exit_proposed_persons": ("拟退出人数", "Exit-proposed persons"),
    "removed_households": ("剔除户", "Removed households"),
    "removed_persons": ("剔除人数", "Removed persons"),
    "inclusion_error_households": ("错评户", "Inclusion-error households"),
    "inclusion_error_persons": ("错评人数", "Inclusion-error persons"),
    "exclusion_error_households": ("漏评户", "Exclusion-error households"),
    "exclusion_error_persons": ("漏评人数", "Exclusion-error persons"),
    "wrongful_exit_households": ("错退户", "Wrongful-exit households"),
    "wrongful_exit_persons": ("错退人数", "Wrongful-exit persons"),
    "meetings_count": ("贫情分析会议（场）", "Meetings (sessions)"),
    "meeting_attendance": ("参会人次", "Meeting attendance"),
    "relocated_households": ("搬迁户", "Relocated households"),
    "relocated_persons": ("搬迁人数", "Relocated persons"),
    "relocation_over_standard_households": ("住房超标户", "Over-standard households"),
    "relocation_over_standard_persons": ("住房超标人数", "Over-standard persons"),
    "relocation_sites": ("集中安置点", "Concentrated sites"),
    "approval_answered": ("认可度作答户", "Households answering approval"),
    "approval_yes": ("认可户", "Households approving"),
    "rural_population": ("乡村人口", "Rural population"),
    "rural_households": ("乡村户数", "Rural households"),
    "inclusion_error_rate": ("错评率", "Inclusion-error rate"),
    "exclusion_error_rate": ("漏评率", "Exclusion-error rate"),
    "wrongful_exit_rate": ("错退率", "Wrongful-exit rate"),
    "comprehensive_poverty_rate": ("综合贫困发生率", "Comprehensive poverty rate"),
    "inclusion_error_rate_households": ("错评率（按户）", "Inclusion-error rate (households)"),
    "exclusion_error_rate_households": ("漏评率（按户）", "Exclusion-error rate (households)"),
    "wrongful_exit_rate_households": ("错退率（按户）", "Wrongful-exit rate (households)"),
    "comprehensive_poverty_rate_households": (
        "综合贫困发生率（按户）",
        "Comprehensive poverty rate (households)",
    ),
    "approval_rate": ("群众认可度", "Public approval"),
    # the comprehensive rate's numerator (metrics.RATE_PARTS)
    "comprehensive_poor_persons": (
        "贫困人口（未脱贫 + 漏评 + 错退）",
        "Poor persons (remaining poor + exclusion errors + wrongful exits)",
    ),
    "comprehensive_poor_households": (
        "贫困户（未脱贫 + 漏评 + 错退）",
        "Poor households (remaining poor + exclusion errors + wrongful exits)",
    ),
    # navigation (leaders' pages)
    "page_dynamics": ("动态管理", "Dynamic adjustment"),
    "page_households": ("贫困户情况", "Households"),
    "page_accuracy": ("精准识别", "Misclassification"),
    "page_progress": ("工作进度", "Campaign progress"),
    "page_relocation": ("易地扶贫搬迁", "Relocation"),
    "page_meetings": ("贫情分析会议", "Meetings"),
    # shared filters
    "basis": ("统计口径", "Basis"),
    "basis_households": ("按户", "By households"),
    "basis_persons": ("按人", "By persons"),
    "compare_round": ("对比批次", "Compare with round"),
    "no_compare": ("不对比", "No comparison"),
    "change_vs": ("较“{r}”", "vs {r}"),
    "round_comparison": (
        "批次对比：各单位变化（本批次 − 对比批次）",
        "Round comparison: change per unit (this round − compared round)",
    ),
    "county_totals": ("全县合计", "County totals"),
    "unit": ("单位", "Unit"),
    "table_below": ("数据表", "Table"),
    "no_data": ("所选范围内没有数据。", "No data in the selected area."),
    # dynamics
    "adjust_per_unit": ("各{u}动态调整", "Adjustments per {u}"),
    "adjust_per_group": ("各村民小组动态调整", "Adjustments per group"),
    "flow_title": (
        "建档立卡状态 → 动态管理结果 → 核查结论",
        "Registry state → adjustment → finding",
    ),
    "no_change": ("无变化", "no change"),
    "correct": ("无问题", "correct"),
    "registry_state": ("建档立卡状态", "Registry state"),
    "adjustment": ("动态管理结果", "Adjustment"),
    "verification": ("核查结论", "Finding"),
    "remaining_poor": ("未脱贫", "remaining poor"),
    "exited": ("已脱贫", "exited"),
    "nonregistered": ("非建档立卡", "non-registered"),
    "new": ("新增", "new"),
    "relapse": ("返贫", "relapse"),
    "exit_proposed": ("拟退出", "exit proposed"),
    "removed": ("剔除", "removed"),
    "inclusion_error": ("错评", "inclusion error"),
    "exclusion_error": ("漏评", "exclusion error"),
    "wrongful_exit": ("错退", "wrongful exit"),
    # a member's sex and relation to the head (the members table's codes, issue 14)
    "male": ("男", "male"),
    "female": ("女", "female"),
    "head": ("户主", "head of household"),
    "spouse": ("配偶", "spouse"),
    "son": ("之子", "son"),
    "daughter": ("之女", "daughter"),
    "grandson": ("之孙子", "grandson"),
    "granddaughter": ("之孙女", "granddaughter"),
    "grandchild": ("孙辈", "grandchild"),
    "son_in_law": ("之女婿", "son-in-law"),
    "daughter_in_law": ("之儿媳", "daughter-in-law"),
    "father": ("之父", "father"),
    "mother": ("之母", "mother"),
    "parent": ("父母", "parent"),
    "grandfather": ("之祖父", "grandfather"),
    "grandmother": ("之祖母", "grandmother"),
    "grandparent": ("祖父母", "grandparent"),
    "sibling": ("兄弟姐妹", "sibling"),
    "other": ("其他", "other"),
    # households page
    "causes_title": (
        "建档立卡户主要致贫原因（各{u}）",
        "Main causes of poverty of registered households per {u}",
    ),
    "main_cause": ("主要致贫原因", "Main cause"),
    "not_recorded": ("未填写", "not recorded"),
    "not_in_files": (
        "本批次文件没有“{what}”（列缺失或全部为空），不作统计。",
        "This round's files do not record {what} (no column, or left blank): not counted.",
    ),
    "no_line": (
        "{y}年的贫困线未设置（数据导入页的设置中填写），未画贫困线。",
        "No poverty line is set for {y} (Data page, settings): none drawn.",
    ),
    # households page: persons from member rows (analytics/figures/people.py)
    "persons_title": ("家庭成员情况（按人）", "Household members (persons)"),
    "persons_registered_only": ("只看建档立卡户", "Registered households only"),
    "persons_cover": (
        "{m:,} 户有家庭成员明细（范围内共 {n:,} 户），共 {p:,} 人；"
        "其余 {r:,} 户只有家庭人口数，不计入下列人数。",
        "{m:,} of {n:,} households have member rows, {p:,} persons; the other {r:,} give "
        "only a household size and are not counted below.",
    ),
    "persons_cover_all": (
        "范围内 {n:,} 户均有家庭成员明细，共 {p:,} 人。",
        "All {n:,} households have member rows: {p:,} persons.",
    ),
    "no_members_area": (
        "本批次所选范围没有家庭成员明细（按户导入的表只有家庭人口数）："
        "按年龄段、健康状况、劳动技能、文化程度的人数缺失。",
        "No member rows in this round and area (household-level sheets give only the "
        "household size): persons by age, health, labour and education are missing.",
    ),
    "age_band": ("年龄段", "Age band"),
    "age_band_years": ("{b}岁", "{b} yrs"),
    "born_after": ("出生日期晚于数据日期", "born after the data date"),
    "persons_by_title": ("按{what}（人）", "By {what} (persons)"),
    "member_rows_total": ("合计（人）", "Total (persons)"),
    "no_household_row": ("户表中无此户", "no household row"),
    "shortfall_title": (
        "两不愁三保障未达标户（建档立卡户）",
        "Registered households short of 两不愁三保障",
    ),
    "food_clothing_secure": ("不愁吃穿", "Food and clothing"),
    "education_secure": ("义务教育", "Compulsory education"),
    "medical_secure": ("基本医疗", "Basic medical care"),
    "housing_secure": ("住房安全", "Safe housing"),
    "any_shortfall": ("任一项未达标", "Any shortfall"),
    "registered": ("建档立卡户", "Registered households"),
    "income_title": (
        "建档立卡户人均纯收入与{y}年贫困线（{l} 元）",
        "Per-capita income of registered households against the {y} poverty line ({l} yuan)",
    ),
    "income_per_capita": ("人均纯收入（元）", "Per-capita income (yuan)"),
    "below_line": ("低于贫困线", "Below the line"),
    "at_or_above_line": ("达到贫困线", "At or above the line"),
    "income_missing": ("收入未填", "Income missing"),
    "poverty_line": ("贫困线", "Poverty line"),
    "year_unknown": (
        "无法确定本批次年份，未画贫困线。",
        "The round's year is unknown: no poverty line drawn.",
    ),
    # accuracy page
    "rate_title": ("各{u}{r}", "{r} per {u}"),
    "threshold": ("阈值 {v}", "threshold {v}"),
    "floor": ("下限 {v}", "floor {v}"),
    "over_units": ("超过阈值的单位：{v}", "Units over the threshold: {v}"),
    "none_over": ("没有单位超过阈值。", "No unit is over its threshold."),
    "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"),
    "rate": ("比率", "Rate"),
    "status": ("状态", "Status"),
    "over": ("超标", "over"),
    "under": ("低于下限", "below the floor"),
    "ok": ("正常", "ok"),
    "approval_none": ("本批次数据没有“是否认可”列。", "This round's data has no approval column."),
    # progress page
    "progress_title": ("各{u}累计调查户数", "Households surveyed, cumulative, per {u}"),
    "daily_title": ("每日调查户数", "Households surveyed per day"),
    "survey_date": ("调查日期", "Survey date"),
    "surveyed": ("已调查户数", "Households surveyed"),
    "target": ("总户数（村基本情况）", "Households (village table)"),
    "completion": ("完成率", "Completion"),
    "undated": ("未填日期", "undated"),
    "phase_1": ("第一阶段 贫情分析", "Phase 1: analysis"),
    "phase_2": ("第二阶段 实地调查", "Phase 2: field survey"),
    "no_village_table": (
        "没有村基本情况表，无法计算完成率。",
        "No village table: completion cannot be computed.",
    ),
    # relocation page
    "per_site": ("各安置点搬迁户数、人数", "Relocated households and persons per site"),
    "per_mode": ("集中安置与分散安置", "Concentrated vs dispersed"),
    "area_title": (
        "每户住房面积与标准（{s} 平方米/人 × 人数）",
        "House area per household against the standard ({s} m² per person × persons)",
    ),
    "site": ("安置点", "Site"),
    "mode": ("安置方式", "Mode"),
    # a relocated household whose 迁出村 is blank and whose 户编号 is not in the registry
    "village_unknown": ("迁出村未知", "village unknown"),
    "township_unknown": ("乡镇未知", "township unknown"),
    "persons": ("搬迁人口", "Persons"),
    "house_area": ("住房面积（平方米）", "House area (m²)"),
    "standard_area": ("标准面积（平方米）", "Standard area (m²)"),
    "over_area": ("超标面积（平方米）", "Area over standard (m²)"),
    "over_standard": ("是否超标", "Over standard"),
    "remedy": ("整改措施", "Remedy"),
    "pending": ("待整改", "pending"),
    "household_id": ("户编号", "Household id"),
    "within": ("未超标", "within"),
    # meetings page
    "sessions_per_unit": ("各{u}会议场次与参会人次", "Sessions and attendance per {u}"),
    "sessions_per_day": ("每日会议场次", "Sessions per day"),
    "per_phase": ("各阶段会议", "Meetings per phase"),
    "phase": ("会议阶段", "Phase"),
    "meeting_date": ("会议日期", "Meeting date"),
    "attendance": ("参会人次", "Attendance"),
    "attendance_per_session": ("场均参会人次", "Attendance per session"),
    "township_level": ("乡级会议", "Township-level"),
    "village_level": ("村级会议", "Village-level"),
    "groups_no_meeting": (
        "有调查户但没有召开小组会议的村民小组",
        "Groups with surveyed households but no group meeting",
    ),
    "villages_no_meeting": ("没有召开任何会议的行政村：{v}", "Villages without any meeting: {v}"),
    "all_have_meetings": ("每个村民小组都召开了会议。", "Every group held a meeting."),
    # data page
    "template": ("下载空白模板（Excel）", "Download a blank template (Excel)"),
    "settings": ("阈值与贫困线设置", "Thresholds and poverty lines"),
    "settings_saved": ("设置已保存。", "Settings saved."),
    "save": ("保存", "Save"),
    "year": ("年度", "Year"),
    "line_yuan": ("贫困线（元/人·年）", "Poverty line (yuan per person per year)"),
    "area_standard": ("搬迁住房标准（平方米/人）", "Relocation housing standard (m² per person)"),
    "approval_floor": ("群众认可度下限", "Public approval floor"),
    "ceiling_of": ("{r}上限", "{r} ceiling"),
    # drill-down
    "page_drill": ("核查钻取", "Drill-down"),
    "drill_metric": ("按指标钻取", "Drill into"),
    "drill_into": ("进入{u}", "Open {u}"),
    "only_counted": ("只显示计入“{f}”的户", "Only households counted in '{f}'"),
    "household_count": ("共 {n} 户", "{n} households"),
    "open_household": ("查看户", "Open household"),
    "no_household": ("没有找到户编号 {h}", "No household {h}"),
    "household_title": ("户 {h}", "Household {h}"),
    "open_member": ("查看成员", "Open member"),
    "group_members": (
        "本组家庭成员（表格与下载）",
        "Members of the group's households (table, downloads)",
    ),
    "member_title": ("户 {h} 的成员", "Member of household {h}"),
    "person_crumb": ("成员（{sheet} 第 {row} 行）", "Member ({sheet} row {row})"),
    "no_member": (
        "本批次中户 {h} 没有这名成员",
        "Household {h} has no such member in this round",
    ),
    "field": ("字段", "Field"),
    "rules_hit": ("触发的异常规则", "Rules this household hits"),
    "no_rules_hit": ("没有触发任何异常规则。", "No rule is hit."),
    "history": ("各批次记录", "History across rounds"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "search": ("搜索户", "Search households"),
    "search_hint": ("户编号、户主姓名或身份证号", "Household id, head's name or ID number"),
    "search_hint_masked": (
        "户编号、脱敏后的户主姓名（如 张**）或完整的 18 位身份证号",
        "Household id, the masked head's name (e.g. 张**) or a whole 18-digit ID number",
    ),
    "batch_id_short": ("批次号", "Batch"),
    # anomalies
    "page_anomalies": ("异常核查", "Anomalies"),
    "no_anomalies": ("所选范围内没有发现异常。", "No anomaly in the selected area."),
    "heatmap_title": ("各规则异常数（规则 × 单位）", "Hits per rule and unit"),
    "rule": ("规则", "Rule"),
    # each anomaly rule's limit (analytics.figures.rules.limit_text), with the values in force
    "rule_limit_exclusion": (
        "任一排除条件列（schema.EXCLUSION_FIELDS）为“是”",
        "any exclusion column (schema.EXCLUSION_FIELDS) is yes",
    ),
    "rule_limit_wrongful_exit": (
        "人均纯收入 < 该批次年度的贫困线（settings.poverty_lines，元/人/年：{lines}）"
        "或两不愁三保障任一为“否”",
        "per-capita income < the poverty line of the round's year (settings.poverty_lines, "
        "yuan per person per year: {lines}) or any of the two assurances and three "
        "guarantees is no",
    ),
    "rule_limit_suspected_exclusion": (
        "非建档立卡户人均纯收入 < 该批次年度的贫困线（settings.poverty_lines，元/人/年：{lines}），"
        "且核查结论不是漏评；仅在该年度贫困线已设置时检查（不借用其他年度）",
        "a non-registered household's per-capita income < the poverty line of the round's "
        "year (settings.poverty_lines, yuan per person per year: {lines}) and no exclusion "
        "error recorded; checked only when that year has a line (never another year's)",
    ),
    "rule_limit_poor_far_above": (
        "人均纯收入 > settings.poor_far_above_factor（{factor}）× 该批次年度的贫困线",
        "per-capita income > settings.poor_far_above_factor ({factor}) x the poverty line of "
        "the round's year",
    ),
    "rule_limit_contradiction": (
        "无（状态与结论组合不允许）",
        "none (the registry state and the outcome cannot go together)",
    ),
    "rule_limit_duplicate_id": (
        "同一批次中同一身份证号出现在 2 户及以上",
        "the same ID number in 2 or more households of a round",
    ),
    "rule_limit_person_two_households": (
        "同一批次中同一家庭成员证件号码出现在 2 户及以上",
        "the same member ID number in 2 or more households of a round",
    ),
    "rule_limit_invalid_id": (
        "导入时的 W_ID_CHECK、W_ID_LENGTH、W_ID_LEGACY15、W_ID_BIRTH、W_ID_AS_NUMBER",
        "the import warnings W_ID_CHECK, W_ID_LENGTH, W_ID_LEGACY15, W_ID_BIRTH, W_ID_AS_NUMBER",
    ),
    "rule_limit_relocation_area": (
        "住房面积 > settings.area_standard（{area_standard} 平方米/人）× 搬迁人口",
        "house area > settings.area_standard ({area_standard} m² per person) x persons moved",
    ),
    "rule_limit_income_impossible": (
        "人均纯收入 ≤ 0 或 > settings.income_max（{income_max} 元/人/年）",
        "per-capita income ≤ 0 or > settings.income_max ({income_max} yuan per person per year)",
    ),
    "rule_limit_income_missing": (
        "建档立卡户（未脱贫、已脱贫）人均纯收入为空",
        "a registered (remaining-poor or exited) household has no per-capita income",
    ),
    "rule_limit_rate_ceiling": (
        "settings.rate_ceilings['{rate}']（{ceiling}）",
        "settings.rate_ceilings['{rate}'] ({ceiling})",
    ),
    "rule_limit_approval": (
        "settings.approval_floor（{approval_floor}），仅在该村有人作答时",
        "settings.approval_floor ({approval_floor}), only where someone in the village answered",
    ),
    "rule_limit_outlier": (
        "settings.outlier_z（{outlier_z}）；"
        "settings.outlier_min_units（{outlier_min_units} 个村）；MAD = 0 不计算",
        "settings.outlier_z ({outlier_z}); settings.outlier_min_units ({outlier_min_units} "
        "villages); not computed when MAD = 0",
    ),
    "rule_limit_group_no_meeting": (
        "组级会议至少 1 场（仅当本批次有会议记录时）",
        "at least 1 group-level meeting (only when the round records meetings)",
    ),
    "rule_limit_completeness": (
        "已调查户数 / 总户数 < settings.completeness_min（{completeness_min}）",
        "surveyed / total households < settings.completeness_min ({completeness_min})",
    ),
    "anomaly_households": ("异常户（{n} 户）", "Households flagged ({n})"),
    "anomaly_units": ("异常单位", "Units flagged"),
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
    # accounts
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "sso_login": ("使用单位账号登录", "Sign in with your organisation"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码不正确。", "Wrong user name or password."),
    "signed_in_as": ("已登录：{u}（{r}）", "Signed in: {u} ({r})"),
    "visitor_role": (
        "未登录：以领导视图浏览（仅汇总数据）",
        "Not signed in: leader view (aggregates only)",
    ),
    "role_leader": ("领导", "leader"),
    "role_inspector": ("核查人员", "inspector"),
    "role_admin": ("管理员", "administrator"),
    "role": ("角色", "Role"),
    "unmask": (
        "显示完整姓名和身份证号（记入审计日志）",
        "Show full names and ID numbers (audited)",
    ),
    "need_view_households": (
        "户级明细仅对核查人员和管理员开放。",
        "Household rows are for inspectors and administrators.",
    ),
    "need_export_households": (
        "导出户级明细需要核查人员或管理员账号。",
        "Exporting household rows needs an inspector or administrator account.",
    ),
    "need_upload": ("上传数据需要管理员账号。", "Uploading needs an administrator account."),
    "need_sign_in": ("请登录。", "Please sign in."),
    "need_other_role": (
        "您的角色是{r}，没有此权限。",
        "Your role, {r}, does not allow it.",
    ),
    "need_delete": ("删除批次需要管理员账号。", "Deleting batches needs an administrator account."),
    "need_settings": (
        "修改设置需要管理员账号。",
        "Changing settings needs an administrator account.",
    ),
    "need_manage_users": (
        "管理用户需要管理员账号。",
        "Managing users needs an administrator account.",
    ),
    "need_read_audit": ("审计日志仅管理员可见。", "The audit log is for administrators."),
    "first_admin": ("首次使用：创建管理员账号", "First start: create the administrator account"),
    "first_admin_help": (
        "上传真实数据前，请先创建第一个管理员账号。之后可在本页添加核查人员和领导账号。"
        "需要服务器启动时在其控制台上打印的一次性设置口令；"
        "也可以在服务器上运行 python -m analytics adduser 用户名 --role admin。",
        "Before real data can be uploaded, create the first administrator. "
        "Inspector and leader accounts can be added here afterwards. "
        "It needs the one-time setup token the server prints on its console when it "
        "starts; or run python -m analytics adduser NAME --role admin on the server.",
    ),
    "create": ("创建", "Create"),
    "created_user": ("已创建账号 {u}。", "Account {u} created."),
    "users": ("用户管理", "Users"),
    "new_user": ("添加用户", "Add a user"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "apply": ("应用", "Apply"),
    "audit": ("审计日志", "Audit log"),
    "remove_demo_hint": (
        "已导入真实数据，可以删除演示批次。",
        "Real data is in: the demo batches can be removed.",
    ),
    "filters": ("筛选", "Filters"),
    "format": ("格式", "Format"),
    "batch": ("批次号", "Batch"),
    "replaced": ("替换批次", "Replaced"),
    "header": ("列名", "Header"),
    "spelling": ("写法", "Spelling"),
    "page": ("页面", "Page"),
    "out": ("输出文件", "Output file"),
    "logged_at": ("时间", "Time"),
    "actor": ("操作人", "Who"),
    "action": ("操作", "Action"),
    "detail": ("内容", "Detail"),
    "created_at": ("创建时间", "Created"),
    "disabled": ("已停用", "Disabled"),
    # signing in, sessions, passwords (analytics/access/accounts.py, ui/auth.py)
    "change_password": ("修改密码", "Change password"),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "new_password_again": ("再次输入新密码", "New password again"),
    "password_mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    "password_changed": (
        "密码已修改，所有登录已退出，请用新密码重新登录。",
        "Password changed: every sign-in has ended; sign in again with the new password.",
    ),
    "reset_password": ("重置密码", "Reset password"),
    "password_reset_done": (
        "已重置 {u} 的密码，其所有登录已退出。",
        "Password of {u} reset; all of their sign-ins have ended.",
    ),
    "setup_token": ("一次性设置口令", "One-time setup token"),
    "err_username": (
        "用户名应为 2-64 位字母、数字或 . _ - @",
        "user name: 2-64 letters, digits or . _ - @",
    ),
    "err_password_short": ("密码至少 {n} 位", "the password needs at least {n} characters"),
    "err_role": ("未知角色 {r}", "unknown role {r}"),
    "err_taken": ("用户名 {u} 已存在", "user name {u} is taken"),
    "err_no_user": ("没有用户 {u}", "no user {u}"),
    "err_last_admin": (
        "至少需要一名可用的管理员",
        "at least one enabled administrator is needed",
    ),
    "err_admin_exists": (
        "管理员账号已存在，请登录。",
        "An administrator exists already: please sign in.",
    ),
    "err_setup_token": (
        "一次性设置口令不正确。口令在服务器启动时打印在其控制台上；重新启动服务器可得到新口令。",
        "Wrong setup token. The server prints it on its console when it starts; "
        "restart the server for a new one.",
    ),
    "err_current_password": ("当前密码不正确。", "The current password is wrong."),
    "err_wait": (
        "尝试次数过多，请 {s} 秒后再试。",
        "Too many attempts: try again in {s} seconds.",
    ),
    # audit log actions (analytics/access/accounts.py ACTIONS)
    "audit_login": ("登录", "signed in"),
    "audit_login_failed": ("登录失败", "failed sign-in"),
    "audit_logout": ("退出登录", "signed out"),
    "audit_create_first_admin": ("创建首个管理员", "created the first administrator"),
    "audit_create_user": ("创建账号", "created an account"),
    "audit_set_role": ("修改角色", "changed a role"),
    "audit_disable_user": ("停用账号", "disabled an account"),
    "audit_enable_user": ("启用账号", "enabled an account"),
    "audit_set_password": ("修改本人密码", "changed own password"),
    "audit_reset_password": ("重置密码", "reset a password"),
    "audit_upload": ("上传数据", "uploaded"),
    "audit_delete_batch": ("删除批次", "deleted a batch"),
    "audit_delete_demo": ("删除演示数据", "deleted the demo"),
    "audit_settings": ("修改设置", "changed settings"),
    "audit_export": ("下载表格", "downloaded a table"),
    "audit_export_unmasked": ("导出完整姓名和身份证号", "exported unmasked rows"),
    "audit_unmask_on": ("打开完整姓名和身份证号", "switched unmasking on"),
    "audit_unmask_off": ("关闭完整姓名和身份证号", "switched unmasking off"),
    "audit_view_unmasked": ("查看完整姓名和身份证号", "viewed unmasked rows"),
    "audit_download_report": ("下载情况报告", "downloaded the report"),
    "audit_report": ("生成情况报告", "wrote the report"),
    "audit_confirm_spelling": ("确认列名写法", "confirmed a header spelling"),
    "audit_search": ("搜索户", "searched households"),
    "audit_remove_spelling": ("删除列名写法", "removed a header spelling"),
    # report
    "report": ("情况报告", "Situation report"),
    "make_report": ("生成情况报告", "Write the situation report"),
    "download_docx": ("下载 Word", "Download Word"),
    "download_md": ("下载 Markdown", "Download Markdown"),
    "preview": ("预览", "Preview"),
    "limit_poor_far_above": ("未脱贫户收入超过贫困线的倍数", "Remaining-poor income above line x"),
    "limit_income_max": ("人均纯收入上限（元）", "Highest plausible income (yuan)"),
    "limit_outlier_z": ("离群判定（修正 z 分数）", "Outlier limit (modified z-score)"),
    "limit_completeness": ("调查完成率下限", "Lowest survey completeness"),
    # batches table
    "batch_id": ("批次号", "Batch"),
    "file_name": ("文件名", "File"),
    "imported_at": ("导入时间", "Imported at"),
    "townships": ("乡镇", "Townships"),
    "tables": ("数据表", "Tables"),
    "rows_loaded": ("导入行", "Rows loaded"),
    "warnings": ("警告", "Warnings"),
    "is_demo": ("演示数据", "Demo"),
    "first_date": ("最早日期", "Earliest date"),
    "first_import": ("首次导入", "First import"),
    # row report columns
    "file": ("文件", "File"),
    "row": ("行号", "Row"),
    "column": ("列", "Column"),
    "value": ("值", "Value"),
    "code": ("规则", "Rule"),
    "severity": ("级别", "Severity"),
    "message": ("说明", "Message"),
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "info": ("提示", "info"),
    "reasons": ("原因", "Reasons"),
    "raw": ("原始内容", "Raw cells"),
    "source_row": ("行号", "Row"),
    "source_sheet": ("工作表", "Sheet"),
    "table_name": ("数据表", "Table"),
}


# ------------------------------------------------------------ the importer's messages
# Every message of the importer (analytics/importing/): the row report's rule messages
# (``msg_<rule code>``), the refusals and the reasons a file cannot be read. Formatted
# where the problem is made, in both languages at once (``texts``). One block of its own,
# merged into ``LABELS`` (a key may not be in both).
IMPORTER_MESSAGES: dict[str, tuple[str, str]] = {
    # the row report (analytics/importing/row_rules.py; Problem.message / message_en)
    "msg_E_REQUIRED": ("缺少必填项“{field}”", "required value '{field}' is missing"),
    "msg_E_NO_COLUMN": (
        "表中没有“{field}”列，所有行都无法导入",
        "the sheet has no '{field}' column: no row can be loaded",
    ),
    "msg_E_NO_TOWNSHIP": (
        "无法确定乡镇：乡镇为空（或没有乡镇列），标题中也没有乡镇名，上传时也未填写",
        "no township: the township is empty (or there is no such column), none in the title,"
        " none given at upload",
    ),
    "msg_E_TOWNSHIP_UNCLEAR": (
        "无法确定乡镇：本表没有乡镇，工作簿中其他来源所写的乡镇不一致（{sources}），请在上传时指定乡镇",
        "no township: this sheet names none, and the rest of the workbook names different "
        "townships ({sources}); give the township at upload",
    ),
    # the sources of a township a sheet takes from the rest of its workbook ({sources})
    "msg_src_sheet_title": (
        "工作表“{sheet}”的标题：{township}",
        "title of sheet '{sheet}': {township}",
    ),
    "msg_src_sheet_column": (
        "工作表“{sheet}”的乡镇列：{township}",
        "township column of sheet '{sheet}': {township}",
    ),
    "msg_src_file_name": ("文件名：{township}", "file name: {township}"),
    "msg_E_POSITIVE_INT": (
        "“{field}”应为正整数，实际为“{value}”",
        "'{field}' must be a positive whole number, got '{value}'",
    ),
    "msg_E_NONNEG_INT": (
        "“{field}”应为不小于 0 的整数，实际为“{value}”",
        "'{field}' must be a whole number >= 0, got '{value}'",
    ),
    "msg_E_POSITIVE_NUMBER": (
        "“{field}”应为正数，实际为“{value}”",
        "'{field}' must be a positive number, got '{value}'",
    ),
    "msg_E_CODE": (
        "“{field}”的值“{value}”无法识别，可用的值：{allowed}",
        "'{field}' value '{value}' is not recognised; accepted: {allowed}",
    ),
    "msg_E_DUPLICATE_ID": (
        "户编号“{value}”在本文件中重复，首次出现在“{first}”",
        "household id '{value}' repeats in this file; first seen at {first}",
    ),
    "msg_E_GROUP_WITHOUT_VILLAGE": (
        "填写了村民小组“{value}”但没有行政村",
        "group '{value}' is given without a village",
    ),
    "msg_W_NUMBER": (
        "“{field}”不是数字：“{value}”，按空值处理",
        "'{field}' is not a number: '{value}'; kept as empty",
    ),
    "msg_W_DATE_RANGE": (
        "“{field}”的日期“{value}”不在合理范围（1990 年至明年）内，按空值处理",
        "'{field}' date '{value}' is outside the plausible range (1990 to next year); kept as"
        " empty",
    ),
    "msg_W_DATE": (
        "“{field}”不是可识别的日期：“{value}”，按空值处理",
        "'{field}' is not a recognisable date: '{value}'; kept as empty",
    ),
    "msg_W_MONTH": (
        "“{field}”不是可识别的年月（如 201403、2014-03、2014年3月）：“{value}”，按空值处理",
        "'{field}' is not a recognisable month (such as 201403, 2014-03): '{value}'; kept as empty",
    ),
    "msg_W_YESNO": (
        "“{field}”应为是/否：“{value}”，按空值处理",
        "'{field}' should be yes/no: '{value}'; kept as empty",
    ),
    "msg_W_ID_CHECK": (
        "身份证号校验位错误（GB 11643 MOD 11-2 应为“{expected}”）",
        "ID number check character is wrong (GB 11643 MOD 11-2 expects '{expected}')",
    ),
    "msg_W_ID_BIRTH": (
        "身份证号中的出生日期无效",
        "the ID number's birth date is not a valid date",
    ),
    "msg_W_ID_LENGTH": (
        "身份证号应为 18 位，实际 {length} 位",
        "ID number should have 18 characters, has {length}",
    ),
    "msg_W_ID_LEGACY15": (
        "15 位旧身份证号，请核实并更新为 18 位",
        "legacy 15-digit ID number: verify and update to 18 digits",
    ),
    "msg_W_ID_AS_NUMBER": (
        "身份证号以数字形式保存，Excel 只保留 15 位有效数字，末尾几位已变为 0，无法恢复，"
        "请核实原始号码并以文本格式填写",
        "ID number was stored as a number: Excel keeps 15 significant digits, so its last "
        "digits were turned into zeros and cannot be recovered; re-enter it as text",
    ),
    "msg_W_HOUSEHOLD_ID_AS_NUMBER": (
        "户编号以数字形式保存且超过 15 位，末尾数字可能已丢失",
        "household id stored as a number with more than 15 digits: trailing digits may be lost",
    ),
    "msg_W_CONTRADICTION": (
        "“{outcome}”与建档立卡状态“{state}”矛盾：{why}",
        "'{outcome}' contradicts registry state '{state}': {why}",
    ),
    "msg_W_STATE_DISAGREE": (
        "{type_header}“{value}”与{state_header}“{state}”不一致，以{state_header}为准",
        "{type_header} '{value}' disagrees with {state_header} '{state}'; {state_header} is kept",
    ),
    "msg_W_IMPLIED_ADJUSTMENT": (
        "{state_header}意味着动态管理结果“{implied}”，但{adjustment_header}为“{value}”，"
        "以{adjustment_header}为准",
        "{state_header} implies the adjustment '{implied}' but {adjustment_header} says "
        "'{value}'; {adjustment_header} is kept",
    ),
    "member_rows": ("成员行数", "member rows"),
    "birth_year": ("出生年份", "Birth year"),
    "msg_W_CODE": (
        "“{field}”的值“{value}”无法识别，已留空（行保留），可用的值：{allowed}",
        "'{field}' value '{value}' is not recognised and left empty (row kept); accepted: "
        "{allowed}",
    ),
    "msg_W_MEMBER_DISAGREE": (
        "成员行的“{field}”为“{value}”，与户主行（{first}）的“{head}”不一致，以户主行为准",
        "'{field}' is '{value}' on this member's row but '{head}' on the 户主 row ({first}); "
        "the 户主 row's is kept",
    ),
    "msg_W_SIZE_MEMBERS": (
        "户编号“{household}”的{field}为 {value}，但有 {members} 个成员行；人口数以成员行为准",
        "household '{household}' declares {field} {value} but has {members} member rows; "
        "persons are its member rows",
    ),
    "msg_E_HOUSEHOLD_REJECTED": (
        "所在户（户编号“{value}”，{first}）有错误未导入：{reasons}",
        "its household ('{value}', {first}) is rejected: {reasons}",
    ),
    "msg_W_DUPLICATE_COLUMN": (
        "列“{value}”与前面的列重复，已忽略",
        "column '{value}' repeats an earlier column and was ignored",
    ),
    "msg_W_INVISIBLE": (
        "“{field}”含有不可见的格式字符（{chars}，如从右到左覆盖、零宽字符），已删除",
        "'{field}' held invisible formatting characters ({chars}: right-to-left override, "
        "zero-width ...); they were removed",
    ),
    "msg_W_CELL_TRUNCATED": (
        "“{field}”正好 32,767 个字符，是 Excel 单元格的上限，内容多半已被截断，请核实",
        "'{field}' is exactly 32,767 characters long, Excel's limit for a cell: it was "
        "probably cut off; check it",
    ),
    # person rules (analytics/importing/person_rules.py): {national} is msg_national or empty
    "msg_W_NO_HEAD": (
        "户“{household}”没有户主（与户主关系无“户主”），暂以本行为户主{national}",
        "household '{household}' has no head (no member is 户主); this row is taken as its "
        "head{national}",
    ),
    "msg_W_TWO_HEADS": (
        "户“{household}”有两个户主，另一个在{first}{national}",
        "household '{household}' has two heads; the other is at {first}{national}",
    ),
    "msg_W_HEAD_SPOUSE_SEX": (
        "配偶与户主（{head}）性别相同，均为“{value}”{national}",
        "the spouse has the same sex as the head ({head}): both '{value}'{national}",
    ),
    "msg_W_RELATION_SEX": (
        "与户主关系“{relation}”应为{expected}性，性别却为“{value}”{national}",
        "relation '{relation}' implies a {expected} member, but the sex is '{value}'{national}",
    ),
    "msg_W_BORN_AFTER": (
        "出生日期“{value}”晚于数据日期 {date}",
        "birth date '{value}' is after the data date {date}",
    ),
    "msg_W_TOO_OLD": (
        "出生日期“{value}”表明数据日期 {date} 时已 {age} 岁，超过 {limit} 岁，请核实",
        "birth date '{value}' makes the member {age} at the data date {date}, older than "
        "{limit}: check it",
    ),
    "msg_W_SCHOOL_AGE": (
        "数据日期 {date} 时 {age} 岁，处于义务教育年龄（{low}-{high} 岁），"
        "但在校生状况为空{national}",
        "{age} years old at the data date {date}, of compulsory-school age ({low}-{high}), "
        "but the school status is empty{national}",
    ),
    "msg_W_PERSON_TWO_HOUSEHOLDS": (
        "证件号码“{value}”同时登记在本户“{household}”和户“{others}”，请在系统中核实{national}",
        "ID number '{value}' is registered in this household '{household}' and in "
        "'{others}': check it in the national system{national}",
    ),
    "msg_W_PERSON_TWO_COUNTIES": (
        "证件号码“{value}”同时登记在本县（{county}）户“{household}”和其他县的户“{others}”，"
        "请在系统中核实{national}",
        "ID number '{value}' is registered in household '{household}' of this county "
        "({county}) and in '{others}' of another county: check it in the national "
        "system{national}",
    ),
    "msg_national": ("（国家系统疑点 {code}）", " (national check {code})"),
    "msg_household_at": ("{household}（{where}）", "{household} ({where})"),
    "msg_household_in": ("{household}（{county}，{where}）", "{household} ({county}, {where})"),
    "msg_first_seen": ("{sheet} 第 {row} 行", "sheet {sheet} row {row}"),
    # why an outcome contradicts a registry state (W_CONTRADICTION's {why})
    "msg_why_new": ("新增只适用于非建档立卡户", "new applies to non-registered only"),
    "msg_why_relapse": ("返贫只适用于已脱贫户", "relapse applies to exited households only"),
    "msg_why_exit_proposed": (
        "拟退出只适用于未脱贫户",
        "exit_proposed applies to remaining-poor households only",
    ),
    "msg_why_removed": ("剔除只适用于建档立卡户", "removed applies to registered households only"),
    "msg_why_inclusion_error": (
        "错评只适用于建档立卡户，不计入错评",
        "inclusion_error applies to registered households only; not counted",
    ),
    "msg_why_exclusion_error": (
        "漏评只适用于非建档立卡户，不计入漏评",
        "exclusion_error applies to non-registered households only; not counted",
    ),
    "msg_why_wrongful_exit": (
        "错退只适用于已脱贫户，不计入错退",
        "wrongful_exit applies to exited households only; not counted",
    ),
    # a file refused before it is parsed (analytics/importing/guard.py)
    "msg_unsupported_type": (
        "{file}：不支持的文件类型“{suffix}”，请上传 .xlsx、.xlsm、.xls 或 .csv 文件"
        "（.xlsb、.ods 请另存为 .xlsx）。",
        "{file}: unsupported file type '{suffix}'; upload .xlsx, .xlsm, .xls or .csv (save "
        ".xlsb and .ods as .xlsx).",
    ),
    "msg_no_suffix": ("无后缀", ""),
    "msg_html_page": (
        "{file}：这是网页（HTML）格式的表格，只是用了 Excel 的文件名。"
        "请在 Excel 中打开后“另存为” .xlsx 再上传。",
        "{file}: this is a web page (HTML) table with an Excel name; open it in Excel and "
        "save it as .xlsx.",
    ),
    "msg_file_too_large": (
        "{file}：文件大小 {size} 超过上限 {limit}（环境变量 {var}），请拆分后分别上传。",
        "{file}: the file is {size}, over the limit of {limit} ({var}); split it and upload "
        "the parts.",
    ),
    "msg_too_many_rows": (
        "{file}：工作表“{sheet}”有 {rows:,} 行，超过每表 {limit:,} 行的上限（环境变量 {var}），"
        "请拆分后分别上传。",
        "{file}: sheet '{sheet}' has {rows:,} rows, over the limit of {limit:,} rows per "
        "sheet ({var}).",
    ),
    "msg_too_many_cells": (
        "{file}：单元格数（行×列）达到 {cells:,}（工作表“{sheet}”{rows:,} 行 × {cols:,} 列），"
        "超过每个文件 {limit:,} 个的上限（环境变量 {var}）。",
        "{file}: {cells:,} cells (rows x columns; sheet '{sheet}' spans {rows:,} rows x "
        "{cols:,} columns), over the limit of {limit:,} cells per file ({var}).",
    ),
    "msg_zip_bomb": (
        "{file}：疑似压缩炸弹，已拒绝（{detail}）。",
        "{file}: refused as a likely zip bomb ({detail}).",
    ),
    "msg_zip_entries": ("{n:,} 个条目", "{n:,} entries"),
    "msg_zip_unzipped": (
        "解压后共 {size}，超过上限 {limit}（环境变量 {var}）",
        "{size} uncompressed, over the limit of {limit} ({var})",
    ),
    "msg_zip_ratio": (
        "条目 {entry} 压缩比 {ratio:,.0f}:1，超过上限 {limit}:1（环境变量 {var}）",
        "entry {entry} has a compression ratio of {ratio:,.0f}:1, over the limit of "
        "{limit}:1 ({var})",
    ),
    "msg_zip_overrun": (
        "条目 {entry} 解压后超过其声明的大小 {size:,} 字节",
        "entry {entry} inflates beyond its declared {size:,} bytes",
    ),
    "msg_ods_xlsb": (
        "{file}：这是 OpenDocument（.ods）或 Excel 二进制（.xlsb）工作簿，"
        "请在 Excel 或 WPS 中另存为 .xlsx 后再上传。",
        "{file}: an OpenDocument (.ods) or binary (.xlsb) workbook; save it as .xlsx and "
        "upload that.",
    ),
    "msg_password": (
        "{file}：工作簿有密码保护，请取消密码后再上传。",
        "{file}: the workbook is password-protected.",
    ),
    "msg_damaged": (
        "{file}：无法读取，文件已损坏或不是 Excel 工作簿（{detail}）。",
        "{file}: cannot be read; the file is damaged or not an Excel workbook ({detail}).",
    ),
    # details of msg_damaged
    "msg_error_detail": ("{kind}：{text}", "{kind}: {text}"),
    "msg_not_workbook": ("不是 Excel 工作簿", "not an Excel workbook"),
    "msg_overlapping_merges": ("工作表“{sheet}”的合并单元格相互重叠", "overlapping merges"),
    "msg_overlong_tag": ("条目 {entry} 中有超长标签", "overlong tag"),
    "msg_shared_strings": ("共享字符串声明 {count} 条", "declares {count} shared strings"),
    "msg_cell_reference": ("单元格地址越界", "cell reference out of range"),
    "msg_compression": ("不支持的压缩方式 {method}", "compression {method}"),
    "msg_bad_local_header": ("条目 {entry} 的本地文件头缺失", "bad local header"),
    "msg_entry_cut_off": ("条目 {entry} 被截断", "entry {entry} cut off"),
    "msg_no_workbook_stream": ("没有 Workbook 数据流", "no Workbook stream"),
    "msg_bad_dimensions": ("DIMENSIONS 记录无效", "bad DIMENSIONS record"),
    "msg_out_of_range": (
        "{file}：有值超出可处理的范围（如 9999 年以后的日期、超过 19 位的整数），未导入任何数据。",
        "{file}: a value is out of range (a date after the year 9999? a whole number of more "
        "than 19 digits?); nothing was imported ({detail}).",
    ),
    # text files (analytics/importing/decode.py, sheets.py)
    "msg_undecodable": (
        "{file}：无法识别文字编码（第 {pos} 字节起既不是 UTF-8 也不是 GB18030），"
        "请用 Excel 另存为“CSV UTF-8”或直接上传 Excel 文件。",
        "{file}: undecodable text at byte {pos}: neither UTF-8 nor GB18030.",
    ),
    "msg_mojibake": (
        "{file}：文字编码看起来是 {encoding}，不是 UTF-8 或 GB18030（GBK）；按 GB18030 读出的是"
        "乱码（如“{shown}”），已拒绝。请用 Excel 或记事本另存为“CSV UTF-8”后再上传。",
        "{file}: the text looks like {encoding}, not UTF-8 or GB18030 (GBK); read as GB18030 "
        "it is mojibake (e.g. '{shown}'), so it was refused. Save it as 'CSV UTF-8' and "
        "upload that.",
    ),
    "msg_encoding_big5": ("Big5（繁体中文）", "Big5 (traditional Chinese)"),
    "msg_encoding_shift_jis": ("Shift-JIS（日文）", "Shift-JIS (Japanese)"),
    "msg_encoding_euc_jp": ("EUC-JP（日文）", "EUC-JP (Japanese)"),
    "msg_encoding_euc_kr": ("EUC-KR（韩文）", "EUC-KR (Korean)"),
    "msg_bad_csv": (
        "{file}：CSV 格式错误（第 {line} 行附近，多为引号不成对）：{error}",
        "{file}: malformed CSV near line {line} (often an unmatched quote): {error}",
    ),
    # sheets without a table (analytics/importing/locate.py, parse.py)
    "msg_empty_sheet": ("空工作表", "empty sheet"),
    "msg_no_header": (
        "前 {rows} 行中找不到可识别的表头（需要如“户编号+家庭人口数”“参会人数+会议日期”"
        "“户编号+住房面积”“行政村+乡村人口”等列）",
        "no recognisable header in the first {rows} rows (needs columns such as "
        "户编号+家庭人口数, 参会人数+会议日期, 户编号+住房面积 or 行政村+乡村人口)",
    ),
    "msg_hidden_sheet": (
        "隐藏的工作表，未导入（如需导入，请在 Excel 中取消隐藏后重新上传）",
        "hidden sheet, not imported (unhide it in Excel and upload again)",
    ),
    "msg_not_a_workbook": (
        "{file}：无法读取，文件已损坏或不是 Excel 工作簿。",
        "{file}: cannot be read; the file is damaged or not a workbook.",
    ),
    "msg_no_table": (
        "文件中没有可识别的表（户信息、贫情分析会议、易地扶贫搬迁、村基本情况）",
        "no recognisable table in the file (households, meetings, relocation, villages)",
    ),
    # refusals and outcomes (analytics/importing/results.py)
    "msg_no_round": ("未填写批次名称", "no round given"),
    "msg_rows_have_errors": (
        "{n} 行有错误，未导入任何数据。可修改后重新上传，或选择“仅导入有效行”。",
        "{n} rows have errors; nothing was loaded. Fix them, or choose to load the valid rows "
        "only.",
    ),
    "msg_no_data_rows": ("文件中没有数据行", "the file holds no data rows"),
    "msg_all_rows_errors": (
        "全部 {n} 行都有错误，未导入任何数据。",
        "all {n} rows have errors; nothing was loaded.",
    ),
    "msg_missing_columns": ("{reasons}。未导入任何数据。", "{reasons}. Nothing was loaded."),
    "msg_conflicts": (
        "{reasons}。如需替换，请勾选“替换本批次中已有的同一批数据”（命令行：--replace）。",
        "{reasons}. To swap it, tick 'Replace the batch that already holds these rows' "
        "(command line: --replace).",
    ),
    "msg_loaded": ("已导入批次 {batch}：{n} 行", "loaded as batch {batch}: {n} rows"),
    "msg_loaded_quarantined": ("，{n} 行有错误已隔离", ", {n} rejected rows quarantined"),
    "msg_loaded_replaced": ("（替换了批次 {ids}）", " (replaced batch {ids})"),
    # the bulk way (analytics/importing/bulk.py)
    "msg_no_bulk": ("{message}（不能批量导入：{why}）", "{message} (no bulk import: {why})"),
    "msg_bulk_too_large": (
        "{file}：文件大小 {size} 超过批量导入上限 {limit}（环境变量 {var}）。",
        "{file}: the file is {size}, over the bulk import limit of {limit} ({var}).",
    ),
    "msg_bulk_utf16": ("UTF-16 编码", "UTF-16 encoded"),
    "msg_bulk_not_utf8": ("不是 UTF-8 编码", "not UTF-8"),
    "msg_bulk_not_comma": ("不是以逗号分隔的 CSV", "not a comma-separated CSV"),
    "msg_bulk_header_row": ("表头不在第 1 行", "the header is not on row 1"),
    "msg_bulk_person_level": (
        "每行一人的成员表（与户主关系、人编号）",
        "one row per person (与户主关系, 人编号): its rows are rolled up into households",
    ),
    "msg_bulk_long_rows": ("有的行比表头长", "rows longer than the header"),
    "msg_bulk_duckdb_csv": ("DuckDB 无法按 CSV 读取", "DuckDB cannot read it: {error}"),
    "msg_bulk_blank_lines": ("有空行或单元格内换行", "blank lines or line breaks inside cells"),
    "msg_bulk_doubled_quotes": ("值中有成对的引号", "doubled quotes inside values"),
    "msg_parquet_unreadable": (
        "{file}：无法读取 Parquet 文件（{error}）。",
        "{file}: cannot read the Parquet file ({error}).",
    ),
    "msg_parquet_no_header": (
        "{file}：列名中找不到可识别的表头。",
        "{file}: no recognisable header in the column names.",
    ),
    "msg_parquet_type": (
        "{file}：列“{column}”的类型 {type} 无法导入。",
        "{file}: column '{column}' has type {type}, which cannot be imported.",
    ),
    "msg_bulk_memory": (
        "{file}：批量导入所需内存超过 {mb} MB，未导入任何数据；请调高环境变量 {var}。",
        "{file}: the bulk import needs more than {mb} MB of memory; nothing was imported. "
        "Raise {var}.",
    ),
    "msg_bulk_odd_rows": (
        "{file}：有 {n:,} 行需要逐行检查（空行、合计行、有错误或户编号重复的行等），"
        "超过上限 {limit:,} 行（环境变量 {var}），未导入任何数据；"
        "请检查文件（例如户编号列是否被整列填充成同一个值）。",
        "{file}: {n:,} rows need row-by-row checks (blank, totals, errors, repeated household "
        "ids, ...), over the limit of {limit:,} rows ({var}); nothing was imported. Check the "
        "file (a household id column filled down with one value?).",
    ),
    "msg_bulk_row_ids": ("{file}：DuckDB 行号顺序异常", "{file}: DuckDB row ids out of order"),
    # the parse worker (analytics/importing/worker.py)
    "msg_worker_wall": (
        "{file}：读取超过 {wall} 秒仍未完成（{factor} 倍的环境变量 {var}），已停止，"
        "未导入任何数据。",
        "{file}: reading it took longer than {wall} s ({factor} x {var}) and was stopped; "
        "nothing was imported.",
    ),
    "msg_worker_cpu": (
        "{file}：读取所需计算时间超过 {seconds} 秒的上限（环境变量 {var}），已停止，"
        "未导入任何数据。",
        "{file}: reading it needs more than the limit of {seconds} s of CPU time ({var}); it "
        "was stopped and nothing was imported.",
    ),
    "msg_worker_oom": (
        "{file}：读取时解析程序一次要求分配 {asked} 内存，超过上限 {mb} MB（环境变量 {var}），"
        "已停止；文件可能已损坏或被恶意构造，未导入任何数据。",
        "{file}: the parser asked for {asked} of memory at once, over the limit of {mb} MB "
        "({var}), and was stopped; the file is damaged or crafted. Nothing was imported.",
    ),
    "msg_worker_crash": (
        "{file}：读取时解析程序异常终止（{how}），文件可能已损坏或被恶意构造，未导入任何数据。",
        "{file}: the parser stopped abnormally while reading it ({how}); the file is damaged "
        "or crafted. Nothing was imported.",
    ),
    "msg_worker_memory": (
        "{file}：读取此文件所需内存超过上限 {mb} MB（环境变量 {var}），已停止，未导入任何数据。",
        "{file}: reading it needs more memory than the limit of {mb} MB ({var}); it was "
        "stopped and nothing was imported.",
    ),
    "msg_worker_format": (
        "{file}：读取程序返回了无法识别的结果，已按无法读取处理。",
        "{file}: the reader answered out of format ({why}); treated as unreadable.",
    ),
    # an office's header spellings (analytics/importing/spellings.py)
    "msg_spelling_empty": ("列名为空", "the header is empty"),
    "msg_spelling_no_field": (
        "“{target}”不是可识别的字段（请用字段名，如 persons）",
        "'{target}' names no field (or several): give the field key, e.g. persons",
    ),
    "msg_spelling_taken": (
        "“{header}”已是{table}中“{field}”的写法",
        "'{header}' already means {field} in {table}",
    ),
}
if IMPORTER_MESSAGES.keys() & LABELS.keys():
    raise RuntimeError(f"labels in both blocks: {sorted(IMPORTER_MESSAGES.keys() & LABELS.keys())}")
LABELS.update(IMPORTER_MESSAGES)


class Both(NamedTuple):
    """A text in both languages: a message made by ``texts``, or a field of one that is
    written differently in each (a reason, a detail)."""

    zh: str
    en: str


def texts(key: str, **fields: object) -> Both:
    """Message ``key`` of ``LABELS`` in both languages, formatted with ``fields`` (a
    ``Both`` field gives each language its own text).

    Raises
    ------
    KeyError
        When ``key`` is not a label (a message's key is never shown as its text).
    """
    zh, en = LABELS[key]
    return Both(
        zh.format(**{k: v.zh if isinstance(v, Both) else v for k, v in fields.items()}),
        en.format(**{k: v.en if isinstance(v, Both) else v for k, v in fields.items()}),
    )


# Field keys not in LABELS take their template header (zh) and a readable key (en).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    f.key: (f.header, f.key.replace("_", " ").capitalize())
    for table in schema.TABLES.values()
    for f in table.fields
}


def action_label(action: str, lang: str = "zh") -> str:
    """An audit log action (``accounts.ACTIONS``) in words; the action itself when unknown."""
    key = f"audit_{action}"
    return label(key, lang) if key in LABELS else action


def label(key: str, lang: str = "zh", **fmt: object) -> str:
    """The label of ``key`` in ``lang`` ("zh" or "en"); the key itself when unknown."""
    pair = LABELS.get(key) or FIELD_LABELS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**fmt) if fmt else text


# --------------------------------------------------------------- text from data
# Characters that start a Markdown construct (links, images, HTML, emphasis, code, tables,
# headings, strikethrough, Streamlit's :color[...] directives and $math$), and the starts of
# bare links that GFM turns into links.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|!~$])")
_BARE_LINK = re.compile(r"(?i)(?<=[a-z]:)(?=//)|(?<=www)(?=\.)")
_JOINER = "\u2060"  # a word joiner: invisible, and GFM finds no link across it


def md_escape(text: object) -> str:
    """Text from data or from the URL (round, township, village names, file names) made
    safe for an element that renders Markdown: the characters that start a link, an image,
    HTML, emphasis, code, a table, a heading or a directive are backslash-escaped, and bare
    links (``http://``, ``www.``) are broken by an invisible word joiner (GFM links them
    after escapes are read), so the text shows as written and nothing in it
    links or loads anywhere; line breaks become spaces. Figures ("5.23%", "2,952") and
    Chinese text are unchanged. The one helper of every page, and of the Markdown report.
    """
    s = "" if text is None else str(text)
    s = s.replace("\r", " ").replace("\n", " ")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return _BARE_LINK.sub(_JOINER, s)


# ------------------------------------------------------------- number formats
EMPTY = "—"  # a missing value, e.g. a rate whose denominator is zero


def _number(value: object) -> float | None:
    """The value as a float, or None when it is missing (None, NaN, NA) or not a number."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def fmt_count(value: object) -> str:
    """An integer with thousands separators (12,345); "—" when missing."""
    v = _number(value)
    return EMPTY if v is None else f"{int(v):,}"


def fmt_rate(value: object) -> str:
    """A fraction as a percentage with two decimals (0.0523 -> "5.23%"); "—" when empty."""
    v = _number(value)
    return EMPTY if v is None else f"{v * 100:.2f}%"


def fmt_change(value: object) -> str:
    """A signed count change (+1,234 / -5); "—" when missing."""
    v = _number(value)
    return EMPTY if v is None else f"{int(v):+,}"


def fmt_change_rate(value: object) -> str:
    """A rate change in percentage points (+0.25 pp); "—" when missing."""
    v = _number(value)
    return EMPTY if v is None else f"{v * 100:+.2f} pp"
