"""The one place that names things: tables, fields, header spellings and coded values.

A new header spelling, a new yes/no word or a new outcome synonym is one line here.
Sources: ../shared/DOMAIN.md ("Tables and fields", "Real workbooks look like this").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

# Value kinds a field can hold; validate.py has one parser per kind.
TEXT, INT, NUMBER, DATE, MONTH, YESNO, STATE, ADJUSTMENT, FINDING, ID_NUMBER, RELATION, SEX = (
    "text",
    "int",
    "number",
    "date",
    "month",  # a calendar month (YYYYMM in the national exports), stored as its first day
    "yesno",
    "state",
    "adjustment",
    "finding",
    "id_number",
    "relation",  # a member's relation to the head of household (RELATIONS)
    "sex",  # a member's sex (SEXES)
)


@dataclass(frozen=True)
class Field:
    """One column of a table.

    Parameters
    ----------
    key : canonical field key used in code and in the database.
    header : the Chinese header a template uses.
    kind : one of the value kinds above.
    synonyms : other header spellings seen in county files (compared after ``header_key``).
    in_template : whether the blank template (analytics/output/template.py) has a column
        for it (not for a field only the national exports hold beside another: 户类型).
    """

    key: str
    header: str
    kind: str = TEXT
    synonyms: tuple[str, ...] = ()
    in_template: bool = True


@dataclass(frozen=True)
class Table:
    """A table kind the importer recognises (households, meetings, relocation, villages).

    ``signatures`` are alternative sets of field keys; a sheet is this table when its
    header holds every key of at least one set. ``forbidden`` keys rule it out (a sheet
    with 户编号 is never the village table). ``stand_ins`` maps a field to the field whose
    column it is read from on a sheet without a column of its own (the registry state from
    户类型 where a sheet has neither 脱贫属性 nor 建档立卡状态). ``implied`` maps a field to
    the fields its values may also name (a 脱贫属性 of 预脱贫 names an adjustment too): its
    column counts as theirs where the sheet has none (``results.FileReport.columns``).
    """

    key: str
    label: str
    fields: tuple[Field, ...]
    signatures: tuple[frozenset[str], ...]
    forbidden: frozenset[str] = frozenset()
    priority: int = 0
    stand_ins: Mapping[str, str] = field(default_factory=dict)
    implied: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_key: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {f.key: f for f in self.fields})


# Province and county: part of a household's place (DOMAIN.md "What offices really export":
# township names repeat across counties, so a township is known by its county). The
# national exports' 县(市、区、旗) and 省(区、市) read as 县 and 省 (``header_key`` drops
# what is in brackets). Not in the template: a township office's own sheets name neither.
PROVINCE = Field(
    "province", "省(区、市)", TEXT, ("省", "省份", "所在省", "省名称"), in_template=False
)
COUNTY = Field(
    "county",
    "县(市、区、旗)",
    TEXT,
    ("县", "区县", "县区", "县市区", "县名称", "所在县", "所在县区"),
    in_template=False,
)
TOWNSHIP = Field(
    "township", "乡镇", TEXT, ("乡（镇）", "乡(镇)", "乡", "镇", "乡镇名称", "所在乡镇")
)
VILLAGE = Field("village", "行政村", TEXT, ("村", "村委会", "所在村", "村名", "行政村名称"))
GROUP = Field("group", "村民小组", TEXT, ("自然村", "组", "小组", "村民小组（自然村）", "村小组"))
HOUSEHOLD_ID = Field("household_id", "户编号", TEXT, ("户码", "户ID", "户id", "户号"))
HEAD_NAME = Field("head_name", "户主姓名", TEXT, ("户主", "姓名", "户主名"))

# Exclusion rules ("富户戴穷帽", DOMAIN.md "Exclusion rules"): optional yes/no columns.
EXCLUSION_FIELDS: tuple[Field, ...] = (
    Field(
        "excl_public_servant",
        "有财政供养人员",
        YESNO,
        ("有国家公职人员", "有公职人员", "财政供养人员", "是否有财政供养人员"),
    ),
    Field("excl_village_cadre", "有村干部", YESNO, ("有村三委成员", "村三委", "是否村干部")),
    Field("excl_vehicle", "有机动车", YESNO, ("有车辆", "有小汽车", "有汽车", "是否有机动车")),
    Field(
        "excl_town_house",
        "有城镇商品房",
        YESNO,
        ("有商品房", "城镇购房", "有城镇住房", "是否有城镇商品房"),
    ),
    Field("excl_business", "有工商注册", YESNO, ("有营业执照", "有经营实体", "是否有工商注册")),
    Field("excl_large_scale", "规模经营", YESNO, ("种养大户", "雇工经营", "有雇工")),
    Field("excl_split_household", "拆户分户", YESNO, ("拆户", "分户并户")),
    Field("excl_empty_registration", "空挂户", YESNO, ("是否空挂户",)),
)

HOUSEHOLDS = Table(
    key="households",
    label="户信息",
    fields=(
        HOUSEHOLD_ID,
        HEAD_NAME,
        Field(
            "head_id_number",
            "户主身份证号",
            ID_NUMBER,
            ("户主身份证号码", "证件号码", "公民身份号码", "身份证号", "身份证号码"),
        ),
        PROVINCE,
        COUNTY,
        TOWNSHIP,
        VILLAGE,
        GROUP,
        Field("household_size", "家庭人口数", INT, ("人口数", "家庭人口", "人数", "家庭人数")),
        # 脱贫属性: the national 2016-2020 exports (DOMAIN.md "What offices really export")
        Field("registry_state", "建档立卡状态", STATE, ("脱贫属性", "贫困户状态", "脱贫状态")),
        # 户类型 (脱贫户 / 一般农户): the registry state where a sheet has no 脱贫属性 (the
        # table's stand_ins); beside one, a second opinion the importer compares with it
        Field("household_type", "户类型", STATE, (), in_template=False),
        Field("poverty_attribute", "贫困户属性", TEXT, ("贫困属性",)),
        Field("main_cause", "主要致贫原因", TEXT, ("致贫原因",)),
        Field("income_per_capita", "人均纯收入", NUMBER, ("家庭人均纯收入", "人均收入")),
        Field("food_clothing_secure", "不愁吃穿", YESNO, ("不愁吃不愁穿", "吃穿不愁")),
        Field("education_secure", "义务教育有保障", YESNO, ("义务教育",)),
        Field("medical_secure", "基本医疗有保障", YESNO, ("基本医疗",)),
        Field("housing_secure", "住房安全有保障", YESNO, ("住房安全",)),
        Field("exit_year", "脱贫年度", INT, ("脱贫年份", "脱贫时间")),
        Field("first_identified", "首次识别时间", MONTH, ("首次识别年月",)),
        Field("adjustment", "动态管理结果", ADJUSTMENT, ("动态调整", "调整类型")),
        Field("verification", "核查结论", FINDING, ("核查结果",)),
        Field("survey_date", "调查日期", DATE, ("入户日期", "核查日期")),
        Field("surveyor", "调查人", TEXT, ("核查人",)),
        Field("approval", "是否认可", YESNO, ("群众认可", "认可度")),
        *EXCLUSION_FIELDS,
    ),
    signatures=(
        frozenset({"household_id", "household_size"}),
        frozenset({"household_id", "registry_state"}),
    ),
    priority=1,
    stand_ins={"registry_state": "household_type"},
    implied={"registry_state": ("adjustment",)},
)

MEETINGS = Table(
    key="meetings",
    label="贫情分析会议",
    fields=(
        PROVINCE,
        COUNTY,
        TOWNSHIP,
        VILLAGE,
        GROUP,
        Field("meeting_date", "会议日期", DATE, ("日期", "召开日期")),
        Field("phase", "会议阶段", TEXT, ("阶段",)),
        Field("attendance", "参会人数", INT, ("参会人次", "人次", "参加人数")),
        Field("host", "主持人", TEXT, ()),
    ),
    signatures=(frozenset({"attendance", "meeting_date"}), frozenset({"attendance", "phase"})),
    forbidden=frozenset({"household_id"}),
)

RELOCATION = Table(
    key="relocation",
    label="易地扶贫搬迁",
    fields=(
        HOUSEHOLD_ID,
        HEAD_NAME,
        PROVINCE,
        COUNTY,
        TOWNSHIP,
        Field("village", "迁出村", TEXT, ("行政村", "村", "村委会", "所在村")),
        GROUP,
        Field("site", "安置点", TEXT, ("安置点名称", "集中安置点")),
        Field("mode", "安置方式", TEXT, ("安置类型",)),
        Field("persons", "搬迁人口", INT, ("安置人口", "人数", "搬迁人数")),
        Field("house_area", "住房面积", NUMBER, ("建房面积", "住房建筑面积", "安置住房面积")),
        Field("remedy", "整改措施", TEXT, ("整改方式", "超标整改")),
    ),
    signatures=(
        frozenset({"household_id", "house_area"}),
        frozenset({"household_id", "site", "persons"}),
    ),
    priority=2,
)

VILLAGES = Table(
    key="villages",
    label="村基本情况",
    fields=(
        PROVINCE,
        COUNTY,
        TOWNSHIP,
        VILLAGE,
        Field("is_poor_village", "是否贫困村", YESNO, ("贫困村",)),
        Field("households", "总户数", INT, ("户数",)),
        Field("population", "总人口", INT, ("人口",)),
        Field("rural_population", "乡村人口", INT, ("农业人口", "农业户籍人口")),
    ),
    signatures=(
        frozenset({"village", "rural_population"}),
        frozenset({"village", "is_poor_village"}),
        frozenset({"village", "population", "households"}),
    ),
    forbidden=frozenset({"household_id", "attendance"}),
)

# A member's name and ID number: on a member sheet 姓名 and 证件号码 are these, not the head's
# (``MEMBER_SHEET``).
MEMBER_NAME = Field("name", "姓名", TEXT, ("成员姓名",))
MEMBER_ID_NUMBER = Field(
    "id_number", "证件号码", ID_NUMBER, ("身份证号", "公民身份号码", "身份证号码")
)
# Household members (家庭成员), one row per person per round: the national system's person
# lists (DOMAIN.md "What offices really export"), or a 家庭成员 sheet beside a household
# sheet. A sheet with these fields and a household signature too is a person-level
# household sheet: analytics/importing/locate.py reads both, analytics/importing/rollup.py
# rolls its rows up into households.
MEMBERS = Table(
    key="members",
    label="家庭成员",
    fields=(
        HOUSEHOLD_ID,
        Field("person_id", "人编号", TEXT, ("成员编号",)),
        MEMBER_NAME,
        MEMBER_ID_NUMBER,
        Field("relation", "与户主关系", RELATION, ("与户主的关系",)),
        Field("sex", "性别", SEX, ()),
        Field("birth_date", "出生日期", DATE, ("出生年月日",)),
        Field("ethnicity", "民族", TEXT, ()),
        Field("education", "文化程度", TEXT, ()),
        Field("school_status", "在校生状况", TEXT, ()),  # blank: not in school
        Field("health", "健康状况", TEXT, ()),
        Field("labour", "劳动技能", TEXT, ()),
        Field("work_months", "务工时间（月）", INT, ("务工时间",)),
        Field("serious_illness_insurance", "是否参加大病保险", YESNO, ()),
        Field("basic_medical_insurance", "是否参加城乡居民基本医疗保险", YESNO, ()),
        Field("basic_pension_insurance", "是否参加城乡居民基本养老保险", YESNO, ()),
        Field("minimum_living", "是否享受低保", YESNO, ("低保",)),
    ),
    signatures=(
        frozenset({"household_id", "relation"}),
        frozenset({"household_id", "person_id"}),
    ),
)
# The member fields that make a sheet person-level beside its 户编号 (DOMAIN.md: recognised
# by 与户主关系 or 人编号 beside a repeated 户编号).
MEMBER_MARKS = frozenset({"relation", "person_id"})

TABLES: dict[str, Table] = {t.key: t for t in (HOUSEHOLDS, MEETINGS, RELOCATION, VILLAGES, MEMBERS)}
# The tables whose rows name their own place (township, village): the others (members)
# take their household's.
PLACED_TABLES = tuple(k for k, t in TABLES.items() if "township" in t.by_key)
# The fields of a place above the township, outermost first: a sheet names them in columns,
# in its title (analytics/importing/locate.py ``place_from_title``) or elsewhere in its
# workbook (analytics/importing/workbook.py ``settle``); a row whose cell is blank takes the
# sheet's. A township is known by its county (analytics/figures/filters.py).
ABOVE_TOWNSHIP = (PROVINCE.key, COUNTY.key)

# Group headers seen over sub-columns in two-row headers.
# The columns of the national system's 2016-2020 person list (贫困人口明细 / 已脱贫人口名单),
# in the order it exports them (DOMAIN.md "What offices really export"); an office's copy
# may cut some. The demo's export and the benchmark's generator write these.
PERSON_LIST_COLUMNS: tuple[str, ...] = (
    "序号",
    "县(市、区、旗)",
    "乡(镇)",
    "行政村",
    "自然村",
    "户编号",
    "人编号",
    "姓名",
    "证件号码",
    "人数",
    "与户主关系",
    "民族",
    "文化程度",
    "在校生状况",
    "健康状况",
    "劳动技能",
    "务工时间（月）",
    "是否参加大病保险",
    "脱贫属性",
    "贫困户属性",
    "致贫原因1",
    "危房户",
    "是否解决安全饮用水",
    "人均纯收入",
    "首次识别时间",
    "户类型",
)
GROUP_HEADERS = frozenset({"两不愁三保障", "三保障", "两不愁", "排除条件", "否决事项", "家庭情况"})

# Coded values. Keys are the canonical values; each list holds the spellings that map to it.
REGISTRY_STATES: dict[str, tuple[str, ...]] = {
    "remaining_poor": ("未脱贫", "贫困户", "未脱贫户", "建档立卡贫困户", "在册贫困户", "贫困"),
    "exited": ("已脱贫", "脱贫户", "已脱贫户", "脱贫", "脱贫享受政策", "脱贫不享受政策"),
    "nonregistered": (
        "非建档立卡",
        "一般农户",
        "非贫困户",
        "一般户",
        "非建档立卡户",
        "非建档立卡贫困户",
        "非建档立卡农户",
        "普通农户",
    ),
}
# 脱贫属性 values that name a registry state and an adjustment at once (DOMAIN.md "What
# offices really export"): a cell parses to the compound code "<state>+<adjustment>", which
# the row rule W_IMPLIED_ADJUSTMENT (analytics/importing/row_rules.py) splits into the two
# fields; ``split_state`` is the one reading of a compound code.
STATES_WITH_ADJUSTMENT: dict[str, tuple[str, ...]] = {
    "remaining_poor+exit_proposed": ("预脱贫", "拟脱贫"),
    "exited+relapse": ("返贫",),
}


def _gbt(*codes: int) -> tuple[str, ...]:
    """GB/T 4761 family-relation codes as a cell holds them: "01" and, from a number cell,
    "1"."""
    return tuple(dict.fromkeys(s for c in codes for s in (f"{c:02d}", str(c))))


# A member's relation to the head of household (与户主关系): DOMAIN.md "What offices really
# export" and GB/T 4761-2008 (家庭关系代码): 01/02 the head, 10-19 spouse, 20-29 sons
# (28 女婿), 30-39 daughters (38 儿媳), 40-49 grandchildren (41/43 grandsons, 42/44
# granddaughters), 50-59 parents (51 father, 52 mother), 60-69 grandparents (61/63
# grandfathers, 62/64 grandmothers), 70-79 siblings, 99 other.
RELATIONS: dict[str, tuple[str, ...]] = {
    "head": ("户主", "本人", *_gbt(1, 2)),
    "spouse": ("配偶", "之妻", "之夫", "妻子", "丈夫", *_gbt(*range(10, 20))),
    "son": ("之子", "儿子", "子", *_gbt(*range(20, 28), 29)),
    "daughter": ("之女", "女儿", "女", *_gbt(*range(30, 38), 39)),
    "son_in_law": ("之女婿", "女婿", *_gbt(28)),
    "daughter_in_law": ("之儿媳", "儿媳", *_gbt(38)),
    "grandson": ("之孙子", "孙子", "之外孙子", "外孙子", *_gbt(41, 43)),
    "granddaughter": ("之孙女", "孙女", "之外孙女", "外孙女", *_gbt(42, 44)),
    "grandchild": _gbt(40, *range(45, 50)),
    "father": ("之父", "父亲", *_gbt(51)),
    "mother": ("之母", "母亲", *_gbt(52)),
    "parent": _gbt(50, *range(53, 60)),
    "grandfather": ("之祖父", "祖父", "之外祖父", "外祖父", *_gbt(61, 63)),
    "grandmother": ("之祖母", "祖母", "之外祖母", "外祖母", *_gbt(62, 64)),
    "grandparent": _gbt(60, *range(65, 70)),
    "sibling": ("兄弟姐妹", "之兄", "之弟", "之姐", "之妹", *_gbt(*range(70, 80))),
    "other": ("其他", *_gbt(99)),
}
# The sex a relation implies (the contract of issue 14's members work).
RELATION_SEX: dict[str, str] = {
    **dict.fromkeys(("son", "grandson", "son_in_law", "father", "grandfather"), "male"),
    **dict.fromkeys(
        ("daughter", "granddaughter", "daughter_in_law", "mother", "grandmother"), "female"
    ),
}
# A member's sex (性别): GB/T 2261.1 codes 1 男, 2 女.
SEXES: dict[str, tuple[str, ...]] = {
    "male": ("男", "男性", "1"),
    "female": ("女", "女性", "2"),
}
ADJUSTMENTS: dict[str, tuple[str, ...]] = {
    "new": ("新增", "新识别", "新增贫困户", "新纳入", "新识别贫困户"),
    "relapse": ("返贫", "脱贫返贫", "返贫户"),
    "exit_proposed": ("拟退出", "拟脱贫", "拟脱贫退出", "拟退出户"),
    "removed": ("剔除", "清退", "识别不精准剔除"),
}
FINDINGS: dict[str, tuple[str, ...]] = {
    "inclusion_error": ("错评", "错评户", "识别不精准"),
    "exclusion_error": ("漏评", "漏评户", "漏识"),
    "wrongful_exit": ("错退", "错退户"),
}
# Cell texts that mean "nothing here" in any field (after NFKC: a full-width ／ or － is
# already / or -); a yes/no field reads 无 as 否 (有/无, DOMAIN.md "Real workbooks").
BLANK_WORDS = frozenset({"无", "/", "-", "--", "—", "——", "―"})
# Spellings that mean "no change" / "correct" in an outcome column.
NO_OUTCOME = BLANK_WORDS | {"", "无变化", "不变", "正常", "正确", "准确", "无问题"}
YES = frozenset({"是", "√", "✓", "✔", "有", "y", "yes", "1", "true", "对", "认可", "满意"})
NO = frozenset(
    {"否", "×", "✗", "✘", "x", "无", "n", "no", "0", "false", "没有", "不认可", "不满意"}
)

# Rows to skip below or inside a table.
# 合计, 孔兴村小计, 合计：5户, 小计（1组）, 总计5户 (spaces already removed); not 合计村.
TOTAL_PATTERN = re.compile(r"^[\u4e00-\u9fff]{0,8}(合计|小计|总计|累计)([:：(（\d].*)?$")
FOOTER_PATTERN = re.compile(
    r"^(审核人|审核|填表人|填报人|制表人|负责人|单位负责人|联系电话|联系人|注[:：]|注\s|说明|备注[:：])"
)
# Not followed by 镇 (各乡镇) nor by the rest of 乡村人口 / 乡村两级 ("2017年各村乡村人口…");
# "诗礼乡村基本情况表" still names 诗礼乡, while generic words (全乡, 各乡) are refused by
# locate.township_from_title.
TITLE_TOWNSHIP_PATTERN = re.compile(r"([\u4e00-\u9fff]{1,10}?(?:乡|镇|街道))(?!镇|村人口|村两级)")
GENERIC_TOWNSHIP_WORDS = frozenset(
    {
        "乡",
        "镇",
        "街道",
        "全乡",
        "各乡",
        "本乡",
        "该乡",
        "全镇",
        "各镇",
        "本镇",
        "该镇",
        "城乡",
        "下乡",
    }
)

# Provinces, autonomous regions and municipalities (GB/T 2260, the first two digits of a
# region code): the province a title names ("云南省凤庆县…").
PROVINCE_NAMES: tuple[str, ...] = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省",
    "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省",
    "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
    "台湾省", "香港特别行政区", "澳门特别行政区",
)  # fmt: skip
# A title's county: a name ending in one of these right before the township it names
# (凤庆县诗礼乡, 临翔区博尚镇), or, where it names none, ending in 县/旗 at its start
# (凤庆县2017年…): analytics/importing/locate.py ``place_from_title``.
TITLE_COUNTY_PATTERN = re.compile(r"^([\u4e00-\u9fff]{1,20}(?:县|旗|区|市))$")
TITLE_LEADING_COUNTY_PATTERN = re.compile(r"^([\u4e00-\u9fff]{1,12}?(?:县|旗))")
# A prefecture before a county (临沧市凤庆县, 大理白族自治州宾川县): not the county.
TITLE_PREFECTURE_PATTERN = re.compile(r"^[\u4e00-\u9fff]+?(?:自治州|地区|州|盟|市)(?=.+)")
GENERIC_COUNTY_PREFIXES = ("全", "本", "各", "该", "城", "社", "地", "辖")

# A title line giving the date its data is as of (导出时间：2019-12-31, 数据日期：2023年12月18日):
# the date follows the word (analytics/importing/workbook.py).
DATA_DATE_WORDS = (
    "数据日期",
    "导出时间",
    "导出日期",
    "数据时间",
    "统计日期",
    "截止日期",
    "截至日期",
)
DATA_DATE_PATTERN = re.compile(
    "(?:"
    + "|".join(DATA_DATE_WORDS)
    + r")\s*[:：]?\s*(\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?|\d{8})"
)

_PARENS = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
_NOISE = re.compile(r"[\s*＊:：]")


def header_key(text: object) -> str:
    """Normalises a header cell for lookup: NFKC, no spaces, no units in brackets, no '*'.

    ``"人均纯收入（元）"`` -> ``"人均纯收入"``; ``"乡（镇）"`` -> ``"乡"``.
    """
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = _PARENS.sub("", s)
    return _NOISE.sub("", s)


# An office's own header spellings, confirmed by an administrator and kept in its database
# (``Store.spellings``): normalised spelling (``header_key``) -> field key. They apply to
# every table that has that field.
Spellings = Mapping[str, str]
NO_SPELLINGS: Spellings = {}  # read only (a Mapping): never written to


@dataclass(frozen=True)
class Shape:
    """The shape of a sheet: which field a header means on it, where that differs from its
    table's own spellings.

    The same header means different things on sheets of different shapes: on a member
    sheet 姓名 and 证件号码 are the member's, not the head's; 户类型 is a registry state in a
    registry export and a monitoring type in a monitoring export. A shape says so for its
    sheets, one line a header; the header lookup of a sheet of that shape
    (``header_lookup``) follows it before the table's own spellings.

    Attributes
    ----------
    key : the shape's key ("template", ...).
    label : its name as the user sees it.
    headers : header spelling (normalised by ``header_key`` when looked up) -> the field key
        it means on this shape, or None when on this shape it means no field of the table.
    """

    key: str
    label: str
    headers: Mapping[str, str | None] = field(default_factory=dict)


# The sheets of the template (templates/*.xlsx) and of county files like them: every header
# means what its table's spellings say. The national exports' shapes come with their issue.
TEMPLATE = Shape("template", "模板")
# A person-level sheet (one row per member, DOMAIN.md "What offices really export"): its
# 姓名 and 证件号码 are the member's (``MEMBERS``' name and id_number), no household field;
# the head is the 户主 row. The household fields of such a sheet are looked up with this
# shape, its member fields with the members table's own spellings.
MEMBER_SHEET = Shape(
    "member",
    "成员表",
    {s: None for f in (MEMBER_NAME, MEMBER_ID_NUMBER) for s in (f.header, *f.synonyms)},
)


def header_lookup(
    table: Table, spellings: Spellings = NO_SPELLINGS, shape: Shape = TEMPLATE
) -> dict[str, str]:
    """Maps every normalised spelling of ``table``'s headers to its field key, on a sheet of
    ``shape``.

    The one spelling lookup of every import path (locating a table, repeated headers inside
    it, the bulk path). The shape's headers come first (one meaning no field is left out,
    whatever the table or the office says); then the table's own spellings; then
    ``spellings``, an office's confirmed spellings (normalised spelling -> field key): one
    whose field ``table`` lacks is ignored, and a built-in spelling always wins over an
    office's.
    """
    out: dict[str, str | None] = {}
    for spelling, key in shape.headers.items():
        if key is None or key in table.by_key:
            out.setdefault(header_key(spelling), key)
    for f in table.fields:
        for spelling in (f.header, f.key, *f.synonyms):
            out.setdefault(header_key(spelling), f.key)
    for spelling, key in spellings.items():
        if key in table.by_key:
            out.setdefault(spelling, key)
    return {s: k for s, k in out.items() if k is not None}


def field_tables(key: str) -> list[Table]:
    """The tables that have a field ``key`` (``village`` is in all four)."""
    return [t for t in TABLES.values() if key in t.by_key]


def resolve_field(target: str) -> str:
    """The field key ``target`` names: a field key (``persons``) or any spelling of one
    (``搬迁人口``, ``安置人口``).

    Raises
    ------
    KeyError
        When ``target`` names no field, or spellings of different fields (``人数`` is both
        ``household_size`` and ``persons``: give the field key then).
    """
    if field_tables(target):
        return target
    wanted = header_key(target)
    found = {k for t in TABLES.values() for s, k in header_lookup(t).items() if s == wanted}
    if len(found) != 1:
        raise KeyError(target)
    return found.pop()


PROPOSAL_MIN_SIMILARITY = 0.7  # difflib ratio below which no column is proposed


def similarity(f: Field, header: str) -> float:
    """How much ``header`` looks like a spelling of field ``f``, from 0 to 1: the best
    ``difflib.SequenceMatcher`` ratio over its spellings (normalised), or, where a spelling
    is contained in the header (搬迁人口 in 搬迁人口数) or the header in it, their length
    ratio when that is higher."""
    text = header_key(header)
    best = 0.0
    for spelling in {header_key(s) for s in (f.header, *f.synonyms)}:
        if not text or not spelling:
            continue
        score = difflib.SequenceMatcher(None, text, spelling).ratio()
        if spelling in text or text in spelling:
            score = max(score, min(len(text), len(spelling)) / max(len(text), len(spelling)))
        best = max(best, score)
    return best


def propose(table: Table, header: str, taken: Collection[str] = ()) -> str | None:
    """The field of ``table`` an unrecognised header most likely means, or None.

    Fields in ``taken`` (those the sheet already has) are not proposed; the field with the
    highest ``similarity`` wins when it reaches ``PROPOSAL_MIN_SIMILARITY``.
    """
    scored = [(similarity(f, header), f.key) for f in table.fields if f.key not in taken]
    score, key = max(scored, default=(0.0, ""))
    return key if score >= PROPOSAL_MIN_SIMILARITY else None


def split_state(code: str) -> tuple[str, str | None]:
    """A registry state code and the adjustment it names: ``"exited+relapse"`` ->
    ``("exited", "relapse")``; a plain state -> ``(state, None)`` (``STATES_WITH_ADJUSTMENT``).
    """
    state, _, adjustment = code.partition("+")
    return state, adjustment or None


def value_lookup(codes: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Maps each spelling (and the canonical key itself) of a coded column to its key."""
    out = {k: k for k in codes}
    for k, spellings in codes.items():
        for s in spellings:
            out[s] = k
    return out


# Value kind -> the DuckDB type of its column (the store's tables, analytics/store/database.py).
SQL_TYPES = {
    TEXT: "VARCHAR",
    ID_NUMBER: "VARCHAR",
    STATE: "VARCHAR",
    RELATION: "VARCHAR",
    SEX: "VARCHAR",
    ADJUSTMENT: "VARCHAR",
    FINDING: "VARCHAR",
    INT: "BIGINT",
    NUMBER: "DOUBLE",
    DATE: "DATE",
    MONTH: "DATE",
    YESNO: "BOOLEAN",
}


def table_columns(table_key: str) -> list[tuple[str, str]]:
    """(column, SQL type) of a data table: batch and round, the fields, the source row."""
    fields = [(f.key, SQL_TYPES[f.kind]) for f in TABLES[table_key].fields]
    return [
        ("batch_id", "BIGINT"),
        ("round", "VARCHAR"),
        *fields,
        ("source_sheet", "VARCHAR"),
        ("source_row", "BIGINT"),
    ]
