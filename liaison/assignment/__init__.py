"""Assignment rules and review deadlines (issue 15): HQ's ordered rules that assign a reviewer
to a submitted lead (``services``), the rules and workload pages (``views``), and working-day
deadline arithmetic with the Chinese public holiday calendar (``workdays``)."""
