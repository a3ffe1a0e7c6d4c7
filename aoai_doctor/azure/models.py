"""Model names: the ones people put where a deployment name belongs, and the retired ones."""

from __future__ import annotations

# Model names people put where the deployment name belongs. Azure spells GPT-3.5 "gpt-35".
MODEL_NAMES = frozenset({
    "gpt-35-turbo", "gpt-35-turbo-16k", "gpt-35-turbo-instruct", "gpt-3.5-turbo", "gpt-3.5-turbo-16k",
    "gpt-3.5-turbo-instruct", "gpt-4", "gpt-4-32k", "gpt-4-turbo", "gpt-4-vision-preview", "gpt-4o",
    "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4.5-preview", "gpt-5", "gpt-5-mini",
    "gpt-5-nano", "gpt-5-chat", "o1", "o1-mini", "o1-preview", "o3", "o3-mini", "o4-mini",
    "text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large", "davinci-002",
    "babbage-002", "dall-e-3", "whisper", "tts", "tts-hd",
})
# Retired for good on 2024-07-05 (no new deployments since 2023-07-06); replacement: gpt-35-turbo-instruct.
RETIRED_MODELS = frozenset({
    "text-davinci-003", "text-davinci-002", "text-davinci-001", "code-davinci-002", "code-cushman-001",
    "text-ada-001", "text-babbage-001", "text-curie-001",
})
