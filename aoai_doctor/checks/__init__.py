"""Built-in checks, one module per block of ids (``config`` holds AOAI1xx)."""
