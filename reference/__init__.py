"""Backend Skill Lab reference implementation: one subpackage per chapter, imported by the notebooks."""
