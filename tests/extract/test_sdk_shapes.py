"""Shapes real SDKs send: messages at the root, AI SDK request formats, ``$`` properties and
person properties, OS thread ids, floats that are not cards. Each with its negative cases."""

from __future__ import annotations

import json

import pytest

from auditor.classifiers import classify
from auditor.extract import walk_exchange
from auditor.models import Exchange

PROMPT = "Plan a three day trip to Kyoto for my parents"


def _found(body: object, host: str = "api.example.com", path: str = "/v1/x", ct: str = "application/json") -> list[tuple[str, str, str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ex = Exchange(0, 0, "x", "POST", "https", host, 443, path, request_headers=[("content-type", ct)], request_body=raw)
    return [(f.category, f.path, f.value, f.detector) for f in classify(ex, walk_exchange(ex))]


def _prompts(body: object, host: str = "api.example.com") -> list[tuple[str, str]]:
    return [(p, d) for c, p, _v, d in _found(body, host) if c == "prompt"]


# --- messages at the root ---------------------------------------------------------------------------


def test_a_message_at_the_root_is_a_prompt() -> None:
    assert _prompts({"role": "user", "content": PROMPT}) == [("content", "prompt.structure")]
    assert _prompts({"role": "user", "content": [{"type": "text", "text": PROMPT}]}) == [("content[0].text", "prompt.structure")]
    # OpenAI Assistants: POST /v1/threads/{id}/messages
    assert _prompts({"role": "user", "content": PROMPT}, host="api.openai.com") == [("content", "prompt.structure")]


def test_an_array_of_messages_at_the_root() -> None:
    body = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": PROMPT}, {"role": "assistant", "content": "Sure, here is a plan"}]
    assert _prompts(body) == [("[1].content", "prompt.structure")]


@pytest.mark.parametrize("role", ["system", "assistant", "tool", "developer"])
def test_other_roles_at_the_root_are_not_prompts(role: str) -> None:
    assert _prompts({"role": role, "content": PROMPT}) == []
    assert _prompts([{"role": role, "content": PROMPT}]) == []


# --- request shapes of AI SDKs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "body", "path", "detector"),
    [
        ("api.cohere.com", {"model": "command-r", "messages": [{"role": "user", "content": PROMPT}]}, "messages[0].content", "prompt.format.openai.chat"),
        ("api.cohere.com", {"message": PROMPT, "chat_history": [{"role": "CHATBOT", "message": "Hello there friend"}]}, "message", "prompt.format.cohere.v1"),
        ("api.cohere.com", {"message": "42", "chat_history": [{"role": "USER", "message": PROMPT}]}, "chat_history[0].message", "prompt.format.cohere.v1.history"),
        ("api.mistral.ai", {"model": "mistral-small", "messages": [{"role": "user", "content": PROMPT}]}, "messages[0].content", "prompt.format.openai.chat"),
        ("api.mistral.ai", {"agent_id": "a", "inputs": PROMPT}, "inputs", "prompt.format.mistral.conversations"),
        ("open.bigmodel.cn", {"model": "glm-4", "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]}, "messages[0].content[0].text", "prompt.format.openai.chat.parts"),
        ("open.bigmodel.cn", {"prompt": [{"role": "user", "content": PROMPT}]}, "prompt[0].content", "prompt.format.zhipu.v3"),
        ("dashscope.aliyuncs.com", {"model": "qwen-max", "input": {"messages": [{"role": "user", "content": PROMPT}]}}, "input.messages[0].content", "prompt.format.qwen.dashscope"),
        ("dashscope.aliyuncs.com", {"model": "qwen-vl", "input": {"messages": [{"role": "user", "content": [{"image": "https://x/y.png"}, {"text": PROMPT}]}]}}, "input.messages[0].content[1].text", "prompt.format.qwen.dashscope.parts"),
        ("qianfan.baidubce.com", {"model": "ernie-4.0", "messages": [{"role": "user", "content": PROMPT}]}, "messages[0].content", "prompt.format.openai.chat"),
        ("ark.cn-beijing.volces.com", {"model": "doubao-pro", "messages": [{"role": "user", "content": PROMPT}]}, "messages[0].content", "prompt.format.openai.chat"),
        ("127.0.0.1", {"model": "llama3", "messages": [{"role": "user", "content": PROMPT}], "stream": False}, "messages[0].content", "prompt.format.openai.chat"),
        ("127.0.0.1", {"model": "llama3", "prompt": PROMPT}, "prompt", "prompt.format.deepseek.web"),
        ("generativelanguage.googleapis.com", {"contents": [{"parts": [{"text": PROMPT}], "role": "user"}], "systemInstruction": {"parts": [{"text": "Be brief and kind"}]}}, "contents[0].parts[0].text", "prompt.format.gemini.contents"),
        ("hunyuan.tencentcloudapi.com", {"Model": "hunyuan-lite", "Messages": [{"Role": "user", "Content": PROMPT}]}, "Messages[0].Content", "prompt.format.hunyuan.chat"),
        ("api.minimax.chat", {"model": "abab6", "messages": [{"sender_type": "USER", "sender_name": "u", "text": PROMPT}]}, "messages[0].text", "prompt.format.minimax.pro"),
        ("api.coze.com", {"bot_id": "b", "user_id": "u", "additional_messages": [{"role": "user", "content": PROMPT, "content_type": "text"}]}, "additional_messages[0].content", "prompt.format.coze.chat"),
        ("api.dify.ai", {"inputs": {}, "query": PROMPT, "user": "abc-123"}, "query", "prompt.format.dify.chat"),
    ],
)
def test_ai_sdk_request_shapes(host: str, body: dict, path: str, detector: str) -> None:
    assert _prompts(body, host) == [(path, detector)]


def test_anthropic_system_blocks_are_not_prompts() -> None:
    body = {
        "model": "claude-sonnet-4",
        "system": [{"type": "text", "text": "You are a helpful travel agent", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}, {"role": "assistant", "content": [{"type": "text", "text": "Day one: temples"}]}],
    }
    assert _prompts(body, "api.anthropic.com") == [("messages[0].content[0].text", "prompt.format.openai.chat.parts")]


def test_format_hosts_still_apply() -> None:
    assert _prompts({"message": PROMPT}, "analytics.example.com") == []  # Cohere v1 shape only at Cohere
    assert _prompts({"query": PROMPT}, "analytics.example.com") == []


# --- $ properties and person properties --------------------------------------------------------------


def test_dollar_prefixed_properties() -> None:
    body = {"event": "$pageview", "properties": {
        "$email": "jane.doe@example.org", "$latitude": 48.85661, "$longitude": 2.35222, "$city": "Paris",
        "$device_id": "b7e3c1a2-5d4f-4e6a-9c8b-1f2e3d4c5b6a", "$os": "Mac OS X", "$current_url": "https://app.example.com/",
    }}
    assert [(c, p) for c, p, _v, _d in _found(body)] == [
        ("usage_event", "event"),
        ("email", 'properties["$email"]'),
        ("precise_location", 'properties["$latitude"]'),
        ("precise_location", 'properties["$longitude"]'),
        ("coarse_location", 'properties["$city"]'),
        ("device_id", 'properties["$device_id"]'),
        ("device_info", 'properties["$os"]'),
    ]


def test_coordinate_lists_stay_series() -> None:
    assert _found({"latitude": [48.85661, 48.85662]}) == []  # a list under a coordinate name


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"$distinct_id": "u1", "$set": {"$name": "Jane Doe"}}, '["$set"]["$name"]'),  # Mixpanel engage
        ({"event": "$identify", "properties": {"$set": {"name": "Jane Doe"}}}, 'properties["$set"].name'),  # PostHog
        ({"event": "x", "$set_once": {"name": "Jane Doe"}}, '["$set_once"].name'),
        ({"user_id": "u1", "user_properties": {"name": "Jane Doe"}}, "user_properties.name"),  # Amplitude
        ({"user_properties": {"$set": {"name": "Jane Doe"}}}, 'user_properties["$set"].name'),  # Amplitude identify
        ({"type": "identify", "traits": {"name": "Jane Doe"}}, "traits.name"),  # Segment
        ({"person_properties": {"name": "Jane Doe"}}, "person_properties.name"),  # PostHog flags
    ],
)
def test_a_name_set_as_a_person_property(body: dict, path: str) -> None:
    assert ("person_name", path, "Jane Doe") in [(c, p, v) for c, p, v, _d in _found(body)]


def test_names_of_things_in_person_properties_are_not_people() -> None:
    body = {"$set": {"name": "pro plan", "plan": "Pro"}, "properties": {"name": "Checkout Button"}}
    assert [c for c, *_ in _found(body)] == []


# --- OS thread ids are not chat threads ---------------------------------------------------------------


def test_os_thread_ids_in_crash_and_tracing_payloads() -> None:
    body = {
        "threads": {"values": [{"id": 140234567890, "name": "MainThread", "current": True, "crashed": False,
                                "stacktrace": {"frames": [{"function": "run", "lineno": 12, "vars": {"tid": 140234567890}}]}}]},
        "contexts": {"trace": {"trace_id": "a" * 32, "span_id": "b" * 16, "data": {"thread.id": "140234567890", "thread.name": "MainThread"}}},
        "spans": [{"data": {"thread.id": "140234567890", "thread.name": "worker-1"}}],
        "extra": {"thread_id": 140234567890, "threadId": "0x7f1a2b3c"},
        "profile": {"samples": [{"thread_id": "259", "elapsed_since_start_ns": "1000"}]},
    }
    assert [c for c, *_ in _found(body, host="o1.ingest.sentry.io")] == []


def test_chat_thread_ids_still_are_conversations() -> None:
    assert [(c, p) for c, p, _v, _d in _found({"thread_id": "thread_abc123XYZ", "assistant_id": "asst_1"})] == [("conversation_id", "thread_id")]
    assert [(c, p) for c, p, _v, _d in _found({"config": {"configurable": {"thread_id": "6f1c2a3b-8d7e-4f60-9a1b-2c3d4e5f6a7b"}}})] == [
        ("conversation_id", "config.configurable.thread_id")
    ]


# --- floats are not card numbers ----------------------------------------------------------------------


def test_digits_of_a_float_are_not_a_card() -> None:
    body = {"duration": 14675.599999999627, "text": "took 14675.599999999627 ms", "t": "0.5999999996270001"}
    assert _found(body) == []


def test_card_numbers_beside_punctuation_still_are_cards() -> None:
    found = _found({"note": "my card is 4111 1111 1111 1111. thanks", "csv": "4012888888881881,12/30"})
    assert [(c, v) for c, _p, v, _d in found] == [("payment_card", "4111 1111 1111 1111"), ("payment_card", "4012888888881881")]


# --- seen in the real-SDK corpus ------------------------------------------------------------------------


def test_system_instructions_with_a_user_role_are_not_prompts() -> None:
    """google-genai sends systemInstruction as a Content whose role is "user"."""
    body = {
        "contents": [{"parts": [{"text": PROMPT}], "role": "user"}],
        "systemInstruction": {"parts": [{"text": "You are a concise, friendly assistant."}], "role": "user"},
    }
    assert _prompts(body, "generativelanguage.googleapis.com") == [("contents[0].parts[0].text", "prompt.format.gemini.contents")]
    assert _prompts({"system": {"role": "user", "content": "You are a concise, friendly assistant."}}) == []


def test_fern_platform_header_is_device_info() -> None:
    ex = Exchange(0, 0, "x", "POST", "https", "api.cohere.com", 443, "/v2/chat",
                  request_headers=[("x-fern-platform", "linux/6.18.44-fc-v1147"), ("x-fern-runtime", "python/3.13.1")])
    assert [(f.category, f.path) for f in classify(ex, walk_exchange(ex))] == [("device_info", "x-fern-platform")]


def test_device_object_id_is_a_device_id() -> None:
    body = {"batch": [{"context": {"device": {"id": "dev-5f0c9e2a-7b1d-4c3e-9a8f-2d6b1e4c7a90", "type": "ios"}}}]}
    assert [(c, p) for c, p, _v, _d in _found(body)] == [("device_id", "batch[0].context.device.id")]
    assert _found({"context": {"device": {"id": "1"}}}) == []  # too short to be an identifier


def test_username_that_is_a_full_name_is_a_name_else_an_account() -> None:
    assert [(c, v) for c, _p, v, _d in _found({"user": {"username": "Rosa Keller"}})] == [("person_name", "Rosa Keller")]
    assert [(c, v) for c, _p, v, _d in _found({"user": {"username": "rkeller42"}})] == [("account_id", "rkeller42")]
    assert [(c, v) for c, _p, v, _d in _found({"username": "rkeller42"})] == [("account_id", "rkeller42")]


def test_vendor_tagged_event_names() -> None:
    body = {"events": [{"event_type": "[Amplitude] Page Viewed"}, {"event_type": "[Amplitude] Form Started"}]}
    assert [(c, v) for c, _p, v, _d in _found(body)] == [("usage_event", "[Amplitude] Page Viewed"), ("usage_event", "[Amplitude] Form Started")]
    assert _found({"event_type": "[1, 2, 3]"}) == []


def test_anonymous_distinct_id_is_also_a_device_id() -> None:
    anon = "01a23b1a-7ba9-7b99-97c8-3727df24bf54"
    before = {"batch": [{"event": "$pageview", "properties": {"distinct_id": anon, "$device_id": anon}}]}
    assert sorted((c, p) for c, p, _v, _d in _found(before)) == [
        ("account_id", "batch[0].properties.distinct_id"),
        ("device_id", "batch[0].properties.distinct_id"),
        ("device_id", 'batch[0].properties["$device_id"]'),
        ("usage_event", "batch[0].event"),
    ]
    after = {"batch": [{"event": "$pageview", "properties": {"distinct_id": "user-8812", "$device_id": anon}}]}
    assert ("device_id", "batch[0].properties.distinct_id") not in [(c, p) for c, p, _v, _d in _found(after)]


def test_api_keys_in_request_paths_and_posthog_keys() -> None:
    def url_findings(host: str, path: str) -> list[tuple[str, str, str]]:
        ex = Exchange(0, 0, "x", "GET", "https", host, 443, path)
        return [(f.category, f.path, f.detector) for f in classify(ex, walk_exchange(ex))]

    assert url_findings("cdn.segment.com", "/v1/projects/R3alSdkC0rpusPlant3dSegmentWriteKey12/settings") == [
        ("credential", "path[2]", "credential.url_path")
    ]
    assert url_findings("sr-client-cfg.amplitude.com", "/config/0123456789abcdef0123456789abcdef?config_group=browser") == [
        ("credential", "path[1]", "credential.url_path")
    ]
    assert url_findings("us-assets.i.posthog.com", "/array/phc_R3alSdkC0rpusPlant3dPosthogKey0000000010/config.js") == [
        ("credential", "path[1]", "credential.api_key.posthog")
    ]
    assert url_findings("cdn.segment.com", "/v1/projects/short/settings") == []
    assert url_findings("cdn.example.com", "/v1/projects/R3alSdkC0rpusPlant3dSegmentWriteKey12/settings") == []


def test_update_check_hardware_facts() -> None:
    body = {"request": {"hw": {"physmemory": 24, "sse2": True}, "os": {"platform": "Linux", "arch": "x86_64"}, "arch": "x64"}}
    assert [(c, p) for c, p, _v, _d in _found(body, host="update.googleapis.com")] == [
        ("device_info", "request.hw.physmemory"), ("device_info", "request.os.platform"),
        ("device_info", "request.os.arch"), ("device_info", "request.arch"),
    ]
