"""Stored tables to figures: metrics and their coverage, breakdowns, masked records, anomaly
rules, and the typed queries the pages, the command line and the report use."""
