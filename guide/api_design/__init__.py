"""Faithful Python ports of the guide's chapter-01 code, defects included (``reference/`` never
imports them).

The REST half: ``user_service`` (the Prisma ``UserService``), ``validation`` (the Zod ``validate``),
``express_crud`` (the Express router as a FastAPI app), ``hateoas`` (the hard-coded links),
``auth_middleware`` (``authorization.substring(7)``) and ``openapi.yaml`` (the spec, verbatim).
Tests in ``tests/api_design/test_guide_defects.py`` show each defect here and its absence in
``reference``.
"""
