"""The course tool: the `course` command line, the server launcher and the exercise harness."""
