"""The planted identity of the real-SDK corpus: every personal value the drivers hand to an SDK.

Imported by the drivers (in the recorder's own venv), by the backend and by the labeler; it
imports nothing but the standard library. Every value is invented: the person, the numbers
(``555-01xx`` is reserved for fiction), the coordinates of a public square, the keys.
"""

from __future__ import annotations

EMAIL = "rosa.keller@example.com"
PHONE = "+14155550172"
FIRST_NAME = "Rosa"
LAST_NAME = "Keller"
FULL_NAME = "Rosa Keller"
USER_ID = "usr_7Qm2Xc9LkT4b"
DEVICE_ID = "dev-5f0c9e2a-7b1d-4c3e-9a8f-2d6b1e4c7a90"
IP_ADDRESS = "203.0.113.42"
LATITUDE = "47.3769"
LONGITUDE = "8.5417"
CITY = "Zurich"

# One prompt per AI SDK, so a prompt on the wire names the SDK that sent it.
PROMPTS: dict[str, str] = {
    "openai": "Plan a three-day walking tour of Lisbon for a family with two teenagers.",
    "anthropic": "Summarise the plot of a mystery novel set on a night train to Vienna.",
    "google-genai": "Suggest five vegetarian dinners that can be cooked in under twenty minutes.",
    "mistralai": "Explain how compound interest works using a savings jar as an example.",
    "cohere": "Write a polite note asking a neighbour to trim the hedge between our gardens.",
    "zhipuai": "请帮我写一封给房东的邮件，说明热水器坏了需要维修。",  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    "dashscope": "请推荐三本适合初学者阅读的天文学入门书籍。",
    "volcengine-ark": "请用简单的语言解释一下光合作用的过程。",
    "qianfan": "帮我规划一个周末去杭州西湖的一日游路线。",
    "browser-openai": "What should I pack for a week of hiking in the Scottish Highlands?",
    "browser-anthropic": "Draft a short toast for my sister's graduation party.",
    "browser-chat": "How do I repot a fiddle leaf fig without damaging the roots?",
}

# Keys and tokens handed to the SDKs (credentials on the wire, never valid anywhere).
KEYS: dict[str, str] = {
    "openai": "sk-proj-R3alSdkC0rpusPlant3dKey0000000000000000000001",
    "anthropic": "sk-ant-api03-R3alSdkC0rpusPlant3dKey00000000000000000000000002-AAAAAA",
    "google-genai": "AIzaSyR3alSdkC0rpusPlant3dKey000000003",
    "mistralai": "R3alSdkC0rpusPlant3dMistralKey04",
    "cohere": "R3alSdkC0rpusPlant3dCohereKey00000000005",
    "zhipuai": "r3alsdkc0rpusplant3dzhipu0000006.R3alSdkC0rpusSecr",
    "dashscope": "sk-r3alsdkc0rpusplant3ddashscope07",
    "volcengine-ark": "r3alsdkc-0rpu-spla-nt3d-ark000000008",
    "qianfan": "bce-v3/ALTAK-R3alSdkC0rpusPlant3d/r3alsdkc0rpusplant3dqianfan00000009",
    "posthog": "phc_R3alSdkC0rpusPlant3dPosthogKey0000000010",
    "mixpanel": "r3alsdkc0rpusplant3dmixpanel0011",
    "segment": "R3alSdkC0rpusPlant3dSegmentWriteKey12",
    "amplitude": "r3alsdkc0rpusplant3damplitude013",
    "sentry": "r3alsdkc0rpusplant3dsentry000014",  # the public key of a DSN (not a credential)
}

SENTRY_DSN = f"https://{KEYS['sentry']}@o4500000000000001.ingest.us.sentry.io/4500000000000002"

# Event names the drivers send to analytics SDKs (usage_event).
EVENTS = ("chat_message_sent", "plan_upgraded")

# What the labeler looks for, by category (the prompts are added per SDK).
IDENTITY: dict[str, tuple[str, ...]] = {
    "email": (EMAIL,),
    "phone": (PHONE,),
    "person_name": (FULL_NAME, FIRST_NAME, LAST_NAME),
    "account_id": (USER_ID,),
    "device_id": (DEVICE_ID,),
    "ip_address": (IP_ADDRESS,),
    "precise_location": (LATITUDE, LONGITUDE),
    "coarse_location": (CITY,),
    "usage_event": EVENTS,
}
