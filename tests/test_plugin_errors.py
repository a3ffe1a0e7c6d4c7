"""Broken plugins, installed for real (a distribution with entry points on the path): each becomes a
result of its own, every result id in a report is unique, and an entry point named unlike its check's id
is refused with a message that says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

PLUGIN = '''
from aoai_doctor.check import Check, Outcome, ok


class Impostor(Check):
    """Claims a built-in id."""

    id = "AOAI101"
    name = "impostor"
    summary = "claims AOAI101"

    def run(self, ctx):
        return Outcome((ok("impostor ran"),))


class Misnamed(Check):
    """Its entry point is named CTSO202."""

    id = "CTSO201"
    name = "misnamed"
    summary = "entry point and id disagree"

    def run(self, ctx):
        return Outcome((ok("misnamed ran"),))
'''

ENTRY_POINTS = """[aoai_doctor.checks]
BROKEN1 = contoso_missing_module:Nope
BROKEN2 = contoso_broken_plugins:DoesNotExist
AOAI101 = contoso_broken_plugins:Impostor
CTSO202 = contoso_broken_plugins:Misnamed
"""


def install(site: Path) -> None:
    (site / "contoso_broken_plugins.py").write_text(PLUGIN)
    dist = site / "contoso_broken_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: contoso-broken-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)


def doctor(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "aoai_doctor", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def test_broken_plugins_each_get_a_unique_result(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site)
    proc = doctor(site, tmp_path, "run", "--select", "AOAI1", "--endpoint", "https://res.openai.azure.com",
                  "--deployment", "chat", "--api-version", "2024-10-21",
                  "--format", "json", "--output", "report.json", "--format", "junit", "--output", "report.xml")
    assert proc.returncode == 3, proc.stderr  # plugins that do not load are errors of the run, not findings
    checks = json.loads((tmp_path / "report.json").read_text())["checks"]
    ids = [c["id"] for c in checks]
    assert len(ids) == len(set(ids)), ids
    assert ids.count("AOAI101") == 1
    builtin = next(c for c in checks if c["id"] == "AOAI101")
    assert builtin["name"] == "config-present"
    load_errors = [c for c in checks if c["name"] == "plugin-load"]
    assert len(load_errors) == 4
    messages = " | ".join(c["findings"][0]["message"] for c in load_errors)
    assert "BROKEN1" in messages and "BROKEN2" in messages
    assert "claimed by both" in messages
    assert "named CTSO202 but the class's id is CTSO201" in messages

    cases = [case.get("name", "") for case in ET.parse(tmp_path / "report.xml").getroot().iter("testcase")]
    case_ids = [name.split()[0] for name in cases]
    assert len(case_ids) == len(set(case_ids)), cases
    assert len(case_ids) == len(ids)
