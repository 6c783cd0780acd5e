// rrweb records the page; the app ships the events to its own backend every second.
import { record } from "rrweb";
import { start, ownBackend } from "../lib/chat.js";

let events = [];
record({ emit: (e) => events.push(e) });
setInterval(() => {
  if (!events.length) return;
  const batch = events;
  events = [];
  fetch("/api/replay", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ events: batch }) });
}, 1000);

start({
  async signIn({ email }) {
    await fetch("/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });
  },
  send: ownBackend,
});
