"""`aoai-doctor explain`: text, standard input, files, check and cause pages, JSON; never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main

# The seed notebook's failure: DefaultAzureCredential ending in AADSTS70011 for a bare resource scope.
SEED = (
    "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
    "Attempted credentials:\n"
    "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not "
    "fully configured.\n"
    "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the IMDS "
    "endpoint.\n"
    "\tSharedTokenCacheCredential: Azure Active Directory error '(invalid_scope) AADSTS70011: The provided value "
    "for the input parameter 'scope' is not valid. The scope https://cognitiveservices.azure.com offline_access "
    "openid profile is not valid.'\n"
)


def explain(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["explain", *args], input=stdin, catch_exceptions=False)


def test_seed_text_as_argument() -> None:
    result = explain(SEED)
    assert result.exit_code == 0
    assert result.output.startswith("scope_missing_default (high confidence)")
    assert "https://cognitiveservices.azure.com/.default" in result.output
    assert "AzureCliCredential only hides the bug" in " ".join(result.output.split())


def test_stdin_file_and_json(tmp_path: Path) -> None:
    body = '{"error":{"code":"PermissionDenied","message":"Principal does not have access to API/Operation."}}'
    from_stdin = json.loads(explain("-", "--format", "json", stdin=body).output)
    path = tmp_path / "error.txt"
    path.write_text(body)
    from_file = json.loads(explain("--file", str(path), "--format", "json").output)
    assert from_stdin == from_file
    best = from_file["causes"][0]
    assert best["cause"] == "role_assignment_missing" and best["confidence"] in ("high", "medium")
    assert set(best) >= {"cause", "confidence", "evidence", "explanation", "fix", "confirm_with", "docs"}


def test_check_and_cause_pages() -> None:
    page = explain("AOAI102").output
    assert page.startswith("# AOAI102 endpoint-format") and "## How to fix" in page
    assert explain("scope_missing_default").output.startswith("# scope_missing_default")


def test_unknown_check_and_empty_input_are_usage_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["explain", "AOAI999"])
    assert result.exit_code == 2 and "no check AOAI999 (did you mean" in result.output
    result = CliRunner().invoke(main, ["explain", "   "])
    assert result.exit_code == 2 and "nothing to explain" in result.output
    result = CliRunner().invoke(main, ["explain", "--file", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_pasted_secrets_are_not_echoed() -> None:
    token = (
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzIn0"
        ".c2lnbmF0dXJlLXZhbHVlLTEyMzQ1Njc4"
    )
    text = (
        f"Authorization: Bearer {token}\nError code: 401 - {{'statusCode': 401, 'message': 'Unauthorized. Access "
        "token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.'}"
    )
    for fmt in ("text", "json"):
        out = explain(text, "--format", fmt).output
        for part in token.split("."):
            assert part[:12] not in out


def test_explain_imports_no_azure_module_and_survives_bytes(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(range(256)) * 64)
    code = (
        "import sys\n"
        "from aoai_doctor.cli import main\n"
        f"sys.argv = ['aoai-doctor', 'explain', '--file', {str(path)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('IMPORTED:' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'msal'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "IMPORTED:"


@pytest.mark.parametrize("text", ["AOAI501", "aoai501", "scope_missing_default",
                                  "AADSTS70011: The scope https://cognitiveservices.azure.com is not valid."])
def test_explain_fits_the_terminal(text: str) -> None:
    result = CliRunner().invoke(main, ["explain", text], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    long = [ln for ln in result.output.splitlines() if len(ln) > 80 and " " in ln.strip()
            and not ln.startswith(("    ", "|"))]
    assert long == []
    assert "<!-- Generated" not in result.output
