"""The guide's auth snippets (chapter 03, 인증/인가), ported faithfully — defects included."""
