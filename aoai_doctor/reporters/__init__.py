"""Reporters turn a :class:`~aoai_doctor.model.Report` into text. Pure: ``render(report) -> str``."""
