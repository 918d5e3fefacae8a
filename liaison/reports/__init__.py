"""HQ's figures: reports per period with charts, plugins' sections, closed periods and the
bureau summary. ``periods`` (what "2025-Q4" means), ``figures`` (the SQL), ``charts`` (SVG),
``services`` (scope, tables, snapshots), ``summary`` (the bureau's words), ``views``."""
