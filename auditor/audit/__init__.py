"""Stage 5: the audit of captures, aggregated into the report document."""
