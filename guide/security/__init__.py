"""The guide's security snippets (chapter 07: helmet, express-rate-limit, mongo-sanitize, CORS, the Zod
schema and validate middleware, the Argon2 PasswordService), ported faithfully — defects included."""
