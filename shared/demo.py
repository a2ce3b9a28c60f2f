"""Which served models are the built-in demo models (random weights), and the sentence that says so."""

from __future__ import annotations

from shared.settings import Settings
from shared.vocabulary import JobType

DEMO_NOTE = (
    "{names}: the built-in demo model{s} with random weights, so images are noise and chat replies are "
    "gibberish; point LLMB_IMAGE_MODEL and LLMB_CHAT_MODEL at real models for real answers "
    "(README: The demo models)"
)


_OUTPUT = {
    JobType.IMAGE: ("its images are noise", "LLMB_IMAGE_MODEL"),
    JobType.CHAT: ("its replies are gibberish", "LLMB_CHAT_MODEL"),
}


def model_note(model_id: str, job_type: JobType) -> str:
    """What /v1/models says of one demo model: what its output looks like, and the setting for a real one."""
    output, setting = _OUTPUT[job_type]
    return (
        f"{model_id} is the built-in demo model with random weights, so {output}; point {setting} at a "
        "real model for real answers (README: The demo models)"
    )


def demo_types(settings: Settings) -> list[JobType]:
    """The job types whose workers load the small random-weight models `make models` builds."""
    defaults = Settings.model_fields
    found = []
    if not settings.image_model and settings.image_pipeline == defaults["image_pipeline"].default:
        found.append(JobType.IMAGE)
    if not settings.chat_model and settings.chat_pipeline == defaults["chat_pipeline"].default:
        found.append(JobType.CHAT)
    return found


def demo_note(settings: Settings) -> str | None:
    """The sentence naming the demo models served here, or None when every model is a real one."""
    types = demo_types(settings)
    names = [m.id for m in settings.served_models if m.type in types]
    if not names:
        return None
    return DEMO_NOTE.format(names=" and ".join(names), s="s" if len(names) > 1 else "")
