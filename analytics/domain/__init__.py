"""The field's vocabulary: tables, fields, header spellings, coded values, labels, settings,
configuration."""
