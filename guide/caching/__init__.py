"""The guide's caching snippets (chapter 06: cache-aside, the stampede lock, the Cache-Control
middleware), ported faithfully — defects included."""
