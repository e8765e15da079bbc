"""Generate responses with an LLM: new pivot answers from a teacher model, or target answers
written directly in the target language (a baseline data source)."""

from __future__ import annotations

from dataclasses import dataclass, field

from plugdata.languages import Language
from plugdata.llm import ChatClient, RequestRejected
from plugdata.prompts import PromptTemplate, load_prompt
from plugdata.translate import Outcome


@dataclass
class LLMGenerator:
    """Answers instructions in a given language through an OpenAI-compatible model."""

    client: ChatClient
    prompt: str = "generate/v1"
    temperature: float = 0.7
    max_tokens: int | None = None
    attempts: int = 2
    template: PromptTemplate = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.template = load_prompt(self.prompt)

    @property
    def prompt_version(self) -> str:
        return self.template.version

    async def generate(self, instruction: str, input_: str, lang: Language) -> Outcome:
        """Answer ``instruction`` (and ``input_``) in ``lang``; ``fields`` is ``{"output": …}``."""
        prompt = f"{instruction}\n\n{input_}" if input_.strip() else instruction
        messages = self.template.render(lang_name=lang.name, lang_code=lang.code, prompt=prompt)
        outcome = Outcome()
        max_tokens = self.max_tokens
        for attempt in range(1, self.attempts + 1):
            try:
                reply = await self.client.chat(
                    messages, temperature=self.temperature, max_tokens=max_tokens,
                    tag="" if attempt == 1 else f"attempt-{attempt}",
                )  # fmt: skip
            except RequestRejected as exc:
                outcome.reason = exc.reason
                outcome.requests += exc.attempts
                return outcome
            outcome.count(reply)
            if reply.finish_reason == "length":
                outcome.reason = "generation_truncated"
                max_tokens = 2 * max(max_tokens or 0, reply.completion_tokens, 256)
                continue
            if not reply.content.strip():
                outcome.reason = "generation_empty"
                continue
            outcome.fields, outcome.reason = {"output": reply.content.strip()}, None
            return outcome
        return outcome
