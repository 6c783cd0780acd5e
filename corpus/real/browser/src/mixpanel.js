// mixpanel-browser: page views tracked, people properties set at sign-in, the message as an event property.
import mixpanel from "mixpanel-browser";
import { PLANTED as P, position, start, ownBackend } from "../lib/chat.js";

mixpanel.init(P.KEYS.mixpanel, { track_pageview: true, batch_flush_interval_ms: 500, persistence: "localStorage" });

start({
  async signIn({ email, name }) {
    const pos = await position();
    mixpanel.identify(P.USER_ID);
    mixpanel.people.set({ $email: email, $name: name, $phone: P.PHONE, $city: P.CITY, ...(pos ? { $latitude: pos.latitude, $longitude: pos.longitude } : {}) });
  },
  async send(prompt) {
    mixpanel.track("chat_message_sent", { message: prompt });
    return ownBackend(prompt);
  },
});
