"""The label table lives in ``analytics.labels`` (exports need it too); re-exported here."""

from analytics.domain.labels import FIELD_LABELS, LABELS, label

__all__ = ["FIELD_LABELS", "LABELS", "label"]
