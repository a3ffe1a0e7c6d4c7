"""``python -m aoai_doctor``."""

from aoai_doctor.cli import main

main()
