"""Drive one Python SDK with the planted values: ``python python_sdks.py SDK``.

Runs in the recorder's own venv (``requirements.txt``), under ``auditor run``, which gives it
the proxy and its CA in the environment; every SDK talks to its real default host, which the
proxy maps to the local backend. Each function is what an app using that SDK would write.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import planted as P

SYSTEM = "You are a concise, friendly assistant."


def _messages(sdk: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": P.PROMPTS[sdk]}]


def openai() -> None:
    from openai import OpenAI

    client = OpenAI(api_key=P.KEYS["openai"], max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=_messages("openai"), safety_identifier=P.USER_ID)  # type: ignore[arg-type]


def anthropic() -> None:
    from anthropic import Anthropic

    client = Anthropic(api_key=P.KEYS["anthropic"], max_retries=0)
    client.messages.create(
        model="claude-sonnet-4-5", max_tokens=256, system=SYSTEM,
        messages=[{"role": "user", "content": P.PROMPTS["anthropic"]}], metadata={"user_id": P.USER_ID},
    )


def google_genai() -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=P.KEYS["google-genai"])
    client.models.generate_content(
        model="gemini-2.5-flash", contents=P.PROMPTS["google-genai"],
        config=types.GenerateContentConfig(system_instruction=SYSTEM),
    )


def mistralai() -> None:
    try:
        from mistralai import Mistral
    except ImportError:
        from mistralai.client import Mistral  # type: ignore[no-redef]

    client = Mistral(api_key=P.KEYS["mistralai"])
    client.chat.complete(model="mistral-small-latest", messages=_messages("mistralai"))  # type: ignore[arg-type]


def cohere() -> None:
    import cohere as co

    client = co.ClientV2(api_key=P.KEYS["cohere"])
    client.chat(model="command-a-03-2025", messages=_messages("cohere"))  # type: ignore[arg-type]


def zhipuai() -> None:
    from zhipuai import ZhipuAI

    client = ZhipuAI(api_key=P.KEYS["zhipuai"], max_retries=0)
    client.chat.completions.create(model="glm-4-flash", messages=_messages("zhipuai"), user_id=P.USER_ID)


def dashscope() -> None:
    import dashscope as ds

    r = ds.Generation.call(api_key=P.KEYS["dashscope"], model="qwen-turbo", messages=_messages("dashscope"), result_format="message")
    if r.status_code != 200:
        raise SystemExit(f"dashscope: {r.status_code} {r.message}")


def volcengine_ark() -> None:
    from volcenginesdkarkruntime import Ark

    client = Ark(api_key=P.KEYS["volcengine-ark"], max_retries=0)
    client.chat.completions.create(model="doubao-seed-1-6-250615", messages=_messages("volcengine-ark"), user=P.USER_ID)  # type: ignore[arg-type]


def qianfan() -> None:
    import os

    os.environ["QIANFAN_BEARER_TOKEN"] = P.KEYS["qianfan"]
    from qianfan import ChatCompletion

    ChatCompletion(version="2").do(model="ernie-4.0-8k", messages=[{"role": "user", "content": P.PROMPTS["qianfan"]}], user_id=P.USER_ID)


def posthog() -> None:
    from posthog import Posthog

    ph = Posthog(P.KEYS["posthog"], host="https://us.i.posthog.com", sync_mode=True, disable_geoip=False)
    ph.capture(
        "chat_message_sent",
        distinct_id=P.USER_ID,
        properties={
            "$device_id": P.DEVICE_ID, "$latitude": float(P.LATITUDE), "$longitude": float(P.LONGITUDE), "city": P.CITY,
            "$set": {"email": P.EMAIL, "name": P.FULL_NAME, "phone": P.PHONE},
        },
    )
    ph.capture("plan_upgraded", distinct_id=P.USER_ID, properties={"plan": "plus"})
    ph.shutdown()


def mixpanel() -> None:
    from mixpanel import Mixpanel

    mp = Mixpanel(P.KEYS["mixpanel"])
    mp.track(P.USER_ID, "chat_message_sent", {"$device_id": P.DEVICE_ID, "$city": P.CITY, "plan": "free"})
    mp.people_set(P.USER_ID, {"$email": P.EMAIL, "$name": P.FULL_NAME, "$phone": P.PHONE,
                              "$latitude": float(P.LATITUDE), "$longitude": float(P.LONGITUDE)})
    mp.track(P.USER_ID, "plan_upgraded", {"plan": "plus"})


def segment() -> None:
    import segment.analytics as analytics

    analytics.write_key = P.KEYS["segment"]
    analytics.sync_mode = True
    context = {
        "ip": P.IP_ADDRESS,
        "device": {"id": P.DEVICE_ID},
        "location": {"city": P.CITY, "latitude": float(P.LATITUDE), "longitude": float(P.LONGITUDE)},
    }
    analytics.identify(P.USER_ID, {"email": P.EMAIL, "name": P.FULL_NAME, "phone": P.PHONE}, context=context)
    analytics.track(P.USER_ID, "chat_message_sent", {"plan": "free"}, context=context)
    analytics.track(P.USER_ID, "plan_upgraded", {"plan": "plus"})
    analytics.flush()


def amplitude() -> None:
    from amplitude import Amplitude, BaseEvent, EventOptions, Identify

    client = Amplitude(P.KEYS["amplitude"])
    identify = Identify().set("email", P.EMAIL).set("name", P.FULL_NAME).set("phone", P.PHONE)
    client.identify(identify, EventOptions(user_id=P.USER_ID, device_id=P.DEVICE_ID))
    client.track(BaseEvent(
        event_type="chat_message_sent", user_id=P.USER_ID, device_id=P.DEVICE_ID, ip=P.IP_ADDRESS,
        location_lat=float(P.LATITUDE), location_lng=float(P.LONGITUDE), city=P.CITY, event_properties={"plan": "free"},
    ))
    client.track(BaseEvent(event_type="plan_upgraded", user_id=P.USER_ID, device_id=P.DEVICE_ID, event_properties={"plan": "plus"}))
    client.shutdown()


def sentry() -> None:
    import sentry_sdk

    sentry_sdk.init(dsn=P.SENTRY_DSN, send_default_pii=True, release="chat-app@1.4.2", environment="production")
    sentry_sdk.set_user({"id": P.USER_ID, "email": P.EMAIL, "username": P.FULL_NAME, "ip_address": P.IP_ADDRESS})
    sentry_sdk.set_tag("device_id", P.DEVICE_ID)
    sentry_sdk.add_breadcrumb(category="chat", message="message sent", level="info")
    try:
        {"plan": "free"}["quota"]
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)


SDKS: dict[str, Callable[[], None]] = {
    "openai": openai, "anthropic": anthropic, "google-genai": google_genai, "mistralai": mistralai, "cohere": cohere,
    "zhipuai": zhipuai, "dashscope": dashscope, "volcengine-ark": volcengine_ark, "qianfan": qianfan,
    "posthog": posthog, "mixpanel": mixpanel, "segment": segment, "amplitude": amplitude, "sentry": sentry,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SDKS:
        print(f"usage: python_sdks.py {{{','.join(SDKS)}}}", file=sys.stderr)
        raise SystemExit(2)
    SDKS[sys.argv[1]]()
