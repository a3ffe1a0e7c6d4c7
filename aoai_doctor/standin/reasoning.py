"""What a reasoning deployment (gpt-5.x, o-series) refuses, and how it spends an output budget.

:func:`check` validates a chat or Responses body the way the service does and returns the output
budget the caller asked for; :func:`spend` says how much of it reasoning takes. Non-reasoning
deployments pass through unchanged (``spend`` returns ``None``).

Texts, codes and fields (sources in ``docs/standin.md``):

* ``max_tokens`` → 400 ``unsupported_parameter``, verbatim from Azure answers quoted in
  owndev/Open-WebUI-Functions#136 and nashsu/llm_wiki#610.
* ``temperature`` other than 1 → 400 ``unsupported_value`` (holoviz/lumen#1087,
  gabrii/Cursor-Azure-GPT-5#33, microsoft/vscode#274315); o1 refuses ``temperature`` at all with
  ``unsupported_parameter`` (cline/cline#2643, CherryHQ/cherry-studio#512).
* ``top_p`` other than 1 → 400 "Unsupported parameter: 'top_p' is not supported with this model."
  (an Azure gpt-5-mini account in a public repository's notes; the body's fields are reconstructed
  from the ``temperature`` one).
* a budget below 16 → 400 ``integer_below_min_value`` (dotnet/extensions#6945 for
  ``max_completion_tokens``, vectorize-io/hindsight#58 for ``max_output_tokens``).
* a budget used up by reasoning → 200 ``finish_reason: "length"`` with empty content and
  ``completion_tokens_details.reasoning_tokens`` (lobehub/lobehub#6198, an Azure o1-mini answer), or,
  with ``budget_exhausted = "error"``, 400 "Could not finish the message because max_tokens or model
  output limit was reached. Please try again with higher max_tokens." (steipete/CodexBar#2867,
  decolua/9router#972).
"""

from __future__ import annotations

import json
from typing import Any

from aoai_doctor.record import record
from aoai_doctor.standin.errors import AoaiError, invalid_request
from aoai_doctor.standin.scenario import BudgetExhausted, Deployment, Sampling

__all__ = ["BUDGET_ERROR_MESSAGE", "Spend", "budget_param", "check", "spend"]

BUDGET_ERROR_MESSAGE = (
    "Could not finish the message because max_tokens or model output limit was reached. "
    "Please try again with higher max_tokens."
)


@record
class Spend:
    """How a reasoning deployment uses an output budget."""

    reasoning_tokens: int
    """Tokens spent reasoning (counted in ``completion_tokens`` / ``output_tokens``)."""
    exhausted: bool
    """Reasoning used the whole budget: no answer text."""


def budget_param(operation: str) -> str:
    """The body field that carries the output budget: ``max_output_tokens`` (Responses) or
    ``max_completion_tokens`` (chat)."""
    return "max_output_tokens" if operation == "responses" else "max_completion_tokens"


def _shown(value: Any) -> str:
    """A number as the service prints it in "does not support 0.2": integral floats without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return json.dumps(value)


def _is_default(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 1


def _unsupported_parameter(name: str) -> AoaiError:
    return invalid_request(
        f"Unsupported parameter: '{name}' is not supported with this model.", name, "unsupported_parameter"
    )


def check(deployment: Deployment, operation: str, body: dict[str, Any]) -> int | None:
    """Refuse what the deployment refuses; return the requested output budget (``None`` when unset)."""
    if not deployment.reasoning or operation not in ("chat/completions", "responses"):
        return None
    if operation == "chat/completions" and body.get("max_tokens") is not None:
        raise invalid_request(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    temperature, top_p = body.get("temperature"), body.get("top_p")
    if deployment.sampling is Sampling.UNSUPPORTED:
        for name, value in (("temperature", temperature), ("top_p", top_p)):
            if value is not None:
                raise _unsupported_parameter(name)
    elif deployment.sampling is Sampling.DEFAULT_ONLY:
        if temperature is not None and not _is_default(temperature):
            raise invalid_request(
                f"Unsupported value: 'temperature' does not support {_shown(temperature)} with this model. "
                "Only the default (1) value is supported.",
                "temperature",
                "unsupported_value",
            )
        if top_p is not None and not _is_default(top_p):
            raise _unsupported_parameter("top_p")
    param = budget_param(operation)
    requested = body.get(param)
    if requested is None or isinstance(requested, bool) or not isinstance(requested, int):
        return None
    if requested < deployment.min_output_tokens:
        raise invalid_request(
            f"Invalid '{param}': integer below minimum value. Expected a value >= "
            f"{deployment.min_output_tokens}, but got {requested} instead.",
            param,
            "integer_below_min_value",
        )
    return requested


def spend(deployment: Deployment, budget: int | None) -> Spend | None:
    """How much of ``budget`` reasoning takes; ``None`` for a non-reasoning deployment. Raises the 400 of
    ``budget_exhausted = "error"`` deployments when reasoning leaves nothing for the answer."""
    if not deployment.reasoning:
        return None
    if budget is not None and budget <= deployment.reasoning_tokens:
        if deployment.budget_exhausted is BudgetExhausted.ERROR:
            raise invalid_request(BUDGET_ERROR_MESSAGE, None, None)
        return Spend(reasoning_tokens=budget, exhausted=True)
    return Spend(reasoning_tokens=deployment.reasoning_tokens, exhausted=False)
