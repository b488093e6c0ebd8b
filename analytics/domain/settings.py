"""Configurable limits: rate ceilings, the approval floor, poverty lines, housing standard.

Defaults and their sources (../shared/DOMAIN.md, "Thresholds"):
- comprehensive poverty rate 3% (western provinces; 2% central), wrongful-exit rate 2%,
  exclusion-error rate 2%: 《关于建立贫困退出机制的意见》(2016) and the national exit
  evaluation ("三率一度"); inclusion-error rate 2% (no national ceiling; annual
  assessments report it beside the others);
- public approval (群众认可度) at least 90%;
- relocation housing at most 25 m² per person (national 13th Five-Year relocation plan);
- national poverty line, yuan per person per year (2010 prices 2300), per year.

Limits of the anomaly rules (``analytics.rules``); project defaults, not national figures:
- ``poor_far_above_factor`` 2.0: a remaining-poor household whose per-capita income is above
  2 x the year's line is flagged as a possible inclusion error ("富户戴穷帽");
- ``income_max`` 100,000 yuan per person per year: a per-capita net income above it (or
  <= 0) is taken as a data-entry error (the national system's "收入异常" check);
- ``outlier_z`` 3.5 and ``outlier_min_units`` 5: a village whose rate has a modified
  z-score |0.6745 x (x - median) / MAD| above 3.5 is far from the others (Iglewicz and
  Hoaglin 1993, "How to Detect and Handle Outliers"; the modified z-score of DHIS2's
  outlier detection); not computed over fewer than 5 villages;
- ``completeness_min`` 0.9: a village is incomplete when its surveyed households are under
  90% of the village table's 总户数 (DHIS2-style completeness per unit).

Limits of the person rules (``analytics.importing.person_rules``), fixed (the importer runs
them on every import, before any settings are read; not on the settings page):
- ``AGE_MAX`` 120 years: a member older than that at the batch's data date is taken as a
  data-entry error (issue 14's person rules; the national checks have no age ceiling);
- ``SCHOOL_AGE`` 6 to 15 years at the data date, both included: the age of compulsory
  education (义务教育法 2018, art. 11: school at six, nine years), a child of that age with
  no 在校生状况 is an education shortfall (DOMAIN.md "The national system's suspected-problem
  checks"; national check 1_02_005. The public re-implementation GitHub Gzuwkj/fuping takes
  6 to 16 and also accepts a 义务教育阶段未上学原因, a column the members table does not have).

Age bands of the persons breakdown (贫困户情况 page, ``analytics.figures.people``), fixed:
- ``AGE_BANDS`` (0, 6, 16, 60): the lower edges of 0-5 (before school), 6-15 (``SCHOOL_AGE``,
  compulsory education), 16-59 (working age: 劳动法 1994 art. 15, no work under 16) and 60+
  (老年人权益保障法 2018 art. 2: the elderly are those of 60 and over). Ages in whole years
  at the round's data date.

Values are stored in the database's ``settings`` table (key -> JSON) so that the
dashboard's settings page and the command line share them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

RATE_CEILINGS: dict[str, float] = {
    "comprehensive_poverty_rate": 0.03,
    "wrongful_exit_rate": 0.02,
    "exclusion_error_rate": 0.02,
    "inclusion_error_rate": 0.02,
}
APPROVAL_FLOOR = 0.90
AREA_STANDARD = 25.0  # m² per person
POOR_FAR_ABOVE_FACTOR = 2.0  # x the poverty line
INCOME_MAX = 100_000.0  # yuan per person per year
OUTLIER_Z = 3.5  # modified z-score (Iglewicz-Hoaglin)
OUTLIER_MIN_UNITS = 5  # villages
COMPLETENESS_MIN = 0.9  # surveyed / 总户数
AGE_MAX = 120  # years at the data date (person rules)
SCHOOL_AGE = (6, 15)  # years at the data date, both included: compulsory education
# lower edges of the age bands, years at the data date: 0-5, 6-15, 16-59, 60+
AGE_BANDS = (0, SCHOOL_AGE[0], SCHOOL_AGE[1] + 1, 60)
POVERTY_LINES: dict[int, float] = {
    2014: 2800,
    2015: 2855,
    2016: 2952,
    2017: 2952,
    2018: 2995,
    2019: 3218,
    2020: 4000,
}


@dataclass
class Settings:
    """The limits in force. Rates are fractions; lines in yuan per person per year.

    Attributes
    ----------
    rate_ceilings : rate key -> highest acceptable rate (fraction), see ``RATE_CEILINGS``.
    approval_floor : lowest acceptable approval rate (fraction, default 0.90).
    area_standard : relocation housing standard, m² per person (default 25).
    poverty_lines : year -> line, yuan per person per year.
    poor_far_above_factor : remaining-poor income above this x the line is flagged (2.0).
    income_max : highest plausible per-capita income, yuan per person per year (100,000).
    outlier_z : modified z-score above which a village is an outlier (3.5).
    outlier_min_units : fewest villages with a rate for the outlier rule to run (5).
    completeness_min : lowest surveyed / 总户数 fraction of a village (0.9).
    """

    rate_ceilings: dict[str, float] = field(default_factory=lambda: dict(RATE_CEILINGS))
    approval_floor: float = APPROVAL_FLOOR
    area_standard: float = AREA_STANDARD
    poverty_lines: dict[int, float] = field(default_factory=lambda: dict(POVERTY_LINES))
    poor_far_above_factor: float = POOR_FAR_ABOVE_FACTOR
    income_max: float = INCOME_MAX
    outlier_z: float = OUTLIER_Z
    outlier_min_units: int = OUTLIER_MIN_UNITS
    completeness_min: float = COMPLETENESS_MIN

    def poverty_line(self, year: int) -> float | None:
        """The line of ``year`` (yuan per person per year), or None when that year has no
        line set: never another year's (a rule that needs the line then says it is not
        evaluated)."""
        return self.poverty_lines.get(year)

    def to_json(self) -> str:
        """JSON text (keys of poverty_lines as strings)."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Settings:
        """Settings from JSON text; missing keys keep their defaults (so JSON saved before a
        limit existed still loads).

        Raises
        ------
        ValueError
            When the text is not valid JSON or holds a value of the wrong type.
        """
        base = cls()
        if not text:
            return base
        data = json.loads(text)
        ceilings = {
            **base.rate_ceilings,
            **{k: float(v) for k, v in data.get("rate_ceilings", {}).items()},
        }
        lines = {int(k): float(v) for k, v in data.get("poverty_lines", {}).items()}
        scalars = {
            name: kind(data.get(name, getattr(base, name))) for name, kind in _SCALARS.items()
        }
        return cls(rate_ceilings=ceilings, poverty_lines=lines or base.poverty_lines, **scalars)


# Scalar fields of Settings and the type each is read back as.
_SCALARS: dict[str, type] = {
    "approval_floor": float,
    "area_standard": float,
    "poor_far_above_factor": float,
    "income_max": float,
    "outlier_z": float,
    "outlier_min_units": int,
    "completeness_min": float,
}
