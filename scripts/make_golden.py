#!/usr/bin/env python3
# Writes the llama.cpp golden files the engine is tested against: for each prompt, llama.cpp's
# greedy continuation (32 tokens) and its top-k logits at every step, on the default model.
# Usage: python scripts/make_golden.py MODEL.gguf OUT.json  (needs llama-cpp-python, jinja2, gguf)
import json
import sys

import jinja2
import numpy as np
from gguf import GGUFReader
from llama_cpp import Llama

STEPS = 32
TOP_K = 10

CHAT_PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain photosynthesis in one sentence.",
    "List three prime numbers greater than 10.",
    "Translate 'good morning' into Spanish.",
    "What is 17 times 23?",
    "Give me a tip for learning to cook.",
    "Who wrote Romeo and Juliet?",
    "Context: The doctor and the nurse went to lunch. The nurse paid.\n\nWho paid for lunch? (a) The doctor (b) The nurse (c) Unknown.",
    "Summarise the plot of Cinderella in two sentences.",
    "Why is the sky blue?",
    "Name a mammal that can fly.",
    "Describe a cat to someone who has never seen one. Use emoji 🐱 if you like.",
    "Quelle est la couleur du ciel ?",
]
RAW_PROMPTS = [
    "The quick brown fox",
    "Once upon a time, in a small village,",
    "def fibonacci(n):\n    ",
    "1, 2, 3, 4, 5,",
    "The three laws of thermodynamics are",
    "  Leading spaces and\ttabs\nnew lines",
]
PREFILLED = [
    ("Context: I saw a grandson and their grandfather last week outside the Walmart trying to book a cab on Uber.\n\n"
     "Who was not comfortable using the phone? (a) The grandfather (b) The grandson (c) Can't be determined.",
     "The single most likely answer choice is"),
    ("Is 91 a prime number? (a) yes (b) no.", "The answer is"),
]


def render(template_text, messages, prefill=""):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    t = env.from_string(template_text)
    return t.render(messages=messages, add_generation_prompt=True, bos_token="", eos_token="") + prefill


def main():
    model, out = sys.argv[1], sys.argv[2]
    reader = GGUFReader(model)
    template = reader.fields["tokenizer.chat_template"].contents()
    llm = Llama(model_path=model, n_ctx=1024, logits_all=True, verbose=False, n_threads=2, n_batch=512)
    cases = []
    texts = [("chat", render(template, [{"role": "user", "content": p}])) for p in CHAT_PROMPTS]
    texts += [("raw", p) for p in RAW_PROMPTS]
    texts += [("prefill", render(template, [{"role": "user", "content": u}], f)) for u, f in PREFILLED]
    for kind, text in texts:
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=(kind != "raw"))
        llm.reset()
        llm.eval(tokens)
        generated, steps = [], []
        for _ in range(STEPS):
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            top = np.argsort(-logits, kind="stable")[:TOP_K]
            steps.append({"ids": top.tolist(), "logits": [float(logits[i]) for i in top]})
            tok = int(top[0])
            generated.append(tok)
            llm.eval([tok])
        cases.append({"kind": kind, "text": text, "prompt_tokens": tokens, "greedy": generated, "steps": steps})
    with open(out, "w") as f:
        json.dump({"model_sha256_prefix": "b179c9523d0e", "generator": "llama-cpp-python",
                   "steps": STEPS, "top_k": TOP_K, "cases": cases}, f, indent=None)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
