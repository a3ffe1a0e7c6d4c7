"""``python -m aoai_doctor``."""

from aoai_doctor.cli import command_line

command_line()
