// The openai client called from the page itself (dangerouslyAllowBrowser).
import OpenAI from "openai";
import { PLANTED as P, start } from "../lib/chat.js";

const client = new OpenAI({ apiKey: P.KEYS.openai, dangerouslyAllowBrowser: true, maxRetries: 0 });

start({
  async send(prompt) {
    const r = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "system", content: "You are a concise, friendly assistant." }, { role: "user", content: prompt }],
      safety_identifier: P.USER_ID,
    });
    return r.choices[0].message.content;
  },
});
