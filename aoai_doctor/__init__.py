"""aoai-doctor: diagnose Azure OpenAI calls made with Microsoft Entra ID or an API key."""

__version__ = "0.1.0"
