"""The stock `openai` Python client against Switchyard's /v1 API.

Usage: openai_client.py BASE_URL MODEL
Prints one line per check; exits non-zero on the first failure.
"""
import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)

models = [m.id for m in client.models.list()]
assert model in models, models
print("models:", models)

answer = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Say hello."}],
    max_tokens=8,
)
assert answer.choices[0].message.role == "assistant"
assert isinstance(answer.choices[0].message.content, str)
assert 1 <= answer.usage.completion_tokens <= 8, answer.usage
print("whole answer:", answer.usage.completion_tokens, "tokens")

pieces = []
finish = None
usage = None
stream = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Count to five."}],
    max_tokens=12,
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.usage is not None:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
assert finish in ("stop", "length"), finish
assert usage is not None and 1 <= usage.completion_tokens <= 12, usage
print("stream:", len(pieces), "pieces, finish", finish)

structured = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Pick one."}],
    max_tokens=40,
    response_format={
        "type": "json_schema",
        "json_schema": {
            "name": "pick",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"pick": {"enum": ["left", "right"]}},
                "required": ["pick"],
                "additionalProperties": False,
            },
        },
    },
)
value = json.loads(structured.choices[0].message.content)
assert value["pick"] in ("left", "right"), value
print("json_schema:", value)

try:
    client.chat.completions.create(
        model="no-such-model", messages=[{"role": "user", "content": "hi"}]
    )
    raise AssertionError("an unknown model was accepted")
except openai.NotFoundError as e:
    assert e.status_code == 404
    print("unknown model: 404", e.body)
print("all checks passed")
