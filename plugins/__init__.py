"""Region plugins bundled with liaison (registered in setup.cfg under ``liaison.plugins``)."""
