"""Client programs run through ``auditor run`` in the live tests. Each uses only the proxy
settings and CA that ``auditor run`` puts in its environment."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time


def openai_stream() -> None:
    """Streamed chat completion with the openai SDK; prints chunk arrival times as JSON."""
    import openai

    client = openai.OpenAI(base_url="https://api.deepseek.com/v1", api_key="sk-5f1e0c9a3b7d4e2f8a6c1b0d9e7f3a2c")
    times = []
    text = []
    stream = client.chat.completions.create(
        model="deepseek-chat",
        messages=[
            {"role": "system", "content": "You are a helpful assistant that writes concise replies."},
            {"role": "user", "content": "My email is jane.doe@example.org, remind me of my GP appointment."},
        ],
        stream=True,
    )
    for chunk in stream:
        times.append(time.monotonic())
        if chunk.choices and chunk.choices[0].delta.content:
            text.append(chunk.choices[0].delta.content)
    print(json.dumps({"chunks": len(times), "spread": times[-1] - times[0], "text": "".join(text)}))


def websocket_chat() -> None:
    """A Copilot-style WebSocket chat with aiohttp (proxy from the environment)."""
    import ssl

    import aiohttp

    async def main() -> None:
        # aiohttp takes no proxy from the environment for wss://, so pass what auditor run set.
        tls = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        async with aiohttp.ClientSession() as session, session.ws_connect(
            "wss://copilot.microsoft.com/c/api/chat?api-version=2", proxy=os.environ["HTTPS_PROXY"], ssl=tls
        ) as ws:
            await ws.send_str(json.dumps({"event": "setOptions", "supportedFeatures": []}))
            await ws.send_str(
                json.dumps(
                    {
                        "event": "send",
                        "conversationId": "Hk3nP9qR2sT5vW8xY1zA4bC7",
                        "content": [{"type": "text", "text": "Plan my week around my chemotherapy sessions"}],
                        "mode": "chat",
                    }
                )
            )
            received = 0
            async for msg in ws:
                received += 1
                if json.loads(msg.data).get("event") == "done":
                    break
            print(json.dumps({"received": received}))

    asyncio.run(main())


def chromium_page() -> None:
    """Headless Chromium (Debian's package) loads the chat web app through the proxy."""
    from playwright.sync_api import sync_playwright

    proxy = os.environ["HTTPS_PROXY"]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            proxy={"server": proxy},
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-features=OptimizationHints,MediaRouter,Translate", "--disable-default-apps"],
        )
        page = browser.new_context(ignore_https_errors=True).new_page()
        page.goto("https://chat.deepseek.com/")
        page.wait_for_function("document.title === 'done'", timeout=20000)
        print(json.dumps({"answer": page.inner_text("#answer")}))
        browser.close()


def chromium_site(har_path: str) -> None:
    """Headless Chromium opens a chat site (chat.parlochat.com) that calls a public AI API, an
    analytics host, an ad server and a CDN; Playwright also writes the session as a HAR."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            proxy={"server": os.environ["HTTPS_PROXY"]},
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        context = browser.new_context(ignore_https_errors=True, record_har_path=har_path)
        page = context.new_page()
        page.goto("https://chat.parlochat.com/")
        page.fill("#prompt", "Help me answer my landlord about the deposit for flat 12, Rue Cler")
        page.keyboard.press("Enter")
        page.wait_for_function("document.title === 'done'", timeout=30000)
        print(json.dumps({"answer": page.inner_text("#answer")}))
        context.close()  # writes the HAR
        browser.close()


COPIED_PROMPT = "Draft a letter to my insurer about the water damage in flat 4B on Elm Street"


def copied_prompt(order: str) -> None:
    """A chat request and an analytics event that holds a copy of its prompt, sent one after
    the other (``analytics-first`` or ``chat-first``) with httpx through the proxy."""
    import httpx

    chat = (
        "https://api.deepseek.com/v1/chat/completions",
        {"model": "deepseek-chat", "messages": [{"role": "user", "content": COPIED_PROMPT}]},
        {"Authorization": "Bearer sk-5f1e0c9a3b7d4e2f8a6c1b0d9e7f3a2c"},
    )
    event = ("https://events.statsigapi.net/v1/rgstr", {"events": [{"eventName": "composer_submit", "metadata": {"label": COPIED_PROMPT}}]}, {})
    steps = [event, chat] if order == "analytics-first" else [chat, event]
    with httpx.Client(proxy=os.environ["HTTPS_PROXY"], verify=os.environ["SSL_CERT_FILE"]) as client:
        for url, body, headers in steps:
            client.post(url, json=body, headers=headers).raise_for_status()
    print(json.dumps({"order": order}))


if __name__ == "__main__":
    if sys.argv[1] == "copied-prompt":
        copied_prompt(sys.argv[2])
    elif sys.argv[1] == "chromium-site":
        chromium_site(sys.argv[2])
    else:
        {"openai": openai_stream, "websocket": websocket_chat, "chromium": chromium_page}[sys.argv[1]]()
