"""Built-in Azure roles and the data actions the Azure OpenAI data plane checks.

Role definitions are reduced to their ``dataActions`` patterns (``*`` matches any run of
characters, as in Azure RBAC). Control-plane roles such as Owner have no data actions, which is
why a subscription Owner still gets ``PermissionDenied`` on an inference call.

Sources: the built-in role JSON in MicrosoftDocs/azure-docs
``articles/role-based-access-control/built-in-roles/ai-machine-learning.md``; the Foundry roles
(Azure AI User, renamed Foundry User, and Azure AI Project Manager) from the Foundry RBAC page in
MicrosoftDocs/azure-ai-docs (``"dataActions": ["Microsoft.CognitiveServices/*"]``). The newer
OpenAI User definition adds ``Microsoft.CognitiveServices/accounts/OpenAI/responses/*`` (the
Responses API's ``responses/write``; quoted in several public templates next to the 401
"lacks the required data action Microsoft.CognitiveServices/accounts/OpenAI/responses/write").
A role is matched against the resource (account) scope only: project-scoped assignments are not modelled.
"""

from __future__ import annotations

import fnmatch

from aoai_doctor.record import record

_OPENAI = "Microsoft.CognitiveServices/accounts/OpenAI"
#: The data action a Foundry project's ``/openai/*`` surface checks (microsoft-foundry/foundry-samples#692).
PROJECT_DATA_ACTION = "Microsoft.CognitiveServices/accounts/AIServices/agents/write"


@record
class RoleDefinition:
    """A built-in role: name, id and data-action patterns."""

    name: str
    id: str
    data_actions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    """Other names of the same role (Azure renamed the Foundry roles; the id stays)."""


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
            f"{_OPENAI}/responses/*",
        ),
    ),
    RoleDefinition(
        "Cognitive Services OpenAI Contributor", "a001fd3d-188f-4b5d-821b-7da978bf7442", (f"{_OPENAI}/*",)
    ),
    RoleDefinition(
        "Cognitive Services User", "a97b65f3-24c7-4388-baec-2e87135dc908", ("Microsoft.CognitiveServices/*",)
    ),
    RoleDefinition(
        "Azure AI User",
        "53ca6127-db72-4b80-b1b0-d745d6d5456d",
        ("Microsoft.CognitiveServices/*",),
        aliases=("Foundry User",),
    ),
    RoleDefinition(
        "Azure AI Project Manager",
        "eadc314b-1a2d-4efa-be10-5d325db5065e",
        ("Microsoft.CognitiveServices/*",),
        aliases=("Foundry Project Manager",),
    ),
    RoleDefinition("Cognitive Services Contributor", "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68", ()),
    RoleDefinition("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ()),
    RoleDefinition("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c", ()),
    RoleDefinition("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", ()),
)


def find_role(name_or_id: str) -> RoleDefinition | None:
    """The built-in role with this name (case-insensitive) or id."""
    key = name_or_id.strip().lower()
    return next(
        (r for r in BUILTIN_ROLES if key in (r.name.lower(), r.id, *(a.lower() for a in r.aliases))), None
    )


def known_role(name_or_id: str) -> bool:
    """Whether ``name_or_id`` names a built-in role this module knows."""
    return find_role(name_or_id) is not None


def data_action(operation: str) -> str:
    """The data action for an operation path such as ``chat/completions``, ``responses`` or ``models``."""
    if operation == "models":
        return f"{_OPENAI}/models/read"
    if operation == "responses":
        return f"{_OPENAI}/responses/write"
    return f"{_OPENAI}/deployments/{operation}/action"


def allows(roles: tuple[str, ...], action: str) -> bool:
    """Whether any of ``roles`` grants ``action``."""
    for role in roles:
        definition = find_role(role)
        if definition and any(fnmatch.fnmatchcase(action, p) for p in definition.data_actions):
            return True
    return False
