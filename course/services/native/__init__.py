"""Native servers: each a process of ours, installed on demand and run from ``.services/<name>/``."""
