"""Configurable limits: rate ceilings, the approval floor, poverty lines, housing standard.

Defaults and their sources (../shared/DOMAIN.md, "Thresholds"):
- comprehensive poverty rate 3% (western provinces; 2% central), wrongful-exit rate 2%,
  exclusion-error rate 2%: 《关于建立贫困退出机制的意见》(2016) and the national exit
  evaluation ("三率一度"); inclusion-error rate 2% (no national ceiling; annual
  assessments report it beside the others);
- public approval (群众认可度) at least 90%;
- relocation housing at most 25 m² per person (national 13th Five-Year relocation plan);
- national poverty line, yuan per person per year (2010 prices 2300), per year.

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
    """The limits in force. Rates are fractions; lines in yuan per person per year."""

    rate_ceilings: dict[str, float] = field(default_factory=lambda: dict(RATE_CEILINGS))
    approval_floor: float = APPROVAL_FLOOR
    area_standard: float = AREA_STANDARD
    poverty_lines: dict[int, float] = field(default_factory=lambda: dict(POVERTY_LINES))

    def poverty_line(self, year: int) -> float | None:
        """The line of ``year``; the nearest earlier year's when that year has none."""
        years = [y for y in self.poverty_lines if y <= year]
        return self.poverty_lines[max(years)] if years else None

    def to_json(self) -> str:
        """JSON text (keys of poverty_lines as strings)."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Settings:
        """Settings from JSON text; missing keys keep their defaults.

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
        return cls(
            rate_ceilings=ceilings,
            approval_floor=float(data.get("approval_floor", base.approval_floor)),
            area_standard=float(data.get("area_standard", base.area_standard)),
            poverty_lines=lines or base.poverty_lines,
        )
