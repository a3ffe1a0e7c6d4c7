"""What the doctor knows about Azure, as data and pure functions: endpoint shapes and scopes,
api-versions, DefaultAzureCredential's chain, JWT claims, and what a data-plane answer means.
No I/O happens here."""
