// posthog-js with session recording (the recorder bundled, as posthog-js/dist/posthog-recorder).
import posthog from "posthog-js";
import "posthog-js/dist/posthog-recorder";
import { PLANTED as P, position, start, ownBackend } from "../lib/chat.js";

posthog.init(P.KEYS.posthog, {
  api_host: "https://us.i.posthog.com",
  person_profiles: "identified_only",
  disable_session_recording: false,
  session_recording: { maskAllInputs: true },
  disable_surveys: true,
  advanced_disable_decide: false,
  request_batching: false,
  opt_out_useragent_filter: true, // headless Chromium is taken for a bot otherwise (the documented switch for end-to-end tests)
});
posthog.startSessionRecording();

start({
  async signIn({ email, name }) {
    const pos = await position();
    posthog.identify(P.USER_ID, { email, name, phone: P.PHONE, $latitude: pos && pos.latitude, $longitude: pos && pos.longitude, city: P.CITY });
  },
  async send(prompt) {
    posthog.capture("chat_message_sent", { message: prompt });
    return ownBackend(prompt);
  },
});
