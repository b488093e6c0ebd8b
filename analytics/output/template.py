"""A blank template workbook: one sheet per table, Chinese headers, drop-down lists for
coded columns, an example row. Built from ``schema`` so it always matches the importer."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from analytics.domain import schema
from analytics.output import export

# Drop-down choices per value kind (first spelling of each code, as county staff write it).
CHOICES = {
    schema.STATE: ["未脱贫", "已脱贫", "非建档立卡"],
    schema.ADJUSTMENT: ["新增", "返贫", "拟退出", "剔除"],
    schema.FINDING: ["错评", "漏评", "错退"],
    schema.YESNO: ["是", "否"],
    schema.RELATION: [
        "户主",
        "配偶",
        "之子",
        "之女",
        "之儿媳",
        "之女婿",
        "之孙子",
        "之孙女",
        "之父",
        "之母",
        "之祖父",
        "之祖母",
        "兄弟姐妹",
        "其他",
    ],
    schema.SEX: ["男", "女"],
}
FIELD_CHOICES = {
    "phase": ["贫情分析", "实地调查"],
    "mode": ["集中安置", "分散安置"],
    "remedy": ["亲属共建", "共有产权"],
    "poverty_attribute": ["一般贫困户", "低保贫困户", "特困供养贫困户"],
    "main_cause": [
        "因病",
        "因残",
        "因学",
        "因灾",
        "缺土地",
        "缺水",
        "缺技术",
        "缺劳力",
        "缺资金",
        "交通条件落后",
        "自身发展动力不足",
    ],
}
# An example row per table (field key -> value); a synthetic person, a valid check digit.
EXAMPLES = {
    "households": {
        "household_id": "5309211030010001",
        "head_name": "张示例",
        "head_id_number": "530921198001010018",
        "township": "诗礼乡",
        "village": "诗礼村",
        "group": "一组",
        "household_size": 4,
        "registry_state": "已脱贫",
        "poverty_attribute": "一般贫困户",
        "main_cause": "缺资金",
        "income_per_capita": 4200,
        "food_clothing_secure": "是",
        "education_secure": "是",
        "medical_secure": "是",
        "housing_secure": "是",
        "exit_year": 2016,
        "survey_date": dt.date(2017, 7, 8),
        "surveyor": "李调查",
        "approval": "是",
    },
    "meetings": {
        "township": "诗礼乡",
        "village": "诗礼村",
        "group": "一组",
        "meeting_date": dt.date(2017, 6, 28),
        "phase": "贫情分析",
        "attendance": 12,
        "host": "王主持",
    },
    "relocation": {
        "household_id": "5309211030010001",
        "head_name": "张示例",
        "township": "诗礼乡",
        "village": "诗礼村",
        "site": "诗礼乡小湾安置点",
        "mode": "集中安置",
        "persons": 4,
        "house_area": 100,
    },
    "villages": {
        "township": "诗礼乡",
        "village": "诗礼村",
        "is_poor_village": "否",
        "households": 420,
        "population": 1730,
        "rural_population": 1730,
    },
    "members": {
        "household_id": "5309211030010001",
        "person_id": "530921103001000101",
        "name": "张示例",
        "id_number": "530921198001010018",
        "relation": "户主",
        "sex": "男",
        "birth_date": dt.date(1980, 1, 1),
        "ethnicity": "汉族",
        "education": "初中",
        "health": "健康",
        "labour": "普通劳动力",
        "work_months": 6,
        "serious_illness_insurance": "是",
        "basic_medical_insurance": "是",
        "basic_pension_insurance": "是",
        "minimum_living": "否",
    },
}


EXAMPLE_MARK = "（示例）"  # the importer skips a row whose first cell starts with this


def template_bytes() -> bytes:
    """The template as .xlsx bytes: sheets 户信息, 贫情分析会议, 易地扶贫搬迁, 村基本情况.

    Row 1 holds the headers (bold, frozen), row 2 an example marked （示例） in its first
    cell (the importer skips it, so a forgotten example never becomes data); coded columns
    carry drop-down lists for 1,000 rows; ID and household-id columns are text cells.
    """
    book = Workbook()
    for blank in list(book.worksheets):
        book.remove(blank)
    for key, table in schema.TABLES.items():
        ws = book.create_sheet(table.label)
        example = EXAMPLES[key]
        for col, f in enumerate((f for f in table.fields if f.in_template), start=1):
            letter = get_column_letter(col)
            head = export.put(ws, 1, col, f.header)
            head.font = Font(bold=True)
            head.fill = PatternFill("solid", fgColor="DDEBF7")
            head.alignment = Alignment(horizontal="center")
            ws.column_dimensions[letter].width = max(10, len(f.header) * 2 + 4)
            value = example.get(f.key)
            if col == 1:
                value = f"{EXAMPLE_MARK}{value if value is not None else ''}"
            cell = export.put(ws, 2, col, value)
            if f.kind in (schema.ID_NUMBER, schema.TEXT):
                for row in range(2, 1002):
                    ws.cell(row, col).number_format = "@"
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            choices = FIELD_CHOICES.get(f.key) or CHOICES.get(f.kind)
            if choices:
                dv = DataValidation(
                    type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True
                )
                dv.add(f"{letter}2:{letter}1001")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
