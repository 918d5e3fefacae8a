"""WSGI entry point: ``gunicorn wsgi:app``."""
from liaison import create_app

app = create_app()
