"""A fixture plugin that fails while being imported."""
raise ImportError("the import-error fixture plugin cannot be imported, on purpose")
