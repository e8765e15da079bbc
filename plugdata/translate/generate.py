"""Generate responses with an LLM: new pivot answers from a teacher model, or target answers
written directly in the target language (a baseline data source)."""

from __future__ import annotations

from dataclasses import dataclass, field

from plugdata.languages import Language
from plugdata.translate.ask import ask
from plugdata.translate.base import Outcome
from plugdata.translate.chat import ChatClient
from plugdata.translate.prompts import PromptTemplate, load_prompt


@dataclass
class LLMGenerator:
    """Answers instructions in a given language through an OpenAI-compatible model."""

    client: ChatClient
    prompt: str = "generate/v1"
    temperature: float = 0.7
    max_tokens: int | None = None
    max_asks: int = 2
    template: PromptTemplate = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.template = load_prompt(self.prompt)

    @property
    def prompt_version(self) -> str:
        return self.template.version

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()

    async def generate(self, instruction: str, input_: str, lang: Language) -> Outcome:
        """Answer ``instruction`` (and ``input_``) in ``lang``; ``fields`` is ``{"output": …}``."""
        prompt = f"{instruction}\n\n{input_}" if input_.strip() else instruction
        messages = self.template.render(lang_name=lang.name, lang_code=lang.code, prompt=prompt)
        outcome = Outcome()

        def validate(content: str) -> dict[str, str] | str:
            return {"output": content.strip()} if content.strip() else "generation_empty"

        fields = await ask(
            self.client,
            messages,
            outcome,
            validate,
            max_asks=self.max_asks,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            truncated="generation_truncated",
        )
        if fields is not None:
            outcome.fields, outcome.reason = fields, None
        return outcome
