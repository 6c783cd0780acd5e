// @segment/analytics-next loaded from npm (its settings still come from Segment's CDN host).
import { AnalyticsBrowser } from "@segment/analytics-next";
import { PLANTED as P, position, start, ownBackend } from "../lib/chat.js";

const analytics = AnalyticsBrowser.load({ writeKey: P.KEYS.segment });
analytics.page();

start({
  async signIn({ email, name }) {
    const pos = await position();
    await analytics.identify(P.USER_ID, { email, name, phone: P.PHONE, address: { city: P.CITY } },
      pos ? { context: { location: { latitude: pos.latitude, longitude: pos.longitude } } } : {});
  },
  async send(prompt) {
    await analytics.track("chat_message_sent", { plan: "free", length: prompt.length });
    return ownBackend(prompt);
  },
});
