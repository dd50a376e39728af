"""The full-screen prompt_toolkit front end: layout, key bindings, style, application."""
