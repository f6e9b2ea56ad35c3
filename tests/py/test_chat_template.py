# Cross-check of isc's named chat templates against jinja2 rendering Jinja templates the way
# transformers does: the default model's own template (from its GGUF) and public family templates.
import json
import subprocess

import gguf
import jinja2
import jinja2.sandbox
import pytest

# Public Hugging Face chat templates (as published with the models), written out here as references.
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}"
    "{% endfor %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
ZEPHYR = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
# Gemma-3's handling of a system message (folded into the first user turn), string contents only.
GEMMA3 = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}{%- set role = "model" -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {{- message['content'] | trim }}
    {{- '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}{{'<start_of_turn>model\n'}}{%- endif -%}"""
# Qwen2.5-style ChatML with a default system message written with escaped newlines.
QWEN = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if (message.role == 'user') or (message.role == 'system' and not "
    "loop.first) or (message.role == 'assistant') %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

FAMILIES = {  # name -> (template, bos, eos, supports system, strips content)
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>", True, True),
    "llama2": (LLAMA2, "<s>", "</s>", True, True),
    "mistral": (MISTRAL, "<s>", "</s>", False, False),
    "zephyr": (ZEPHYR, "<s>", "</s>", True, False),
    "gemma": (GEMMA, "<bos>", "<eos>", False, True),
    "gemma3": (GEMMA3, "<bos>", "<eos>", True, True),
    "qwen": (QWEN, "", "<|im_end|>", True, False),
}


def jinja_render(template, messages, generation_prompt, bos="", eos=""):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=generation_prompt, bos_token=bos, eos_token=eos)


def turns(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


CONVERSATIONS = [
    turns(("user", "Hello")),
    turns(("system", "Be brief."), ("user", "What is 2+2?")),
    turns(("user", "Hi"), ("assistant", "Hello! How can I help?"), ("user", "Tell me a joke.")),
    turns(("system", "You are a careful assistant."), ("user", "Context: A and B.\n\nWho? (a) A (b) B (c) unknown."),
          ("assistant", "The single most likely answer choice is (c)."),
          ("user", "Evaluate your previous choice and explanation."),
          ("assistant", "By evaluating my previous answer choice, it is (c)."), ("user", "Thanks")),
    turns(("user", "  leading and trailing spaces \n\n"), ("assistant", "\tok\u3000"), ("user", "\u00a0x\u2028")),
    turns(("user", "Ünïcödé — 日本語 🙂 and \"quotes\" and 'single' {{ braces }} {% tags %}")),
    turns(("user", "")),
    turns(("system", "multi\nline\nsystem\n"), ("user", "line1\nline2\n\nline4")),
]


@pytest.fixture(scope="module")
def model_template(model_path):
    reader = gguf.GGUFReader(str(model_path))
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def render_ours(tool, tmp_path, messages, generation_prompt, template=None, name=None, prefill=None):
    msgs = tmp_path / "msgs.json"
    msgs.write_text(json.dumps(messages), encoding="utf-8")
    cmd = [str(tool("render_chat")), "--messages", str(msgs)]
    if template is not None:
        tf = tmp_path / "template.jinja"
        tf.write_text(template, encoding="utf-8")
        cmd += ["--template-file", str(tf)]
    else:
        cmd += ["--name", name]
    if generation_prompt:
        cmd.append("--generation-prompt")
    if prefill is not None:
        cmd += ["--prefill", prefill]
    r = subprocess.run(cmd, capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode("utf-8")


@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
@pytest.mark.parametrize("gen", [False, True])
def test_model_template_matches_jinja(tool, tmp_path, model_template, conv, gen):
    messages = CONVERSATIONS[conv]
    want = jinja_render(model_template, messages, gen)
    assert render_ours(tool, tmp_path, messages, gen, template=model_template) == want


def test_model_template_default_system_is_injected(tool, tmp_path, model_template):
    messages = turns(("user", "Hello"))
    got = render_ours(tool, tmp_path, messages, True, template=model_template)
    assert "You are a helpful AI assistant named SmolLM, trained by Hugging Face" in got
    assert got == jinja_render(model_template, messages, True)


@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
def test_model_template_prefill(tool, tmp_path, model_template, conv):
    messages = CONVERSATIONS[conv]
    prefill = "The single most likely answer choice is"
    want = jinja_render(model_template, messages, True) + prefill
    assert render_ours(tool, tmp_path, messages, True, template=model_template, prefill=prefill) == want


@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
def test_model_template_rounds_extend(tool, tmp_path, model_template, conv):
    """A finished assistant turn renders as generation prompt + text + end-of-turn + the newline."""
    messages = CONVERSATIONS[conv]
    done = messages + [{"role": "assistant", "content": "answer text"}]
    prompt = render_ours(tool, tmp_path, messages, True, template=model_template)
    assert jinja_render(model_template, done, False) == prompt + "answer text<|im_end|>\n"


def family_conversations(supports_system):
    for messages in CONVERSATIONS:
        if messages[0]["role"] == "system" and not supports_system:
            continue
        yield messages


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("gen", [False, True])
def test_family_matches_jinja(tool, tmp_path, family, gen):
    template, bos, eos, supports_system, _ = FAMILIES[family]
    for messages in family_conversations(supports_system):
        want = jinja_render(template, messages, gen, bos, eos)
        assert render_ours(tool, tmp_path, messages, gen, template=template) == want, messages


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_prefill_is_start_of_finished_message(tool, tmp_path, family):
    """Prefill renders as the finished assistant message holding it, up to its end-of-turn text."""
    template, bos, eos, supports_system, _ = FAMILIES[family]
    prefill = "By evaluating my previous answer choice, it is"
    end = {"gemma": "<end_of_turn>", "gemma3": "<end_of_turn>", "llama3": "<|eot_id|>"}.get(family, eos)
    for messages in family_conversations(supports_system):
        done = jinja_render(template, messages + [{"role": "assistant", "content": prefill}], False, bos, eos)
        want = done[: done.rindex(end)]
        if family == "llama2":
            want = want.rstrip(" ")  # llama2 writes " </s>" after the stripped content
        assert render_ours(tool, tmp_path, messages, True, template=template, prefill=prefill) == want, messages


@pytest.mark.parametrize("name,family", [("llama3", "llama3"), ("llama2", "llama2"), ("mistral", "mistral"),
                                         ("zephyr", "zephyr"), ("gemma", "gemma3")])
def test_named_equals_detected(tool, tmp_path, name, family):
    template, bos, eos, supports_system, _ = FAMILIES[family]
    for messages in family_conversations(supports_system):
        assert render_ours(tool, tmp_path, messages, True, name=name) == jinja_render(
            template, messages, True, bos, eos)


def test_unknown_template_is_an_error(tool, tmp_path):
    msgs = tmp_path / "msgs.json"
    msgs.write_text(json.dumps(turns(("user", "hi"))))
    tf = tmp_path / "t.jinja"
    tf.write_text("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    r = subprocess.run([str(tool("render_chat")), "--template-file", str(tf), "--messages", str(msgs)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "<|im_start|>" in r.stderr and len(r.stderr.strip().splitlines()) == 1
