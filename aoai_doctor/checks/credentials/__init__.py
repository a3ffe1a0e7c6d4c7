"""AOAI2xx: the credential sources and DefaultAzureCredential's chain.

- ``machine.py``: AOAI200, what this machine offers azure-identity
- ``sources.py``: AOAI201–AOAI209, each source on its own
- ``verdict.py``: AOAI210, the chain's verdict
"""
