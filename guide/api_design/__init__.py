"""Faithful ports of the guide's API-design snippets (chapter 01), defects included."""
