"""Built-in Azure roles and the data actions the Azure OpenAI data plane checks.

Role definitions are reduced to their ``dataActions`` patterns (``*`` matches any run of
characters, as in Azure RBAC). Control-plane roles such as Owner have no data actions, which is
why a subscription Owner still gets ``PermissionDenied`` on an inference call.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

_OPENAI = "Microsoft.CognitiveServices/accounts/OpenAI"


@dataclass(frozen=True)
class RoleDefinition:
    """A built-in role: name, id and data-action patterns."""

    name: str
    id: str
    data_actions: tuple[str, ...]


BUILTIN_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "Cognitive Services OpenAI User",
        "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
        (
            f"{_OPENAI}/*/read",
            f"{_OPENAI}/engines/completions/action",
            f"{_OPENAI}/engines/search/action",
            f"{_OPENAI}/engines/generate/action",
            f"{_OPENAI}/deployments/audio/action",
            f"{_OPENAI}/deployments/search/action",
            f"{_OPENAI}/deployments/completions/action",
            f"{_OPENAI}/deployments/chat/completions/action",
            f"{_OPENAI}/deployments/extensions/chat/completions/action",
            f"{_OPENAI}/deployments/embeddings/action",
            f"{_OPENAI}/images/generations/action",
        ),
    ),
    RoleDefinition(
        "Cognitive Services OpenAI Contributor", "a001fd3d-188f-4b5d-821b-7da978bf7442", (f"{_OPENAI}/*",)
    ),
    RoleDefinition(
        "Cognitive Services User", "a97b65f3-24c7-4388-baec-2e87135dc908", ("Microsoft.CognitiveServices/*",)
    ),
    RoleDefinition("Cognitive Services Contributor", "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68", ()),
    RoleDefinition("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ()),
    RoleDefinition("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c", ()),
    RoleDefinition("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", ()),
)


def find_role(name_or_id: str) -> RoleDefinition | None:
    """The built-in role with this name (case-insensitive) or id."""
    key = name_or_id.strip().lower()
    return next((r for r in BUILTIN_ROLES if key in (r.name.lower(), r.id)), None)


def known_role(name_or_id: str) -> bool:
    """Whether ``name_or_id`` names a built-in role this module knows."""
    return find_role(name_or_id) is not None


def data_action(operation: str) -> str:
    """The data action for an operation path such as ``chat/completions`` or ``models/read``."""
    if operation == "models":
        return f"{_OPENAI}/models/read"
    return f"{_OPENAI}/deployments/{operation}/action"


def allows(roles: tuple[str, ...], action: str) -> bool:
    """Whether any of ``roles`` grants ``action``."""
    for role in roles:
        definition = find_role(role)
        if definition and any(fnmatch.fnmatchcase(action, p) for p in definition.data_actions):
            return True
    return False
