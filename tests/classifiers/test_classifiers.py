"""Every detector with positive cases and decoys; outputs are compared exactly."""

from __future__ import annotations

import base64
import json

import pytest

from auditor.classifiers import Context, classify, validators
from auditor.classifiers.patterns import prefilter
from auditor.models import Exchange, Field, Finding

B = "request.body"
Q = "request.query"
H = "request.header"
C = "request.cookie"
WS = "websocket.client"


def _ex(host: str = "h.example.com", path: str = "/") -> Exchange:
    return Exchange(capture=0, index=0, id="x", method="POST", scheme="https", host=host, port=443, path=path)


def _run(*fields: Field, host: str = "h.example.com", path: str = "/") -> list[tuple[str, str, str, str]]:
    return [(f.category, f.path, f.value, f.detector) for f in classify(_ex(host, path), list(fields))]


def _cats(*fields: Field, host: str = "h.example.com") -> list[tuple[str, str]]:
    return [(f.category, f.path) for f in classify(_ex(host), list(fields))]


# -- email -------------------------------------------------------------------------------------


def test_email_in_a_field_and_inside_text() -> None:
    assert _run(
        Field(B, "user.email", "jane.doe@example.org"),
        Field(B, "note", "write to jane.doe@example.org or bob@mail.example.co.uk."),
        Field(B, "logo", "logo@2x.png"),
        Field(B, "dsn", "https://0123abcd@o450.ingest.sentry.io/4504"),
    ) == [
        ("email", "user.email", "jane.doe@example.org", "email.regex"),
        ("email", "note", "jane.doe@example.org", "email.regex"),
        ("email", "note", "bob@mail.example.co.uk", "email.regex"),
    ]


def test_responses_are_not_classified() -> None:
    assert _run(Field("response.body", "email", "jane.doe@example.org")) == []


# -- phone -------------------------------------------------------------------------------------


def test_phone_by_key_name_national_and_international() -> None:
    assert _run(
        Field(B, "mobile", "13812345678"),  # CN mobile, national form
        Field(B, "phone", "12345"),  # too short
        Field(B, "msg", "call me on +33 6 12 34 56 78 tomorrow"),
        Field(B, "ts", "+1700000000"),  # a number, not a phone
        Field(B, "text", "我的手机号13800138000，谢谢"),  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
        Field(B, "order_id", "13800138000"),  # a bare number under another key
    ) == [
        ("phone", "mobile", "13812345678", "phone.key"),
        ("phone", "msg", "+33 6 12 34 56 78", "phone.international"),
        ("phone", "text", "13800138000", "phone.cn_mobile"),
    ]


# -- credential --------------------------------------------------------------------------------


def test_credentials() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJl"
    got = _run(
        Field(H, "authorization", f"Bearer {jwt}"),
        Field(H, "authorization.bearer", jwt),
        Field(B, "password", "hunter2!"),
        Field(B, "config", "key=sk-proj-abcdefghijklmnopqrstuvwxyz012345"),
        Field(C, "sessionid", "s3cr3tsessionvalue"),
        Field(C, "theme", "dark-mode-enabled"),
        Field(B, "password", "true"),
        Field(H, "statsig-api-key", "client-abcdefghijklmnop"),
        Field(B, "otp_code", "482913"),
    )
    assert got == [
        ("credential", "authorization.bearer", jwt, "credential.authorization"),
        ("credential", "password", "hunter2!", "credential.key_name"),
        ("credential", "config", "sk-proj-abcdefghijklmnopqrstuvwxyz012345", "credential.api_key.openai"),
        ("credential", "sessionid", "s3cr3tsessionvalue", "credential.session_cookie"),
        ("credential", "statsig-api-key", "client-abcdefghijklmnop", "credential.key_name"),
        ("credential", "otp_code", "482913", "credential.key_name"),
    ]


def test_unsplit_authorization_header_is_the_credential() -> None:
    assert _run(Field(H, "authorization", "Token abcdef123456")) == [
        ("credential", "authorization", "Token abcdef123456", "credential.authorization")
    ]


def test_api_key_formats_and_jwt_in_text_but_not_claims() -> None:
    aws = "AKIA" + "ABCDEFGHIJKLMNOP"
    got = _run(
        Field(B, "messages[0].content", f"why is my key {aws} rejected"),
        Field(B, "blob", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2ln here"),
        Field(H, "authorization.bearer.@jwt.iat", "1793614500"),
        Field(B, "desk-top", "sk-short"),
    )
    assert got == [
        ("credential", "messages[0].content", aws, "credential.api_key.aws"),
        ("credential", "blob", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2ln", "credential.jwt"),
    ]


# -- prompt ------------------------------------------------------------------------------------


def test_openai_chat_prompt_only_for_user_role() -> None:
    got = _run(
        Field(B, "model", "gpt-4o"),
        Field(B, "messages[0].role", "system"),
        Field(B, "messages[0].content", "You are a helpful assistant."),
        Field(B, "messages[1].role", "user"),
        Field(B, "messages[1].content", "My landlord is evicting me, what can I do?"),
        Field(B, "messages[2].role", "assistant"),
        Field(B, "messages[2].content", "Here is what you can do."),
        Field(B, "temperature", "0.7"),
        Field(B, "top_p", "0.95"),
    )
    assert got == [("prompt", "messages[1].content", "My landlord is evicting me, what can I do?", "prompt.format.openai.chat")]


def test_prompt_formats_of_other_apps() -> None:
    got = _run(
        Field(B, "contents[0].role", "user"),
        Field(B, "contents[0].parts[0].text", "Summarise my medical report"),
        Field(B, "contents[1].role", "model"),
        Field(B, "contents[1].parts[0].text", "Here is a summary."),
        Field(B, "prompt", "How do I renew my passport?"),
        Field(B, "query_str", "best lawyer near me"),
        Field(WS, "[0].event", "send"),
        Field(WS, "[0].content[0].text", "Hello Copilot"),
        Field(B, "event_v3[0].params.prompt_text", "How do I renew my passport?"),
        Field(B, "system[0].text", "You are the assistant of a tenant app."),
    )
    assert got == [
        ("prompt", "contents[0].parts[0].text", "Summarise my medical report", "prompt.format.gemini.contents"),
        ("prompt", "prompt", "How do I renew my passport?", "prompt.format.deepseek.web"),
        ("prompt", "query_str", "best lawyer near me", "prompt.format.perplexity.web"),
        ("prompt", "[0].content[0].text", "Hello Copilot", "prompt.format.copilot.websocket"),
        ("prompt", "event_v3[0].params.prompt_text", "How do I renew my passport?", "prompt.key_name"),
    ]


def test_prompts_of_hosts_and_positional_formats() -> None:
    assert _run(Field(B, "text", "写一首关于秋天的诗"), host="yiyan.baidu.com") == [
        ("prompt", "text", "写一首关于秋天的诗", "prompt.format.ernie.web")
    ]
    assert _run(Field(B, "text", "not a prompt here"), host="shop.example.com") == []
    assert _run(Field(Q, "q", "visa rules for Japan"), host="www.perplexity.ai") == [
        ("prompt", "q", "visa rules for Japan", "prompt.key")
    ]
    assert _run(
        Field(B, "f.req[1][0][0]", "Plan my week"), Field(B, "f.req[1][1][0]", "en"), Field(B, "f.req[1][2][0]", "c_0123456789abcdef"),
        host="gemini.google.com",
    ) == [
        ("prompt", "f.req[1][0][0]", "Plan my week", "prompt.format.gemini.web"),
        ("conversation_id", "f.req[1][2][0]", "c_0123456789abcdef", "conversation_id.path"),
    ]


def test_prompt_in_unknown_formats_from_message_structure() -> None:
    assert _run(
        Field(B, "history[0].speaker", "user"),
        Field(B, "history[0].text", "I failed my driving test"),
        Field(B, "history[1].speaker", "bot"),
        Field(B, "history[1].text", "Let's practise."),
        Field(B, "input.sender", "user"),
        Field(B, "input.message", "Give me a breathing exercise"),
        Field(WS, "[2].item.role", "user"),
        Field(WS, "[2].item.content[0].text", "Quiz me on French"),
    ) == [
        ("prompt", "history[0].text", "I failed my driving test", "prompt.structure"),
        ("prompt", "input.message", "Give me a breathing exercise", "prompt.structure"),
        ("prompt", "[2].item.content[0].text", "Quiz me on French", "prompt.structure"),
    ]


def test_prompt_key_ignores_ids_and_numbers() -> None:
    assert _run(Field(B, "prompt", "a1b2c3d4e5f6a7b8"), Field(B, "question", "42"), Field(B, "prompt", "true")) == []


# -- identity: names, birth dates, accounts, national ids ---------------------------------------


def test_person_names() -> None:
    assert _run(
        Field(B, "first_name", "Jane"),
        Field(B, "last_name", "Müller"),
        Field(B, "real_name", "李雷"),
        Field(B, "billing_details[name]", "Jane Doe"),
        Field(B, "user.name", "jdoe42"),  # a handle, not a name
        Field(B, "event.name", "Button Clicked"),  # an event, not a person
        Field(B, "first_name", "anonymous"),
        Field(B, "sdk.name", "Sentry"),
    ) == [
        ("person_name", "first_name", "Jane", "person_name.key"),
        ("person_name", "last_name", "Müller", "person_name.key"),
        ("person_name", "real_name", "李雷", "person_name.key"),
        ("person_name", "billing_details[name]", "Jane Doe", "person_name.key"),
        ("usage_event", "event.name", "Button Clicked", "usage_event.key"),
    ]


def test_dates_of_birth() -> None:
    assert _run(
        Field(B, "dob", "1990-03-14"),
        Field(B, "birthday", "14 March 1990"),
        Field(B, "user.yob", "1988"),
        Field(B, "birth_date", "2031-01-01"),  # in the future
        Field(B, "birthday", "1793614500"),  # a timestamp
        Field(B, "birthday_reminder", "true"),
        Field(B, "created_at", "1990-03-14"),
    ) == [
        ("date_of_birth", "dob", "1990-03-14", "date_of_birth.key"),
        ("date_of_birth", "birthday", "14 March 1990", "date_of_birth.key"),
        ("date_of_birth", "user.yob", "1988", "date_of_birth.key"),
    ]


def test_account_ids() -> None:
    got = _run(
        Field(B, "model", "gpt-4o"),
        Field(B, "user", "user-1234"),  # OpenAI end-user id, beside a model
        Field(B, "events[0].user.userID", "7f3c2a91"),
        Field(H, "authorization.bearer.@jwt.sub", "7f3c2a91-4b6e"),
        Field(B, "[2].user.id", "42"),
        Field(B, "user_id", "null"),
        Field(B, "request_id", "5f1b2c3d-aaaa-bbbb-cccc-000000000000"),
        Field(B, "user.ip_address", "{{auto}}"),
    )
    assert got == [
        ("account_id", "user", "user-1234", "account_id.key"),
        ("account_id", "events[0].user.userID", "7f3c2a91", "account_id.key"),
        ("account_id", "authorization.bearer.@jwt.sub", "7f3c2a91-4b6e", "account_id.key"),
        ("account_id", "[2].user.id", "42", "account_id.key"),
    ]
    assert _run(Field(B, "user", "user-1234")) == []  # no model: not the OpenAI parameter


def test_government_ids() -> None:
    cn = "11010519491231002X"
    assert validators.cn_resident_id(cn)
    got = _run(
        Field(B, "ssn", "536-22-8841"),
        Field(B, "id_card_no", cn),
        Field(B, "note", f"my SSN is 536-22-8841 and id {cn}"),
        Field(B, "text", "NIR 2 84 12 75 108 125 92 please"),
        Field(B, "ni_number", "AB123456C"),
        Field(B, "ssn", "078-05-1120"),  # the famous invalid one
        Field(B, "text2", "call 123-45-6789? no: 000-12-3456"),
        Field(B, "id_card_no", "110105194912310021"),  # bad check digit
        Field(B, "snowflake", "110105194912310029"),  # bare number, other key
    )
    assert got == [
        ("government_id", "ssn", "536-22-8841", "government_id.key"),
        ("government_id", "id_card_no", cn, "government_id.key"),
        ("government_id", "note", "536-22-8841", "government_id.us_ssn"),
        ("government_id", "note", cn, "government_id.cn_resident_id"),
        ("government_id", "text", "2 84 12 75 108 125 92", "government_id.fr_nir"),
        ("government_id", "ni_number", "AB123456C", "government_id.uk_nino"),
    ]


# -- devices and advertising -------------------------------------------------------------------


def test_device_ids_with_chinese_sdk_spellings_and_validators() -> None:
    got = _run(
        Field(B, "header.device_id", "b7e3c1a2-5d4f-4e6a-9c8b-1f2e3d4c5b6a"),
        Field(B, "openudid", "a1b2c3d4e5f60718"),
        Field(B, "did", "7430918263541029384"),
        Field(B, "imei", "358240051111110"),
        Field(B, "imei", "358240051111111"),  # Luhn fails
        Field(B, "mc", "3c:22:fb:7a:19:04"),
        Field(B, "mac", "02:00:00:00:00:00"),  # Android's placeholder
        Field(B, "device_id", "unknown"),
        Field(B, "serial", "3"),
        Field(C, "_ga", "GA1.1.1789012345.1791022500"),
    )
    assert got == [
        ("device_id", "header.device_id", "b7e3c1a2-5d4f-4e6a-9c8b-1f2e3d4c5b6a", "device_id.key"),
        ("device_id", "openudid", "a1b2c3d4e5f60718", "device_id.key"),
        ("device_id", "did", "7430918263541029384", "device_id.key"),
        ("device_id", "imei", "358240051111110", "device_id.key"),
        ("device_id", "mc", "3c:22:fb:7a:19:04", "device_id.key"),
        ("device_id", "_ga", "GA1.1.1789012345.1791022500", "device_id.key"),
    ]


def test_ga_client_id_needs_a_tracking_id_beside_it() -> None:
    assert _cats(Field(Q, "tid", "G-ABC"), Field(Q, "cid", "1789012345.1791022500")) == [("device_id", "cid")]
    assert _cats(Field(Q, "cid", "1789012345.1791022500")) == []


def test_advertising_ids() -> None:
    assert _run(
        Field(B, "idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
        Field(B, "gps_adid", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        Field(B, "oaid", "00000000-0000-0000-0000-000000000000"),  # limit ad tracking
        Field(B, "adid", "0123456789abcdef0123456789abcdef"),  # Adjust's own device id
    ) == [
        ("advertising_id", "idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC", "advertising_id.key"),
        ("advertising_id", "gps_adid", "38400000-8cf0-11bd-b23e-10b96e40000d", "advertising_id.key"),
        ("device_id", "adid", "0123456789abcdef0123456789abcdef", "device_id.key"),
    ]


def test_device_info_but_not_standard_headers_or_app_versions() -> None:
    got = _run(
        Field(H, "user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
        Field(H, "accept-language", "en-GB,en;q=0.9"),
        Field(H, "sec-ch-ua-platform", '"Windows"'),
        Field(H, "x-stainless-os", "Linux"),
        Field(B, "header.device_model", "Pixel 7"),
        Field(B, "header.os", "Android"),
        Field(B, "os", "web"),  # not an operating system
        Field(B, "header.resolution", "1080*2400"),
        Field(B, "header.access", "wifi"),
        Field(B, "imsi", "460001234567890"),
        Field(B, "header.app_version", "1.5.4"),
        Field(B, "model", "gpt-4o"),  # an AI model, not a phone
        Field(B, "build_number", "20261030"),
        Field(B, "device.model", "SM-S918B"),
    )
    assert got == [
        ("device_info", "x-stainless-os", "Linux", "device_info.key"),
        ("device_info", "header.device_model", "Pixel 7", "device_info.key"),
        ("device_info", "header.os", "Android", "device_info.key"),
        ("device_info", "header.resolution", "1080*2400", "device_info.key"),
        ("device_info", "header.access", "wifi", "device_info.key"),
        ("device_info", "imsi", "460001234567890", "device_info.key"),
        ("device_info", "device.model", "SM-S918B", "device_info.key"),
    ]


def test_ip_addresses_in_the_payload() -> None:
    assert _run(
        Field(B, "user.ip_address", "203.0.113.54"),
        Field(H, "x-forwarded-for", "198.51.100.7, 10.0.0.1"),
        Field(B, "ip", "127.0.0.1"),
        Field(B, "version", "1.5.4.0"),  # a dotted version, not an address
        Field(B, "ip", "{{auto}}"),
    ) == [
        ("ip_address", "user.ip_address", "203.0.113.54", "ip_address.key"),
        ("ip_address", "x-forwarded-for", "198.51.100.7, 10.0.0.1", "ip_address.key"),
    ]


# -- location ----------------------------------------------------------------------------------


def test_locations_precise_coarse_and_decoys() -> None:
    assert _run(
        Field(Q, "lat", "51.5074"),
        Field(Q, "lon", "-0.1278"),
        Field(Q, "ll", "48.85661,2.35222"),
        Field(B, "geo.lat", "51.5"),
        Field(B, "city", "Paris"),
        Field(B, "geo.region", "Île-de-France"),
        Field(B, "zip", "75011"),
        Field(B, "region", "GB"),  # an app setting, not the user's place
        Field(B, "sample_rate", "0.125"),
        Field(B, "temperature", "0.725"),
        Field(B, "position[0]", "0.125"),
        Field(B, "latencies[0]", "12.345"),
        Field(B, "zip", "true"),
    ) == [
        ("precise_location", "lat", "51.5074", "precise_location.key"),
        ("precise_location", "lon", "-0.1278", "precise_location.key"),
        ("precise_location", "ll", "48.85661,2.35222", "precise_location.key"),
        ("coarse_location", "geo.lat", "51.5", "coarse_location.coordinates"),
        ("coarse_location", "city", "Paris", "coarse_location.key"),
        ("coarse_location", "geo.region", "Île-de-France", "coarse_location.key"),
        ("coarse_location", "zip", "75011", "coarse_location.key"),
    ]


def test_postal_addresses() -> None:
    assert _run(
        Field(B, "address.line1", "10 Example Road"),
        Field(B, "address.city", "London"),
        Field(B, "address.postal_code", "SW1A 1AA"),
        Field(B, "street_address", "Flat 3, 10 Example Road"),
        Field(B, "email_address", "not an address field"),
        Field(B, "address", "0x52908400098527886E0F7030069857D2E4169EE7"),  # a wallet
    ) == [
        ("postal_address", "address.line1", "10 Example Road", "postal_address.key"),
        ("postal_address", "address.city", "London", "postal_address.key"),
        ("postal_address", "address.postal_code", "SW1A 1AA", "postal_address.key"),
        ("postal_address", "street_address", "Flat 3, 10 Example Road", "postal_address.key"),
    ]


# -- payment and bank ----------------------------------------------------------------------------


def test_payment_cards_need_luhn_and_a_card_key_or_text() -> None:
    assert _run(
        Field(B, "card[number]", "4242424242424242"),
        Field(B, "card[cvc]", "123"),
        Field(B, "card[exp_month]", "12"),
        Field(B, "msg", "my card 5555 5555 5555 4444 was charged twice"),
        Field(B, "order_id", "4242424242424242"),  # bare number under another key
        Field(B, "msg2", "order 4539 1488 0343 6468 shipped"),  # Luhn fails
        Field(B, "card[number]", "4242424242424241"),
        Field(B, "token", "a4535144e23c9ce5c2028073197468f86fe0ba7a8"),
    ) == [
        ("payment_card", "card[number]", "4242424242424242", "payment_card.key"),
        ("payment_card", "card[cvc]", "123", "payment_card.key"),
        ("payment_card", "card[exp_month]", "12", "payment_card.key"),
        ("payment_card", "msg", "5555 5555 5555 4444", "payment_card.luhn"),
        ("credential", "token", "a4535144e23c9ce5c2028073197468f86fe0ba7a8", "credential.key_name"),
    ]


def test_bank_accounts_mod97() -> None:
    assert _run(
        Field(B, "iban", "GB82 WEST 1234 5698 7654 32"),
        Field(B, "note", "send it to DE89 3704 0044 0532 0130 00 please"),
        Field(B, "iban", "GB82 WEST 1234 5698 7654 33"),  # mod-97 fails
        Field(B, "note2", "ref DE00 1234 5678 9012 3456 78"),
    ) == [
        ("bank_account", "iban", "GB82 WEST 1234 5698 7654 32", "bank_account.key"),
        ("bank_account", "note", "DE89 3704 0044 0532 0130 00", "bank_account.iban"),
    ]


# -- files, conversations, events, keystrokes ------------------------------------------------


def test_user_files() -> None:
    png = base64.b64encode(bytes.fromhex("89504e470d0a1a0a") + bytes(40)).decode()
    got = _run(
        Field(B, "file", "id-card-front.png", "file", "image/png"),
        Field(B, "messages[0].content[1].image_url.url", "data:image/jpeg;base64," + "/9j/4AAQ" * 10),
        Field(B, "contents[0].parts[1].inlineData.data", png),
        Field(B, "nonce", base64.b64encode(b"random bytes that are not a file at all!").decode()),
        Field(B, "font", "data:font/woff2;base64,d09GMgABAAAAA"),
    )
    assert got == [
        ("user_file", "file", "id-card-front.png", "user_file.multipart"),
        ("user_file", "messages[0].content[1].image_url.url", "image/jpeg (60 bytes, data URI)", "user_file.data_uri"),
        ("user_file", "contents[0].parts[1].inlineData.data", "image/png (48 bytes, base64)", "user_file.base64"),
    ]


def test_conversation_ids_from_keys_urls_and_paths() -> None:
    conv = "e2f4a6c8-1b3d-4f5a-8c7e-9d0b2a4c6e8f"
    assert _run(
        Field(B, "chat_session_id", conv),
        Field(Q, "dl", f"https://chat.deepseek.com/a/chat/s/{conv}"),
        Field(H, "referer", "https://chatgpt.com/c/6740f0aa-0c1e-8001-a2b3-1f2e3d4c5b6a"),
        Field(B, "parent_message_id", conv),
        Field(B, "page", "https://shop.example.com/c/clothes-and-shoes"),
    ) == [
        ("conversation_id", "chat_session_id", conv, "conversation_id.key"),
        ("conversation_id", "dl", conv, "conversation_id.chat_url"),
        ("conversation_id", "referer", "6740f0aa-0c1e-8001-a2b3-1f2e3d4c5b6a", "conversation_id.chat_url"),
    ]
    assert _run(host="chatgpt.com", path=f"/backend-api/conversation/{conv}") == [
        ("conversation_id", "path[2]", conv, "conversation_id.url_path")
    ]


def test_usage_events_not_protocol_messages() -> None:
    assert _run(
        Field(B, "event_v3[0].event", "chat_send_message"),
        Field(B, "events[0].eventName", "statsig::gate_exposure"),
        Field(Q, "tid", "G-ABC"),
        Field(Q, "en", "page_view"),
        Field(WS, "[1].event", "send"),  # a WebSocket protocol message type
        Field(B, "event_id", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        Field(B, "event", "5f1b2c3d-aaaa-bbbb-cccc-000000000000"),
    ) == [
        ("usage_event", "event_v3[0].event", "chat_send_message", "usage_event.key"),
        ("usage_event", "events[0].eventName", "statsig::gate_exposure", "usage_event.key"),
        ("usage_event", "en", "page_view", "usage_event.key"),
    ]


def test_keystroke_dynamics_grouped_and_numeric_series_ignored() -> None:
    assert _run(
        Field(B, "typing.key_intervals[0]", "120"),
        Field(B, "typing.key_intervals[1]", "95"),
        Field(B, "typing.typing_speed", "4.2"),
        Field(B, "keystrokes[0].down", "1000"),
        Field(B, "keystrokes[0].up", "1080"),
        Field(B, "keystrokes[0].key", "a"),
        Field(B, "perf.latencies_ms[0]", "12"),
        Field(B, "counts[0]", "1"),
    ) == [
        ("keystroke_dynamics", "typing.key_intervals", "120,95", "keystroke_dynamics.key"),
        ("keystroke_dynamics", "typing.typing_speed", "4.2", "keystroke_dynamics.key"),
        ("keystroke_dynamics", "keystrokes", "1000,1080", "keystroke_dynamics.key"),
    ]


# -- decoys all together -----------------------------------------------------------------------


def test_decoys_do_not_fire() -> None:
    decoys = [
        Field(H, "x-request-id", "5f1b2c3d-aaaa-bbbb-cccc-000000000000"),
        Field(H, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        Field(H, "sentry-trace", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
        Field(H, "if-none-match", '"5d41402abc4b2a76b9719d911017c592"'),
        Field(B, "content_hash", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        Field(B, "ts", "1793614500123"),
        Field(B, "created_at", "2026-11-02T10:16:35Z"),
        Field(B, "build", "2026.11.03.1842"),
        Field(B, "version", "6.16.3"),
        Field(B, "order_id", "4539148803436468"),
        Field(B, "sample_rate", "0.25"),
        Field(B, "temperature", "0.7"),
        Field(B, "top_p", "0.95"),
        Field(B, "seed", "424242"),
        Field(B, "metrics[0].values[0]", "123"),
        Field(B, "embedding[3]", "0.0123"),
        Field(B, "[0].event_id", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        Field(Q, "_p", "1793614534567"),
        Field(B, "text", "build 20261030.1 version 1.5.4 at 1793614500123, uuid 3f2b8c1e-9d4a-4e7b-8c2d-1a5b6c7d8e9f"),
    ]
    assert _run(*decoys) == []


def test_findings_are_not_duplicated_and_come_in_field_order() -> None:
    f = Field(B, "email", "a.b@example.org")
    assert len(classify(_ex(), [f, f])) == 1
    assert classify(_ex(), [f])[0] == Finding("email", B, "email", "a.b@example.org", "email.regex", 0.95)


def test_hyperscan_and_regex_prefilters_agree() -> None:
    fields = [
        Field(B, "a", "mail jane@example.org, card 4242 4242 4242 4242, +44 7911 123456"),
        Field(B, "b", "id 11010519491231002X ssn 536-22-8841 GB82 WEST 1234 5698 7654 32"),
        Field(B, "c", "data:image/png;base64,iVBORw0KGgo sk-proj-abcdefghijklmnop https://chatgpt.com/c/abc"),
        Field(B, "d", "nothing to see"),
    ]
    ctx = Context(_ex(), fields)
    assert prefilter(ctx, use_hyperscan=True) == prefilter(ctx, use_hyperscan=False)
    assert set(prefilter(ctx)) >= {"email", "card", "phone_intl", "cn_id", "ssn", "iban", "data_uri", "api_key", "chat_url"}


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        ("luhn", "4242424242424242", "4242424242424241"),
        ("iban", "FR1420041010050500013M02606", "FR1420041010050500013M02607"),
        ("imei", "358240051111110", "358240051111111"),
        ("mac", "3c:22:fb:7a:19:04", "02:00:00:00:00:00"),
        ("birth_date", "1990-02-28", "1990-02-30"),
        ("ip", "2001:db8::1", "999.1.1.1"),
        ("event_name", "Prompt Submitted", "5f1b2c3d-aaaa-bbbb-cccc-000000000000"),
        ("timezone", "Europe/London", "London"),
    ],
)
def test_validators(validator: str, good: str, bad: str) -> None:
    fn = getattr(validators, validator)
    assert fn(good) and not fn(bad)


def test_every_lexicon_entry_has_a_source_and_a_date() -> None:
    from importlib import resources

    data = json.loads(resources.files("auditor").joinpath("data/lexicons.json").read_text(encoding="utf-8"))
    entries = [*data["groups"].values(), *data["lists"].values(), *data["prompt_formats"], data["chat_urls"], data["conversation_paths"], *data["path_rules"]]
    assert entries and all(e.get("source") and e.get("as_of") for e in entries)
    for g in data["groups"].values():
        if "validator" in g:
            assert g["validator"] in validators.VALIDATORS


def test_email_with_a_utf8_local_part_is_found() -> None:
    from auditor.audit.pipeline import Auditor
    from auditor.classifiers.email import find_emails
    from auditor.models import Exchange

    assert find_emails("write to müller@example.de, jürgen.ß@beispiel.de or 张伟@example.cn") == [
        "müller@example.de", "jürgen.ß@beispiel.de", "张伟@example.cn"]
    ex = Exchange(capture=0, index=0, id="x", method="POST", scheme="https", host="api.example.com", port=443, path="/",
                  request_headers=[("content-type", "application/json")],
                  request_body='{"note": "write to müller@example.de"}'.encode())
    assert [(f.category, f.value) for f in Auditor().add_exchange(ex)] == [("email", "müller@example.de")]
