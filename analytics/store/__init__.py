"""The DuckDB database: schema and migrations, batches, one writer, backup and restore."""
