"""A tiny Llama-shaped chat model with random weights and a locally trained byte-level BPE tokenizer."""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from worker.tinymodels.common import make_readable, quiet

BOS = "<|begin_of_text|>"
END_OF_TEXT = "<|end_of_text|>"
PAD = "<|pad|>"
START_HEADER = "<|start_header_id|>"
END_HEADER = "<|end_header_id|>"
EOT = "<|eot_id|>"
SPECIAL_TOKENS = (BOS, END_OF_TEXT, PAD, START_HEADER, END_HEADER, EOT)
# An upper bound: the corpus below supports about 500 tokens before merges run out of repeated pairs.
VOCAB_SIZE = 1024
CONTEXT = 2048

# Llama-3-style turns; unknown roles fail loudly rather than render a prompt the model never saw.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('Unknown role: ' + message['role']) }}"
    "{% endif %}"
    f"{START_HEADER}{{{{ message['role'] }}}}{END_HEADER}\n\n"
    f"{{{{ message['content'] | trim }}}}{EOT}"
    "{% endfor %}"
    f"{{% if add_generation_prompt %}}{START_HEADER}assistant{END_HEADER}\n\n{{% endif %}}"
)

# Plain English the BPE merges are learned from; any other text still encodes, byte by byte.
CORPUS = """\
The service takes a request, puts a job on a queue, and answers at once with the job's id.
A worker picks the job up, runs the model, stores the result, and marks the job as done.
If the worker crashes, the job goes back on the queue after a while and another worker tries again.
Clients poll the job until it is finished, or they wait on it for a few seconds at most.
Hello! How are you today? I am fine, thank you. What would you like to talk about?
Could you tell me what the weather will be like tomorrow morning in the city?
I am sorry, but I do not know that. I can only answer from what I have been told.
Please write a short poem about the sea, the wind, and the light on the water.
The sea is grey and the wind is cold, but the light on the water is bright and gold.
Here is a list of three things: first, the name; second, the number; third, the time.
The quick brown fox jumps over the lazy dog, and the dog does not seem to mind.
A small model is fast but not very clever; a large model is clever but slow and costly.
When you train a model, you show it many examples and slowly change its weights.
The answer is forty two, but the question has been lost for a long time.
Numbers like 1, 2, 3, 10, 42, 100 and 2048 appear in text as often as words do.
Good morning. Good afternoon. Good evening. Good night, and see you tomorrow.
The user asked a question, and the assistant gave a helpful, honest and short answer.
She opened the door, looked out at the rain, and decided to stay inside with a book.
They walked along the river until the sun went down behind the hills.
Every line of code should do one thing, and its name should say what that thing is.
Tests check that the code does what it should, so that changes do not break it later.
If something goes wrong, the error should say what happened and what to do next.
The kitchen smelled of fresh bread, coffee, and oranges on a Sunday morning.
We need milk, eggs, flour, butter, sugar and a little salt to make the cake.
Tell me a story about a dragon who was afraid of the dark and a child who helped it.
Once upon a time there was a little house at the edge of a great green forest.
The train leaves at nine in the morning and arrives in the evening, if it is on time.
Can you explain how a queue works? Items go in at one end and come out at the other.
Thank you for your help. You are welcome; let me know if there is anything else.
"""


def build_chat_model(out_dir: Path, *, seed: int = 0) -> Path:
    """Build the tiny chat model and tokenizer with weights drawn from `seed` and save both to `out_dir`."""
    out_dir = Path(out_dir)
    with quiet(), torch.random.fork_rng(devices=[]):
        tokenizer = build_tokenizer()
        torch.manual_seed(seed)
        model = LlamaForCausalLM(_config(tokenizer)).eval()
        model.generation_config = _generation_config(tokenizer)
        tokenizer.save_pretrained(out_dir)
        model.save_pretrained(out_dir, safe_serialization=True)
    make_readable(out_dir)
    return out_dir


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on the embedded corpus and wrap it with special tokens and the chat template."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        # Seeding every byte keeps any Unicode input encodable even though the corpus is ASCII.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS.splitlines(keepends=True), trainer=trainer)
    return wrap_tokenizer(tokenizer, context=CONTEXT)


def wrap_tokenizer(tokenizer: Tokenizer, *, context: int) -> PreTrainedTokenizerFast:
    """A transformers tokenizer around a byte-level BPE: BOS first, the chat template, left padding."""
    # Plain encodes start with BOS as Llama's do; chat templates write BOS themselves and skip this.
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A",
        pair=f"{BOS} $A {BOS}:1 $B:1",
        special_tokens=[(BOS, tokenizer.token_to_id(BOS))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOT,
        pad_token=PAD,
        chat_template=CHAT_TEMPLATE,
        model_max_length=context,
        # Decoder-only batches must pad on the left so every row's next token follows its own prompt.
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )


def _config(tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    """Return a two-layer grouped-query Llama config sized to `tokenizer`."""
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=CONTEXT,
        # Untied heads keep random greedy output varied; tied ones mostly echo the last prompt token.
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _generation_config(tokenizer: PreTrainedTokenizerFast) -> GenerationConfig:
    """Return generation defaults that stop at the end of a turn or of the text and pad with the pad token."""
    return GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(END_OF_TEXT)],
        pad_token_id=tokenizer.pad_token_id,
    )
