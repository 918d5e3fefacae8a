"""Spreadsheet imports (contacts; plugins register further types): see services."""
