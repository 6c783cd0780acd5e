// The Anthropic client called from the page itself (dangerouslyAllowBrowser).
import Anthropic from "@anthropic-ai/sdk";
import { PLANTED as P, start } from "../lib/chat.js";

const client = new Anthropic({ apiKey: P.KEYS.anthropic, dangerouslyAllowBrowser: true, maxRetries: 0 });

start({
  async send(prompt) {
    const r = await client.messages.create({
      model: "claude-sonnet-4-5", max_tokens: 256, system: "You are a concise, friendly assistant.",
      messages: [{ role: "user", content: prompt }], metadata: { user_id: P.USER_ID },
    });
    return r.content[0].text;
  },
});
