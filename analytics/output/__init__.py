"""Figures to files people keep: CSV and Excel, the blank template, the situation report."""
