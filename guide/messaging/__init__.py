"""The guide's message-queue snippets (chapter 05) and the dual write of its microservices diagram,
ported faithfully — defects included."""
