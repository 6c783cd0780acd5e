"""Report templates and their assets (installed as ``auditor.reports``)."""
