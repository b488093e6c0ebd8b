"""File bytes to typed rows and a row report: the hostile-file guard, reading, locating
tables, row rules, and the three import paths (per row, per column, in DuckDB)."""
