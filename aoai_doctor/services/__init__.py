"""All I/O the checks need: credentials, subprocesses, files, HTTP. Checks stay pure and call these."""
