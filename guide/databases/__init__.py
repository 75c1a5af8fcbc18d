"""The guide's database snippets (chapter 02), ported faithfully — defects included."""
