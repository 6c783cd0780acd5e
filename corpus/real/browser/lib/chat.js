// The chat page's own logic, shared by every SDK page (imported by src/NAME.js).
// hooks.signIn({email, name}) and hooks.send(prompt) are where each page calls its SDK.

// The signed-in user's profile and the SDK keys: planted.py's values, handed to the page by the
// driver before any script runs (so no planted value is ever in a response on the wire).
export const PLANTED = window.__PLANTED;

export function position() {
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude }),
      () => resolve(null),
      { timeout: 3000 },
    );
  });
}

async function ownBackend(prompt) {
  const r = await fetch("/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: prompt }] }),
  });
  const body = await r.json();
  return body.choices ? body.choices[0].message.content : "ok";
}

function say(who, text) {
  const p = document.createElement("p");
  p.textContent = `${who}: ${text}`;
  document.getElementById("log").appendChild(p);
}

export function start(hooks) {
  const status = document.getElementById("status");
  document.getElementById("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const email = document.getElementById("email").value;
    const name = document.getElementById("name").value;
    await (hooks.signIn || (() => {}))({ email, name });
    say("signed in", name);
    status.textContent = "signed-in";
  });
  document.getElementById("chat").addEventListener("submit", async (e) => {
    e.preventDefault();
    const prompt = document.getElementById("prompt").value;
    say("you", prompt);
    status.textContent = "sending";
    try {
      const answer = await (hooks.send || ownBackend)(prompt);
      say("assistant", answer);
    } catch (err) {
      say("error", String(err));
    }
    status.textContent = "answered";
  });
  status.textContent = "ready";
}

export { ownBackend };
