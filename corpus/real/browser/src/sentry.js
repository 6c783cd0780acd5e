// @sentry/browser with session replay (text unmasked, inputs masked: replay's default for inputs).
import * as Sentry from "@sentry/browser";
import { PLANTED as P, start, ownBackend } from "../lib/chat.js";

Sentry.init({
  dsn: P.SENTRY_DSN,
  release: "chat-web@2.3.0",
  sendDefaultPii: true,
  integrations: [Sentry.replayIntegration({ maskAllText: false, blockAllMedia: true })],
  replaysSessionSampleRate: 1.0,
  replaysOnErrorSampleRate: 1.0,
});

start({
  async signIn({ email, name }) {
    Sentry.setUser({ id: P.USER_ID, email, username: name });
  },
  async send(prompt) {
    const answer = await ownBackend(prompt);
    Sentry.addBreadcrumb({ category: "chat", message: "message sent", level: "info" });
    Sentry.captureException(new Error("quota exceeded for plan free"));
    return answer;
  },
});
