// @amplitude/analytics-browser with its default autocapture; the app sets the device id it keeps.
import * as amplitude from "@amplitude/analytics-browser";
import { PLANTED as P, position, start, ownBackend } from "../lib/chat.js";

amplitude.init(P.KEYS.amplitude, { deviceId: P.DEVICE_ID, flushIntervalMillis: 500 });

start({
  async signIn({ email, name }) {
    const pos = await position();
    amplitude.setUserId(P.USER_ID);
    const id = new amplitude.Identify().set("email", email).set("name", name).set("phone", P.PHONE).set("city", P.CITY);
    if (pos) id.set("latitude", pos.latitude).set("longitude", pos.longitude);
    amplitude.identify(id);
  },
  async send(prompt) {
    amplitude.track("chat_message_sent", { plan: "free", length: prompt.length });
    return ownBackend(prompt);
  },
});
